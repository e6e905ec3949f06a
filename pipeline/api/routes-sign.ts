// Part 11 signatures over the API: a lot disposition is signed in two steps — a challenge that
// shows exactly what will be signed (and its hash), then the signature with re-authentication.

import type { FastifyInstance } from 'fastify';
import { AuthError } from '../auth/service.js';
import { DECISIONS, MEANINGS } from '../sign/record.js';
import { SignService } from '../sign/service.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

const lotIdParams = { type: 'object', required: ['lotId'], properties: { lotId: { type: 'integer', minimum: 1 } } } as const;
const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 423: errorSchema, 429: errorSchema };

export function signRoutes(app: FastifyInstance, ctx: ApiContext, limit: { max: number; timeWindow: number }): void {
  const sign = new SignService({ store: ctx.store, config: ctx.config, auth: ctx.auth, partners: ctx.partners, now: ctx.now });
  const mapErr = (e: unknown) => (e instanceof AuthError ? new ApiError(e.status, e.code, e.message) : e);
  const sessionOnly = (via: string) => {
    if (via !== 'session') throw new ApiError(403, 'E_SIGN_SESSION', 'signatures are made by people in a logged-in session, never with a service token');
  };

  app.post<{ Params: { lotId: number }; Body: { decision: string; meaning: string } }>(
    '/api/v1/lots/:lotId/disposition/challenge',
    {
      onRequest: guard(ctx, 'lots:dispose'),
      schema: {
        tags: ['signatures'],
        summary: 'Step 1 of signing a disposition: the record to be signed, its sha256, a single-use challenge (5 minutes)',
        params: lotIdParams,
        body: { type: 'object', required: ['decision', 'meaning'], additionalProperties: false, properties: { decision: { type: 'string', enum: DECISIONS }, meaning: { type: 'string', enum: [...MEANINGS] } } },
        response: { 200: { type: 'object', properties: { challengeId: { type: 'string' }, recordHash: { type: 'string' }, expiresAt: { type: 'string' }, record: { type: 'object', additionalProperties: true } } }, ...errs },
      },
    },
    async (req) => {
      sessionOnly(req.who!.via);
      if (ctx.store.lotIdInScope(req.access!, req.params.lotId) === undefined) throw notFound(`lot ${req.params.lotId}`);
      try {
        return sign.challengeLot(req.who!.principal, req.params.lotId, req.body.decision, req.body.meaning);
      } catch (e) {
        throw mapErr(e);
      }
    },
  );

  app.post<{ Params: { lotId: number }; Body: { challengeId: string; password: string; totp?: string } }>(
    '/api/v1/lots/:lotId/disposition',
    {
      onRequest: guard(ctx, 'lots:dispose'),
      config: { rateLimit: { max: limit.max, timeWindow: limit.timeWindow } },
      schema: {
        tags: ['signatures'],
        summary: 'Step 2: sign the disposition — password every time, TOTP with the first signature of the session',
        params: lotIdParams,
        body: {
          type: 'object',
          required: ['challengeId', 'password'],
          additionalProperties: false,
          properties: { challengeId: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 1024 }, totp: { type: 'string', maxLength: 10 } },
        },
        response: { 201: { type: 'object', additionalProperties: true }, ...errs },
      },
    },
    async (req, reply) => {
      sessionOnly(req.who!.via);
      if (ctx.store.lotIdInScope(req.access!, req.params.lotId) === undefined) throw notFound(`lot ${req.params.lotId}`);
      try {
        const m = await sign.signLot({ principal: req.who!.principal, lotId: req.params.lotId, challengeId: req.body.challengeId, password: req.body.password, totp: req.body.totp, sessionHash: req.who!.sessionHash, ip: req.ip });
        return reply.code(201).send(m);
      } catch (e) {
        throw mapErr(e);
      }
    },
  );
}
