// The signed-in user's own sessions (the board's "Your sessions" page): list, and revoke one —
// e.g. a browser left signed in on another machine. Nobody sees or ends another user's sessions here.

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

/** The public id of a session: the start of its id hash (the hash itself never authenticates). */
const publicId = (idHash: string) => idHash.slice(0, 16);

const sessionsOnly = (via: string) => {
  if (via !== 'session') throw new ApiError(403, 'E_API_FORBIDDEN', 'service tokens have no sessions: revoke a token with `lotgate token revoke`');
};

export function boardSessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/api/v1/me/sessions',
    {
      onRequest: guard(ctx, null),
      schema: {
        tags: ['auth'],
        summary: 'Your own sessions, newest first (this one is marked current)',
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    createdAt: { type: 'string' },
                    lastSeenAt: { type: 'string' },
                    expiresAt: { type: 'string' },
                    ip: { type: ['string', 'null'] },
                    userAgent: { type: ['string', 'null'] },
                    current: { type: 'boolean' },
                    active: { type: 'boolean' },
                    revokedReason: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          401: errorSchema,
          403: errorSchema,
        },
      },
    },
    async (req) => {
      sessionsOnly(req.who!.via);
      const now = ctx.now().toISOString();
      const items = (await ctx.store.auth.listSessionsOf(req.who!.principal.id)).map((s) => ({
        id: publicId(s.idHash),
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: s.expiresAt,
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.idHash === req.who!.sessionHash,
        active: s.revokedAt === null && s.expiresAt > now,
        revokedReason: s.revokedReason,
      }));
      return { items: items.slice(0, 100) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/me/sessions/:id/revoke',
    {
      onRequest: guard(ctx, null),
      schema: {
        tags: ['auth'],
        summary: 'End one of your own sessions',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
        response: { 204: { type: 'null' }, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      sessionsOnly(req.who!.via);
      const me = req.who!.principal.id;
      const s = (await ctx.store.auth.listSessionsOf(me)).find((x) => publicId(x.idHash) === req.params.id && x.revokedAt === null);
      if (!s) throw notFound(`session ${req.params.id}`);
      await ctx.store.auth.revokeSession(s.idHash, 'revoked by its user');
      await ctx.store.audit.appendAudit({ actor: `principal:${me}`, action: 'auth.session.revoked', subject: `principal:${me}`, details: { session: req.params.id, by: 'self', ip: req.ip }, at: ctx.now().toISOString() });
      return reply.code(204).send();
    },
  );
}
