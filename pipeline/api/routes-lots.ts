// /api/v1/lots: the board (filters, cursor pages, CSV), one lot, the provenance of a fact, the
// lot's timeline. Every read runs within the caller's scope; a lot outside it is "not found".

import type { FastifyInstance } from 'fastify';
import { accessFor } from '../auth/permissions.js';
import type { ReadinessState } from '../model/types.js';
import { lotTimeline, lotView } from '../read/lot.js';
import { CursorError, listAllLots, listLotPage, READINESS_STATES } from '../read/lots.js';
import { lotsCsv } from '../read/lots-csv.js';
import { factProvenance } from '../read/provenance.js';
import type { LotFilters } from '../store/store.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

export interface LotQuery {
  readiness?: string;
  late?: boolean;
  partner?: string;
  site?: string;
  material?: string;
  po?: string;
  lotPrefix?: string;
  expiryFrom?: string;
  expiryTo?: string;
  openDeviation?: boolean;
  missingDoc?: string;
  oos?: boolean;
  q?: string;
  cursor?: string;
  limit?: number;
  format?: 'json' | 'csv';
}

const str = { type: 'string', maxLength: 200 } as const;
export const lotQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    readiness: { type: 'string', description: `comma-separated: ${READINESS_STATES.join(', ')}`, maxLength: 100 },
    late: { type: 'boolean' },
    partner: str,
    site: str,
    material: str,
    po: str,
    lotPrefix: str,
    expiryFrom: { type: 'string', format: 'date' },
    expiryTo: { type: 'string', format: 'date' },
    openDeviation: { type: 'boolean' },
    missingDoc: { ...str, description: 'a required document type the readiness found missing, e.g. coa' },
    oos: { type: 'boolean', description: 'lots with (true) or without (false) an out-of-specification result' },
    q: { ...str, description: 'free text over lot number, material id and description, PO number' },
    cursor: { type: 'string', maxLength: 1000 },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    format: { type: 'string', enum: ['json', 'csv'], default: 'json' },
  },
} as const;

const lotItemSchema = { type: 'object', additionalProperties: true, properties: { lotId: { type: 'integer' }, lotNumber: { type: 'string' }, materialId: { type: 'string' } } } as const;
const lotIdParams = { type: 'object', required: ['lotId'], properties: { lotId: { type: 'integer', minimum: 1 } } } as const;
const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };

export function filtersOf(q: LotQuery): LotFilters {
  let readiness: ReadinessState[] | undefined;
  if (q.readiness) {
    readiness = q.readiness.split(',').map((s) => s.trim().toUpperCase()) as ReadinessState[];
    const bad = readiness.filter((s) => !READINESS_STATES.includes(s));
    if (bad.length) throw new ApiError(400, 'E_API_FILTER', `readiness ${bad.join(', ')} is not a state: use ${READINESS_STATES.join(', ')}`);
  }
  return {
    readiness,
    late: q.late,
    partner: q.partner,
    site: q.site,
    materialId: q.material,
    po: q.po,
    lotPrefix: q.lotPrefix,
    expiryFrom: q.expiryFrom,
    expiryTo: q.expiryTo,
    openDeviation: q.openDeviation,
    missingDocType: q.missingDoc,
    oos: q.oos,
    q: q.q,
  };
}

export function lotRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: LotQuery }>(
    '/api/v1/lots',
    {
      onRequest: guard(ctx, 'lots:read'),
      schema: {
        tags: ['lots'],
        summary: 'The readiness board: filters, cursor pagination, format=csv (export permission)',
        querystring: lotQuerySchema,
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: lotItemSchema }, nextCursor: { type: ['string', 'null'] }, total: { type: 'integer' } },
          },
          ...errs,
        },
      },
    },
    async (req, reply) => {
      const filters = filtersOf(req.query);
      if (req.query.format === 'csv') {
        const access = accessFor(req.who!.principal, 'lots:export');
        if (access === null) throw new ApiError(403, 'E_API_FORBIDDEN', 'your roles do not include the permission lots:export');
        const items = await listAllLots(ctx.store, access, filters);
        // The signature cell of every lot, read before the CSV is written (lotsCsv asks for it synchronously).
        const cells = new Map<number, string>();
        for (const l of items) {
          const last = (await ctx.store.auth.listLotSignatures(l.lotId)).at(-1);
          cells.set(l.lotId, last ? `${last.decision} signed by ${last.printedName} ${last.signedAt} (${last.localTime} ${last.timeZone}), meaning ${last.meaning}${last.invalidatedAt ? ', INVALIDATED' : ''}` : '');
        }
        const csv = lotsCsv(items, (lotId) => cells.get(lotId) ?? '');
        return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="lots.csv"').serializer((x: unknown) => x as string).send(csv);
      }
      try {
        return await listLotPage(ctx.store, req.access!, filters, { limit: req.query.limit ?? 50, cursor: req.query.cursor });
      } catch (e) {
        if (e instanceof CursorError) throw new ApiError(400, e.code, e.message);
        throw e;
      }
    },
  );

  app.get<{ Params: { lotId: number } }>(
    '/api/v1/lots/:lotId',
    {
      onRequest: guard(ctx, 'lots:read'),
      schema: {
        tags: ['lots'],
        summary: 'One lot: identifiers, stages, tests, documents, deviations, readiness with every reason and its evidence',
        params: lotIdParams,
        response: { 200: { type: 'object', additionalProperties: true }, ...errs },
      },
    },
    async (req) => {
      const v = await lotView(ctx.store, ctx.config, req.access!, req.params.lotId);
      if (!v) throw notFound(`lot ${req.params.lotId}`);
      return v;
    },
  );

  app.get<{ Params: { lotId: number }; Querystring: { submission: number; line?: number } }>(
    '/api/v1/lots/:lotId/provenance',
    {
      onRequest: guard(ctx, 'lots:read'),
      schema: {
        tags: ['lots'],
        summary: 'Where a fact of this lot came from: submission, partner, file, sha256, mapping, line — and the raw row (evidence:raw)',
        params: lotIdParams,
        querystring: { type: 'object', required: ['submission'], additionalProperties: false, properties: { submission: { type: 'integer', minimum: 1 }, line: { type: 'integer', minimum: 1 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              lotId: { type: 'integer' },
              submissionId: { type: 'integer' },
              partner: { type: 'string' },
              originalName: { type: 'string' },
              sha256: { type: 'string' },
              size: { type: 'integer' },
              receivedAt: { type: 'string' },
              source: { type: 'string' },
              mappingName: { type: ['string', 'null'] },
              mappingHash: { type: ['string', 'null'] },
              line: { type: ['integer', 'null'] },
              rawRow: { type: ['string', 'null'] },
              rawRowNote: { type: ['string', 'null'] },
            },
          },
          ...errs,
        },
      },
    },
    async (req) => {
      const p = await factProvenance(ctx.store, req.access!, req.params.lotId, req.query.submission, req.query.line);
      if (!p) throw notFound(`fact of lot ${req.params.lotId} from submission ${req.query.submission}${req.query.line ? ` line ${req.query.line}` : ''}`);
      // The raw row is evidence: only for roles that may see raw evidence of this lot.
      const raw = accessFor(req.who!.principal, 'evidence:raw');
      if (raw === null || (await ctx.store.reads.lotIdInScope(raw, p.lotId)) === undefined) return { ...p, rawRow: null, rawRowNote: 'raw evidence needs the evidence:raw permission' };
      return p;
    },
  );

  app.get<{ Params: { lotId: number }; Querystring: { limit?: number } }>(
    '/api/v1/lots/:lotId/timeline',
    {
      onRequest: guard(ctx, 'lots:read'),
      schema: {
        tags: ['lots'],
        summary: "The lot's history from the audit trail, newest first",
        params: lotIdParams,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...errs },
      },
    },
    async (req) => {
      if ((await ctx.store.reads.lotIdInScope(req.access!, req.params.lotId)) === undefined) throw notFound(`lot ${req.params.lotId}`);
      const lot = (await ctx.store.masterdata.getLotRow(req.params.lotId))!;
      return { items: await lotTimeline(ctx.store, lot, req.query.limit ?? 200) };
    },
  );
}
