// GET /api/v1/audit: searching the hash-chained audit trail (auditor, admin). Filters: subject,
// actor, action prefix, time window; newest first, cursor-paged. A scoped binding sees only the
// events about lots and submissions within its scope (store/areas/audit.ts searchAudit).

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';

const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema };
const eventSchema = {
  type: 'object',
  required: ['seq', 'at', 'actor', 'action', 'subject', 'hash', 'prevHash'],
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    subject: { type: 'string', nullable: true },
    details: {},
    prevHash: { type: 'string' },
    hash: { type: 'string' },
  },
} as const;

interface AuditQuery {
  subject?: string;
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
}

export function auditRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: AuditQuery }>(
    '/api/v1/audit',
    {
      onRequest: guard(ctx, 'audit:read'),
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first: filter by subject, actor, action prefix and time; page with `cursor`',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            subject: { type: 'string', maxLength: 300, description: 'exact, e.g. lot:000000000010012345/NW26-0411, submission:14, principal:3, outbox:<id>' },
            actor: { type: 'string', maxLength: 300, description: 'exact, e.g. principal:3, submission:14, cli:alice' },
            action: { type: 'string', maxLength: 100, description: 'prefix: `auth.` for every authentication event, `outbox.hold` for one action' },
            from: { type: 'string', format: 'date-time' },
            to: { type: 'string', format: 'date-time' },
            cursor: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
        },
        response: { 200: { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: eventSchema }, nextCursor: { type: 'string', nullable: true } } }, ...errs },
      },
    },
    async (req) => {
      const q = req.query;
      const iso = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const t = Date.parse(v);
        if (Number.isNaN(t)) throw new ApiError(400, 'E_API_REQUEST', `${name} is not a date-time: ${v}`);
        return new Date(t).toISOString();
      };
      const r = await ctx.store.audit.searchAudit(req.access!, {
        subject: q.subject,
        actor: q.actor,
        actionPrefix: q.action,
        from: iso(q.from, 'from'),
        to: iso(q.to, 'to'),
        beforeSeq: q.cursor === undefined ? undefined : Number(q.cursor),
        limit: q.limit ?? 100,
      });
      return { items: r.items, nextCursor: r.nextBeforeSeq === null ? null : String(r.nextBeforeSeq) };
    },
  );
}
