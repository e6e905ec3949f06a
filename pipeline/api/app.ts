// The HTTP API as a Fastify instance: security headers, cookies, rate limits, authentication,
// the /api/v1 routes with JSON schemas, and the OpenAPI 3 document generated from them.

import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { ApiError, sendError } from './errors.js';
import { installAuthentication } from './guard.js';
import { healthRoutes } from './health.js';
import { boardRoutes } from './board-routes.js';
import { authRoutes } from './routes-auth.js';
import { lotRoutes } from './routes-lots.js';
import { adminRoutes } from './routes-admin.js';
import { mappingRoutes } from './routes-mappings.js';
import { opsRoutes } from './routes-ops.js';
import { outboxRoutes } from './routes-outbox.js';
import { partnerAdminRoutes } from './routes-partners.js';
import { documentRequestRoutes } from './routes-requests.js';
import { auditRoutes } from './routes-audit.js';
import { reviewSignRoutes, signRoutes } from './routes-sign.js';
import { submissionRoutes } from './routes-submissions.js';

const ROUTES = new WeakMap<FastifyInstance, { method: string; url: string; hidden: boolean }[]>();

/** Every route the instance serves (the OpenAPI test checks each is documented). */
export function routesOf(app: FastifyInstance): { method: string; url: string; hidden: boolean }[] {
  return ROUTES.get(app) ?? [];
}

export interface ApiOptions {
  /** Login / TOTP / password attempts per client address and window (default 10 per minute). */
  loginRateLimit?: { max: number; timeWindow: number };
  /** Fastify's logger (default: none; the server passes its pino logger). */
  logger?: boolean;
}

export async function buildApi(ctx: ApiContext, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    trustProxy: ctx.config.http.trustProxy as boolean,
    logger: opts.logger ?? false,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
  });

  const routes: { method: string; url: string; hidden: boolean }[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url, hidden: Boolean((r.schema as { hide?: boolean } | undefined)?.hide) });
  });

  await app.register(helmet, { global: true });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(multipart, { limits: { fileSize: ctx.config.http.maxUploadBytes, files: 1 } });
  // Raw file bodies (partner submissions): the handler streams them, nothing is buffered here.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'lotgate API', version: '1', description: 'Lot release readiness: lots, provenance, submissions, audit. Every read honours the caller\'s scope.' },
      servers: [{ url: ctx.config.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'lotgate_session' },
          token: { type: 'http', scheme: 'bearer', description: 'service token lgt_…' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    if (err instanceof ApiError) return sendError(reply, err.status, err.code, err.message);
    if (err.validation) return sendError(reply, 400, 'E_API_REQUEST', `${err.message} (see /api/v1/openapi.json)`);
    if (err.statusCode === 429) return sendError(reply, 429, 'E_API_RATE_LIMIT', 'too many attempts: wait a minute and try again');
    if (err.statusCode === 413 || err.code === 'FST_REQ_FILE_TOO_LARGE') return sendError(reply, 413, 'E_API_TOO_LARGE', `the file is larger than http.maxUploadMB allows; send it over SFTP`);
    if (err.statusCode && err.statusCode < 500) return sendError(reply, err.statusCode, 'E_API_REQUEST', err.message);
    ctx.log.error({ err, url: req.url }, 'API request failed');
    return sendError(reply, 500, 'E_API_INTERNAL', 'the server could not answer; the error is in its log');
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'E_API_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]} (see /api/v1/openapi.json)`));

  installAuthentication(app, ctx);
  authRoutes(app, ctx, opts.loginRateLimit ?? { max: 10, timeWindow: 60_000 });
  lotRoutes(app, ctx);
  signRoutes(app, ctx, opts.loginRateLimit ?? { max: 10, timeWindow: 60_000 });
  reviewSignRoutes(app, ctx, opts.loginRateLimit ?? { max: 10, timeWindow: 60_000 });
  submissionRoutes(app, ctx);
  opsRoutes(app, ctx);
  adminRoutes(app, ctx);
  outboxRoutes(app, ctx);
  partnerAdminRoutes(app, ctx);
  documentRequestRoutes(app, ctx);
  auditRoutes(app, ctx);
  mappingRoutes(app, ctx);
  healthRoutes(app, ctx);
  boardRoutes(app, ctx);

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
