// /api/v1/outbox: the messages to ERP/QMS with their deliveries, retrying a dead one, holding a
// message back from the push job and releasing it. The
// payloads name lots of every site, so only unscoped holders of the permissions see them.

import type { FastifyInstance } from 'fastify';
import type { OutboxState } from '../store/store.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';
import { holdOutboxMessage, releaseOutboxMessage } from '../outbound/outbox-hold.js';

const STATES: OutboxState[] = ['pending', 'sent', 'dead', 'held'];
const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };
const whole = (access: unknown) => {
  if (access !== 'all') throw new ApiError(403, 'E_API_FORBIDDEN', 'outbox messages cover every site and partner: this needs an unscoped binding');
};

export function outboxRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { state?: OutboxState; topic?: string; onHold?: boolean; limit?: number } }>(
    '/api/v1/outbox',
    {
      onRequest: guard(ctx, 'outbox:read'),
      schema: {
        tags: ['outbox'],
        summary: 'Messages to ERP/QMS, newest first, with their deliveries per connector',
        querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: STATES }, topic: { type: 'string', maxLength: 100 }, onHold: { type: 'boolean', description: 'only messages an operator holds (true) or does not hold (false)' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', additionalProperties: true } }, counts: { type: 'object', additionalProperties: true }, onHold: { type: 'integer', description: 'messages an operator holds, whatever their state' } } }, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      const rows = await ctx.store.outbox.listOutbox({ state: req.query.state, topic: req.query.topic, onHold: req.query.onHold, limit: req.query.limit ?? 100 });
      const deliveries = await ctx.store.outbox.listDeliveriesOf(rows.map((r) => r.id));
      return { items: rows.map((r) => ({ ...r, deliveries: deliveries.get(r.id) ?? [] })), counts: await ctx.store.outbox.countOutbox(), onHold: await ctx.store.outbox.countOutboxOnHold() };
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
      if (!(await ctx.store.outbox.getOutbox(id))) throw notFound(`outbox message ${id}`);
      const who = req.who!.principal;
      const r = await ctx.store.transaction(async (tx) => {
        const res = await tx.outbox.retryDeadOutbox(id, ctx.now());
        if (res.retried) await tx.audit.appendAudit({ actor: `principal:${who.id}`, action: 'outbox.retry', subject: `outbox:${id}`, details: { by: who.username, deliveries: res.deliveries }, at: ctx.now().toISOString() });
        return res;
      });
      return { id, ...r, state: (await ctx.store.outbox.getOutbox(id))!.state };
    },
  );

  for (const action of ['hold', 'release'] as const) {
    app.post<{ Params: { id: string }; Body: { reason: string } }>(
      `/api/v1/outbox/:id/${action}`,
      {
        onRequest: guard(ctx, 'outbox:manage'),
        schema: {
          tags: ['outbox'],
          summary:
            action === 'hold'
              ? 'Hold a message not yet sent: the push job leaves it (and the newer messages of its key) alone until released'
              : 'Release a held message: the next push sends it',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 128 } } },
          body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } } },
          response: {
            200: { type: 'object', required: ['id', 'changed', 'held', 'state'], properties: { id: { type: 'string' }, changed: { type: 'boolean' }, held: { type: 'boolean' }, state: { type: 'string', enum: STATES } } },
            ...errs,
          },
        },
      },
      async (req) => {
        whole(req.access);
        const id = req.params.id;
        if (!(await ctx.store.outbox.getOutbox(id))) throw notFound(`outbox message ${id}`);
        const p = req.who!.principal;
        const who = { actor: `principal:${p.id}`, by: p.username };
        return await (action === 'hold' ? holdOutboxMessage(ctx.store, id, who, req.body.reason, ctx.now()) : releaseOutboxMessage(ctx.store, id, who, req.body.reason, ctx.now()));
      },
    );
  }
}
