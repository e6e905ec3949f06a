// GET /api/v1/mappings/:partner — the read-only view of a partner's mapping files for the board:
// per feed, the YAML as written, its hash, globs, what it emits and its diagnostics. Analysts then
// try one on a sample with POST /api/v1/mappings/:partner/test (routes-mappings.ts).

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { partnersIn } from '../auth/permissions.js';
import { formatDiagnostic } from '../mapping/diagnostics.js';
import { MappingCatalog } from '../mapping/catalog.js';
import type { ApiContext } from './context.js';
import { errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

export function boardMappingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const catalog = ctx.ingest?.mappings ?? new MappingCatalog(ctx.config.mappingsDir);
  app.get<{ Params: { partner: string } }>(
    '/api/v1/mappings/:partner',
    {
      onRequest: guard(ctx, 'mappings:test'),
      schema: {
        tags: ['mappings'],
        summary: "The partner's mapping files, read-only: YAML source, hash, globs, records emitted, diagnostics",
        params: { type: 'object', required: ['partner'], properties: { partner: { type: 'string', maxLength: 64 } } },
        response: { 200: { type: 'object', properties: { partner: { type: 'string' }, items: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      const visible = partnersIn(req.access!);
      const partner = ctx.partners().get(req.params.partner);
      if (!partner || (visible !== '*' && !visible.includes(partner.id))) throw notFound(`partner ${req.params.partner}`);
      return {
        partner: partner.id,
        items: catalog.entries(partner.id).map((e) => ({
          feed: e.feed,
          name: e.name,
          hash: e.hash,
          valid: e.spec !== undefined,
          format: e.spec?.format ?? null,
          version: e.spec?.version ?? null,
          description: e.spec?.description ?? null,
          match: e.spec?.match ?? e.match ?? [],
          emits: e.spec ? [...new Set(e.spec.records.map((r) => r.emit))] : [],
          diagnostics: e.diagnostics.map(formatDiagnostic),
          source: readFileSync(e.path, 'utf8'),
        })),
      };
    },
  );
}
