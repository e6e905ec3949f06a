// /api/v1/admin: users, role bindings, resets, sessions and service tokens — the API side of
// `lotgate user|token`. Administrators never learn a password: creating a user or resetting one
// answers with a one-time code the user then spends on POST /api/v1/auth/password.

import type { FastifyInstance } from 'fastify';
import { AuthError } from '../auth/service.js';
import { ROLES } from '../auth/permissions.js';
import { parseScopeDim, type Scope } from '../store/scope.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';

const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema };
const anyObject = { type: 'object', additionalProperties: true } as const;
const userParams = { type: 'object', required: ['username'], properties: { username: { type: 'string', maxLength: 64 } } } as const;
const dim = { anyOf: [{ type: 'string', maxLength: 1000 }, { type: 'array', items: { type: 'string', maxLength: 100 }, maxItems: 500 }] } as const;
const scopeSchema = { type: 'object', additionalProperties: false, properties: { sites: dim, materials: dim, partners: dim } } as const;

type DimIn = string | string[] | undefined;
const toScope = (s: { sites?: DimIn; materials?: DimIn; partners?: DimIn } = {}): Scope => {
  const d = (v: DimIn) => (Array.isArray(v) ? (v.includes('*') ? '*' : v) : parseScopeDim(v));
  return { sites: d(s.sites), materials: d(s.materials), partners: d(s.partners) };
};

export function adminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const by = (id: number) => `principal:${id}`;
  const run = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AuthError) throw new ApiError(e.status, e.code, e.message);
      throw e;
    }
  };
  // Administration covers the whole installation: a scoped binding does not suffice.
  const whole = (access: unknown) => {
    if (access !== 'all') throw new ApiError(403, 'E_API_FORBIDDEN', 'user and token administration needs an unscoped admin binding');
  };

  app.get('/api/v1/admin/users', { onRequest: guard(ctx, 'users:manage'), schema: { tags: ['admin'], summary: 'Every principal with roles, MFA state, last login, tokens', response: { 200: { type: 'object', properties: { items: { type: 'array', items: anyObject } } }, ...errs } } }, async (req) => {
    whole(req.access);
    return { items: (await ctx.auth.accessReview(ctx.partners())).principals };
  });

  app.post<{ Body: { username: string; displayName: string; email?: string; partner?: string; role?: string; scope?: { sites?: DimIn; materials?: DimIn; partners?: DimIn } } }>(
    '/api/v1/admin/users',
    {
      onRequest: guard(ctx, 'users:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Add a user (a partner user with `partner`); answers with a one-time activation code',
        body: {
          type: 'object',
          required: ['username', 'displayName'],
          additionalProperties: false,
          properties: { username: { type: 'string', maxLength: 64 }, displayName: { type: 'string', maxLength: 200 }, email: { type: 'string', maxLength: 200 }, partner: { type: 'string', maxLength: 64 }, role: { type: 'string', enum: [...ROLES] }, scope: scopeSchema },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'integer' }, username: { type: 'string' }, activationCode: { type: 'string' }, expiresAt: { type: 'string' } } }, ...errs },
      },
    },
    async (req, reply) => {
      whole(req.access);
      const b = req.body;
      if (b.partner && !ctx.partners().has(b.partner)) throw new ApiError(400, 'E_AUTH_NO_PARTNER', `no partner "${b.partner}" is configured`);
      const actor = by(req.who!.principal.id);
      const out = await run(async () => {
        const p = await ctx.auth.addUser({ username: b.username, displayName: b.displayName, email: b.email, kind: b.partner ? 'partner_user' : 'user', partner: b.partner }, actor);
        if (b.role) await ctx.auth.grant(b.username, b.role, toScope(b.scope), actor);
        const reset = await ctx.auth.issueReset(b.username, actor);
        return { id: p.id, username: p.username, activationCode: reset.code, expiresAt: reset.expiresAt };
      });
      return reply.code(201).send(out);
    },
  );

  app.post<{ Params: { username: string }; Body: { role: string; scope?: { sites?: DimIn; materials?: DimIn; partners?: DimIn }; remove?: boolean } }>(
    '/api/v1/admin/users/:username/roles',
    {
      onRequest: guard(ctx, 'users:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Grant a role within a scope (or remove every binding of it with remove=true)',
        params: userParams,
        body: { type: 'object', required: ['role'], additionalProperties: false, properties: { role: { type: 'string', enum: [...ROLES] }, scope: scopeSchema, remove: { type: 'boolean' } } },
        response: { 200: anyObject, ...errs },
      },
    },
    async (req) => {
      whole(req.access);
      const actor = by(req.who!.principal.id);
      return run(async () => (req.body.remove ? { removed: await ctx.auth.revoke(req.params.username, req.body.role, actor) } : { granted: await ctx.auth.grant(req.params.username, req.body.role, toScope(req.body.scope), actor) }));
    },
  );

  app.post<{ Params: { username: string }; Body: { disabled: boolean } }>(
    '/api/v1/admin/users/:username/state',
    {
      onRequest: guard(ctx, 'users:manage'),
      schema: { tags: ['admin'], summary: 'Disable (revokes sessions and tokens) or enable (also unlocks) a principal', params: userParams, body: { type: 'object', required: ['disabled'], additionalProperties: false, properties: { disabled: { type: 'boolean' } } }, response: { 200: anyObject, ...errs } },
    },
    async (req) => {
      whole(req.access);
      await run(() => ctx.auth.setDisabled(req.params.username, req.body.disabled, by(req.who!.principal.id)));
      return { username: req.params.username, disabled: req.body.disabled };
    },
  );

  app.post<{ Params: { username: string }; Body: { totp?: boolean } }>(
    '/api/v1/admin/users/:username/reset',
    {
      onRequest: guard(ctx, 'users:manage'),
      schema: { tags: ['admin'], summary: 'Reset the password (and with totp=true the TOTP enrolment): a one-time code for the user', params: userParams, body: { type: 'object', additionalProperties: false, properties: { totp: { type: 'boolean' } } }, response: { 200: anyObject, ...errs } },
    },
    async (req) => {
      whole(req.access);
      const actor = by(req.who!.principal.id);
      return run(async () => {
        if (req.body?.totp) await ctx.auth.resetTotp(req.params.username, actor);
        const r = await ctx.auth.issueReset(req.params.username, actor);
        return { username: req.params.username, activationCode: r.code, expiresAt: r.expiresAt };
      });
    },
  );

  app.get<{ Params: { username: string } }>(
    '/api/v1/admin/users/:username/sessions',
    { onRequest: guard(ctx, 'users:manage'), schema: { tags: ['admin'], summary: "A user's sessions (open and ended)", params: userParams, response: { 200: { type: 'object', properties: { items: { type: 'array', items: anyObject } } }, ...errs } } },
    async (req) => {
      whole(req.access);
      const p = await run(() => ctx.auth.requirePrincipal(req.params.username));
      return { items: (await ctx.store.auth.listSessionsOf(p.id)).map(({ idHash: _h, csrfToken: _c, ...s }) => s) };
    },
  );

  app.delete<{ Params: { username: string } }>(
    '/api/v1/admin/users/:username/sessions',
    { onRequest: guard(ctx, 'users:manage'), schema: { tags: ['admin'], summary: 'Revoke every open session of a user', params: userParams, response: { 200: anyObject, ...errs } } },
    async (req) => {
      whole(req.access);
      return { revoked: await run(() => ctx.auth.revokeSessions(req.params.username, by(req.who!.principal.id))) };
    },
  );

  app.get('/api/v1/admin/tokens', { onRequest: guard(ctx, 'tokens:manage'), schema: { tags: ['admin'], summary: 'Service tokens: prefix, expiry, last use and address', response: { 200: { type: 'object', properties: { items: { type: 'array', items: anyObject } } }, ...errs } } }, async (req) => {
    whole(req.access);
    return { items: await ctx.auth.listTokens() };
  });

  app.post<{ Body: { name: string; days: number; partner?: string; role?: string; scope?: { sites?: DimIn; materials?: DimIn; partners?: DimIn } } }>(
    '/api/v1/admin/tokens',
    {
      onRequest: guard(ctx, 'tokens:manage'),
      schema: {
        tags: ['admin'],
        summary: 'Create a service token (shown once); `partner` makes a partner submission token',
        body: {
          type: 'object',
          required: ['name', 'days'],
          additionalProperties: false,
          properties: { name: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }, days: { type: 'integer', minimum: 1 }, partner: { type: 'string', maxLength: 64 }, role: { type: 'string', enum: [...ROLES] }, scope: scopeSchema },
        },
        response: { 201: { type: 'object', properties: { id: { type: 'integer' }, token: { type: 'string' }, principal: { type: 'string' }, expiresAt: { type: 'string' } } }, ...errs },
      },
    },
    async (req, reply) => {
      whole(req.access);
      const b = req.body;
      const out = await run(() => ctx.auth.createToken({ name: b.name, days: b.days, partner: b.partner, role: b.role, scope: toScope(b.scope) }, by(req.who!.principal.id), ctx.partners()));
      return reply.code(201).send(out);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/admin/tokens/:id',
    { onRequest: guard(ctx, 'tokens:manage'), schema: { tags: ['admin'], summary: 'Revoke a service token', params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } }, response: { 200: anyObject, ...errs } } },
    async (req) => {
      whole(req.access);
      return { id: req.params.id, revoked: await run(() => ctx.auth.revokeToken(req.params.id, by(req.who!.principal.id))) };
    },
  );
}
