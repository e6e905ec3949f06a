// Authentication and authorisation for every route: who is asking (session cookie or service
// token), CSRF for cookie requests that change state, and the permission check — which answers
// with the scope the route must read within.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accessFor, type Permission } from '../auth/permissions.js';
import type { Access } from '../store/scope.js';
import type { ApiContext } from './context.js';
import { sendError } from './errors.js';

export const SESSION_COOKIE = 'lotgate_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    access: Access | null;
  }
}

export function installAuthentication(app: FastifyInstance, ctx: ApiContext): void {
  app.decorateRequest('who', null);
  app.decorateRequest('access', null);
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      req.who = await ctx.auth.authenticateToken(header.slice(7).trim(), req.ip);
      return;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie) req.who = await ctx.auth.authenticateSession(cookie);
  });
}

async function deny(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, code: string, message: string, details: Record<string, unknown>): Promise<FastifyReply> {
  if (req.who) {
    await ctx.store.audit.appendAudit({
      actor: `principal:${req.who.principal.id}`,
      action: 'auth.denied',
      subject: `principal:${req.who.principal.id}`,
      details: { method: req.method, route: req.routeOptions.url, ip: req.ip, code, ...details },
      at: ctx.now().toISOString(),
    });
  }
  return sendError(reply, 403, code, message);
}

export interface GuardOptions {
  /** Allowed for a session that still has to enrol TOTP (the enrolment routes). */
  enrolOk?: boolean;
  /** Only for service tokens or partner principals (no interactive staff check). */
}

/** preHandler: 401 without a principal, 403 without `perm` (audited); sets req.access. */
export function guard(ctx: ApiContext, perm: Permission | null, opts: GuardOptions = {}) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const who = req.who;
    if (!who) return sendError(reply, 401, 'E_API_UNAUTHENTICATED', 'log in (POST /api/v1/auth/login) or send Authorization: Bearer <service token>');
    if (who.via === 'session' && !SAFE_METHODS.has(req.method)) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || sent !== who.csrfToken) {
        return deny(ctx, req, reply, 'E_API_CSRF', `missing or wrong ${CSRF_HEADER} header: send the csrfToken of GET /api/v1/auth/session with every request that changes something`, {});
      }
    }
    if (who.stage === 'enrol' && !opts.enrolOk) {
      return deny(ctx, req, reply, 'E_API_TOTP_ENROLMENT', 'set up two-factor authentication first: POST /api/v1/auth/totp/enrol, then /api/v1/auth/totp/confirm', {});
    }
    if (perm === null) return;
    const access = accessFor(who.principal, perm);
    if (access === null) return deny(ctx, req, reply, 'E_API_FORBIDDEN', `your roles do not include the permission ${perm}`, { permission: perm });
    req.access = access;
  };
}
