// /api/v1/auth: login (password + TOTP), session, logout, TOTP enrolment, password from a
// one-time code. Rate-limited per client address.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { AuthError, type SessionInfo } from '../auth/service.js';
import type { Principal } from '../auth/permissions.js';
import type { ApiContext } from './context.js';
import { errorSchema, sendError } from './errors.js';
import { guard, SESSION_COOKIE } from './guard.js';

const principalSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    displayName: { type: 'string' },
    kind: { type: 'string' },
    partner: { type: ['string', 'null'] },
    roles: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

const sessionSchema = {
  type: 'object',
  properties: { principal: principalSchema, stage: { type: 'string', enum: ['full', 'enrol'] }, csrfToken: { type: 'string' }, expiresAt: { type: 'string' } },
} as const;

const principalJson = (p: Principal) => ({ id: p.id, username: p.username, displayName: p.displayName, kind: p.kind, partner: p.partner, roles: p.bindings });

function authFailure(reply: FastifyReply, err: unknown) {
  if (err instanceof AuthError) return sendError(reply, err.status, err.code, err.message);
  throw err;
}

export function authRoutes(app: FastifyInstance, ctx: ApiContext, limit: { max: number; timeWindow: number }): void {
  const rateLimit = { rateLimit: { max: limit.max, timeWindow: limit.timeWindow } };
  const err = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 423: errorSchema, 429: errorSchema };

  const setCookie = (reply: FastifyReply, s: SessionInfo) =>
    reply.setCookie(SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'strict', secure: ctx.config.http.secureCookies, path: '/', expires: new Date(s.expiresAt) });

  app.post<{ Body: { username: string; password: string; totp?: string; recoveryCode?: string } }>(
    '/api/v1/auth/login',
    {
      config: rateLimit,
      schema: {
        tags: ['auth'],
        summary: 'Log in with password and TOTP code (or a recovery code); sets the session cookie',
        body: {
          type: 'object',
          required: ['username', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 }, totp: { type: 'string', maxLength: 10 }, recoveryCode: { type: 'string', maxLength: 40 } },
        },
        response: { 200: sessionSchema, ...err },
      },
    },
    async (req, reply) => {
      try {
        const s = await ctx.auth.login({ ...req.body, ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
        setCookie(reply, s);
        return { principal: principalJson(s.principal), stage: s.stage, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
      } catch (e) {
        return authFailure(reply, e);
      }
    },
  );

  app.get(
    '/api/v1/auth/session',
    { onRequest: guard(ctx, null, { enrolOk: true }), schema: { tags: ['auth'], summary: 'Who am I: the principal, its roles, the CSRF token', response: { 200: { type: 'object', additionalProperties: true }, ...err } } },
    async (req) => ({ principal: principalJson(req.who!.principal), via: req.who!.via, stage: req.who!.stage ?? 'full', csrfToken: req.who!.csrfToken ?? null }),
  );

  app.post(
    '/api/v1/auth/logout',
    { onRequest: guard(ctx, null, { enrolOk: true }), schema: { tags: ['auth'], summary: 'End this session', response: { 204: { type: 'null' }, ...err } } },
    async (req, reply) => {
      if (req.who!.sessionHash) await ctx.auth.logout(req.who!.sessionHash, req.who!.principal.id);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/auth/sessions',
    { onRequest: guard(ctx, null, { enrolOk: true }), schema: { tags: ['auth'], summary: 'Your sessions (open and ended), this one marked current', response: { 200: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', additionalProperties: true } } } }, ...err } } },
    async (req) => ({
      items: (await ctx.store.auth.listSessionsOf(req.who!.principal.id)).map(({ idHash, csrfToken: _c, ...s }) => ({ ...s, current: idHash === req.who!.sessionHash })),
    }),
  );

  app.post(
    '/api/v1/auth/sessions/revoke-others',
    { onRequest: guard(ctx, null, { enrolOk: true }), schema: { tags: ['auth'], summary: 'End every other session of yours (e.g. a forgotten browser)', response: { 200: { type: 'object', properties: { revoked: { type: 'integer' } } }, ...err } } },
    async (req) => {
      const who = req.who!;
      let revoked = 0;
      for (const s of await ctx.store.auth.listSessionsOf(who.principal.id)) {
        if (s.idHash === who.sessionHash || s.revokedAt) continue;
        if (await ctx.store.auth.revokeSession(s.idHash, 'revoked by its user')) revoked++;
      }
      if (revoked) await ctx.store.audit.appendAudit({ actor: `principal:${who.principal.id}`, action: 'auth.session.revoked', subject: `principal:${who.principal.id}`, details: { sessions: revoked, reason: 'revoked by its user' }, at: ctx.now().toISOString() });
      return { revoked };
    },
  );

  app.post(
    '/api/v1/auth/totp/enrol',
    {
      config: rateLimit,
      onRequest: guard(ctx, null, { enrolOk: true }),
      schema: { tags: ['auth'], summary: 'Start TOTP enrolment: a secret and otpauth:// URI to scan', response: { 200: { type: 'object', properties: { secret: { type: 'string' }, otpauthUri: { type: 'string' } } }, 409: errorSchema, ...err } },
    },
    async (req, reply) => {
      if (req.who!.via !== 'session') return sendError(reply, 403, 'E_API_FORBIDDEN', 'service accounts do not log in interactively');
      try {
        return await ctx.auth.startEnrolment(req.who!.principal.id);
      } catch (e) {
        return authFailure(reply, e);
      }
    },
  );

  app.post<{ Body: { code: string } }>(
    '/api/v1/auth/totp/confirm',
    {
      config: rateLimit,
      onRequest: guard(ctx, null, { enrolOk: true }),
      schema: {
        tags: ['auth'],
        summary: 'Confirm TOTP enrolment with a first code; returns single-use recovery codes (shown once)',
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', maxLength: 10 } } },
        response: { 200: { type: 'object', properties: { recoveryCodes: { type: 'array', items: { type: 'string' } } } }, 409: errorSchema, ...err },
      },
    },
    async (req, reply) => {
      if (req.who!.via !== 'session') return sendError(reply, 403, 'E_API_FORBIDDEN', 'service accounts do not log in interactively');
      try {
        return await ctx.auth.confirmEnrolment(req.who!.principal.id, req.body.code, req.who!.sessionHash);
      } catch (e) {
        return authFailure(reply, e);
      }
    },
  );

  app.post<{ Body: { username: string; code: string; password: string } }>(
    '/api/v1/auth/password',
    {
      config: rateLimit,
      schema: {
        tags: ['auth'],
        summary: 'Choose a password with the one-time code from `lotgate user add` / `user reset`',
        body: {
          type: 'object',
          required: ['username', 'code', 'password'],
          additionalProperties: false,
          properties: { username: { type: 'string', maxLength: 64 }, code: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 1024 } },
        },
        response: { 204: { type: 'null' }, ...err },
      },
    },
    async (req, reply) => {
      try {
        await ctx.auth.completeReset(req.body.username, req.body.code, req.body.password);
        return reply.code(204).send();
      } catch (e) {
        return authFailure(reply, e);
      }
    },
  );
}
