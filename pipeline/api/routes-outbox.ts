// /api/v1/outbox: the messages to ERP/QMS with their deliveries, and retrying a dead one. The
// payloads name lots of every site, so only unscoped holders of the permissions see them.

import type { FastifyInstance } from 'fastify';
import type { OutboxState } from '../store/store.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

const STATES: OutboxState[] = ['pending', 'sent', 'dead', 'held'];
const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };
const whole = (access: unknown) => {
  if (access !== 'all') throw new ApiError(403, 'E_API_FORBIDDEN', 'outbox messages cover every site and partner: this needs an unscoped binding');
};

export function outboxRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { state?: OutboxState; topic?: string; limit?: number } }>(
    '/api/v1/outbox',
    {
      onRequest: guard(ctx, 'outbox:read'),
      schema: {
        tags: ['outbox'],
        summary: 'Messages to ERP/QMS, newest first, with their deliveries per connector',
        querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: STATES }, topic: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', additionalProperties: true } }, counts: { type: 'object', additionalProperties: true } } }, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      const rows = ctx.store.listOutbox({ state: req.query.state, topic: req.query.topic, limit: req.query.limit ?? 100 });
      const deliveries = ctx.store.listDeliveriesOf(rows.map((r) => r.id));
      return { items: rows.map((r) => ({ ...r, deliveries: deliveries.get(r.id) ?? [] })), counts: ctx.store.countOutbox() };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/outbox/:id/retry',
    {
      onRequest: guard(ctx, 'outbox:manage'),
      schema: {
        tags: ['outbox'],
        summary: 'Put a dead message back in the queue (its dead deliveries start over)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 128 } } },
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, retried: { type: 'boolean' }, deliveries: { type: 'integer' }, state: { type: 'string' } } }, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      const id = req.params.id;
      if (!ctx.store.getOutbox(id)) throw notFound(`outbox message ${id}`);
      const who = req.who!.principal;
      const r = ctx.store.transaction(() => {
        const res = ctx.store.retryDeadOutbox(id, ctx.now());
        if (res.retried) ctx.store.appendAudit({ actor: `principal:${who.id}`, action: 'outbox.retry', subject: `outbox:${id}`, details: { by: who.username, deliveries: res.deliveries }, at: ctx.now().toISOString() });
        return res;
      });
      return { id, ...r, state: ctx.store.getOutbox(id)!.state };
    },
  );
}
