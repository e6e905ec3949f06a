// /api/v1/lots/:lotId/requests: asking a partner for a missing document of a lot, and the lot's
// open requests. A request is stored, audited (`lot.document_requested`) and — from that audit
// event — sent by the notify job through the notification rules (event `document_requested`) to
// the partner's `contacts`. Only lots within the caller's scope; the partner must be one that
// told lotgate something about the lot, and within the caller's partner scope.

import type { FastifyInstance } from 'fastify';
import { partnersIn } from '../auth/permissions.js';
import type { DocumentType } from '../model/types.js';
import type { DocumentRequestRow } from '../store/store.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

const DOCUMENT_TYPES: DocumentType[] = ['coa', 'batch_record', 'packaging_record', 'test_report', 'label_approval'];
const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };
const params = { type: 'object', required: ['lotId'], properties: { lotId: { type: 'integer', minimum: 1 } } } as const;
const requestSchema = {
  type: 'object',
  required: ['id', 'lotId', 'partner', 'documentType', 'message', 'requestedBy', 'requestedAt', 'state'],
  properties: {
    id: { type: 'integer' },
    lotId: { type: 'integer' },
    partner: { type: 'string' },
    documentType: { type: 'string' },
    message: { type: 'string' },
    requestedBy: { type: 'string' },
    requestedAt: { type: 'string', format: 'date-time' },
    state: { type: 'string', enum: ['open', 'fulfilled', 'closed'], description: 'fulfilled: a document of this type from this partner arrived after the request' },
    closedAt: { type: 'string', nullable: true },
    fulfilledAt: { type: 'string', nullable: true },
  },
} as const;

export function documentRequestRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { lotId: number }; Body: { documentType: string; message: string; partner?: string } }>(
    '/api/v1/lots/:lotId/requests',
    {
      onRequest: guard(ctx, 'documents:request'),
      schema: {
        tags: ['lots'],
        summary: 'Ask the partner for a missing document of the lot (notification `document_requested` to its contacts)',
        params,
        body: {
          type: 'object',
          required: ['documentType', 'message'],
          additionalProperties: false,
          properties: {
            documentType: { type: 'string', enum: DOCUMENT_TYPES, description: 'the canonical document type the partner is to send' },
            message: { type: 'string', minLength: 1, maxLength: 2000 },
            partner: { type: 'string', maxLength: 64, description: 'needed when more than one partner reported on the lot' },
          },
        },
        response: { 201: requestSchema, ...errs },
      },
    },
    async (req, reply) => {
      const access = req.access!;
      const lotId = req.params.lotId;
      if ((await ctx.store.reads.lotIdInScope(access, lotId)) === undefined) throw notFound(`lot ${lotId}`);
      const lot = (await ctx.store.masterdata.getLotRow(lotId))!;
      const visible = partnersIn(access);
      const known = ctx.partners();
      // Partners that can send documents: not the ERP/QMS feeding master data.
      const candidates = (await ctx.store.notifications.partnersOfLot(lotId))
        .filter((p) => known.has(p) && !['erp', 'qms'].includes(known.get(p)!.role))
        .filter((p) => visible === '*' || visible.includes(p));
      const partner = req.body.partner ?? (candidates.length === 1 ? candidates[0] : undefined);
      if (partner === undefined) {
        throw new ApiError(
          400,
          'E_API_REQUEST_PARTNER',
          candidates.length
            ? `several partners reported on lot ${lot.materialId} / ${lot.lotNumber} (${candidates.join(', ')}): name one in "partner"`
            : `no partner has reported on lot ${lot.materialId} / ${lot.lotNumber} yet: name the partner in "partner"`,
        );
      }
      if (!known.has(partner) || (visible !== '*' && !visible.includes(partner))) throw notFound(`partner ${partner}`);
      const p = req.who!.principal;
      const at = ctx.now().toISOString();
      const row = await ctx.store.transaction(async (tx) => {
        const r = await tx.notifications.insertDocumentRequest({ lotId, partner, documentType: req.body.documentType, message: req.body.message, requestedBy: p.username });
        await tx.audit.appendAudit({
          actor: `principal:${p.id}`,
          action: 'lot.document_requested',
          subject: `lot:${lot.materialId}/${lot.lotNumber}`,
          details: { request: r.id, partner, documentType: r.documentType, message: r.message, requestedBy: p.displayName || p.username },
          at,
        });
        return r;
      });
      return reply.code(201).send(row);
    },
  );

  app.get<{ Params: { lotId: number }; Querystring: { all?: boolean } }>(
    '/api/v1/lots/:lotId/requests',
    {
      onRequest: guard(ctx, 'lots:read'),
      schema: {
        tags: ['lots'],
        summary: 'The documents requested from partners for this lot: the open ones (`all=true`: with the fulfilled ones)',
        params,
        querystring: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean', default: false } } },
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: requestSchema } } }, ...errs },
      },
    },
    async (req) => {
      if ((await ctx.store.reads.lotIdInScope(req.access!, req.params.lotId)) === undefined) throw notFound(`lot ${req.params.lotId}`);
      const visible = partnersIn(req.access!);
      const items: DocumentRequestRow[] = (await ctx.store.notifications.listDocumentRequests(req.params.lotId, req.query.all ?? false)).filter((r) => visible === '*' || visible.includes(r.partner));
      return { items };
    },
  );
}
