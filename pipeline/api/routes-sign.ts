// Part 11 signatures over the API: a lot disposition is signed in two steps — a challenge that
// shows exactly what will be signed (and its hash), then the signature with re-authentication.

import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AuthError } from '../auth/service.js';
import { DECISIONS, MEANINGS } from '../sign/record.js';
import { reviewRecord, signReview } from '../sign/review.js';
import { assertMaySign, SignService } from '../sign/service.js';
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
      if ((await ctx.store.reads.lotIdInScope(req.access!, req.params.lotId)) === undefined) throw notFound(`lot ${req.params.lotId}`);
      try {
        return await sign.challengeLot(req.who!.principal, req.params.lotId, req.body.decision, req.body.meaning);
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
      if ((await ctx.store.reads.lotIdInScope(req.access!, req.params.lotId)) === undefined) throw notFound(`lot ${req.params.lotId}`);
      try {
        const m = await sign.signLot({ principal: req.who!.principal, lotId: req.params.lotId, challengeId: req.body.challengeId, password: req.body.password, totp: req.body.totp, sessionHash: req.who!.sessionHash, ip: req.ip });
        return reply.code(201).send(m);
      } catch (e) {
        throw mapErr(e);
      }
    },
  );
}

/** Review-mode decisions (approve / reject a file held for review), signed in the same two steps. */
export function reviewSignRoutes(app: FastifyInstance, ctx: ApiContext, limit: { max: number; timeWindow: number }): void {
  const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
  const mapErr = (e: unknown) => (e instanceof AuthError ? new ApiError(e.status, e.code, e.message) : e);

  app.post<{ Params: { id: number }; Body: { decision: 'approve' | 'reject'; reason: string } }>(
    '/api/v1/submissions/:id/review/challenge',
    {
      onRequest: guard(ctx, 'submissions:review'),
      schema: {
        tags: ['signatures'],
        summary: 'Step 1 of a signed review decision: the record (decision, reason, the file and its sha256), its hash, a challenge',
        params: idParams,
        body: { type: 'object', required: ['decision', 'reason'], additionalProperties: false, properties: { decision: { type: 'string', enum: ['approve', 'reject'] }, reason: { type: 'string', minLength: 1, maxLength: 2000 } } },
        response: { 200: { type: 'object', properties: { challengeId: { type: 'string' }, recordHash: { type: 'string' }, expiresAt: { type: 'string' }, record: { type: 'object', additionalProperties: true } } }, ...errs },
      },
    },
    async (req) => {
      if (req.who!.via !== 'session') throw new ApiError(403, 'E_SIGN_SESSION', 'signatures are made by people in a logged-in session, never with a service token');
      if (!(await ctx.store.reads.getSubmissionScoped(req.access!, req.params.id))) throw notFound(`submission ${req.params.id}`);
      try {
        assertMaySign(req.who!.principal);
        const { record, recordHash } = await reviewRecord(ctx.store, req.params.id, req.body.decision, req.body.reason);
        const challengeId = randomBytes(18).toString('base64url');
        const expiresAt = new Date(ctx.now().getTime() + 5 * 60_000).toISOString();
        // The reason travels in the challenge's meaning column as JSON (decision + reason).
        await ctx.store.auth.insertChallenge({ id: challengeId, principalId: req.who!.principal.id, subject: `submission:${req.params.id}`, recordHash, decision: req.body.decision, meaning: JSON.stringify({ reason: req.body.reason }), expiresAt });
        return { challengeId, recordHash, expiresAt, record };
      } catch (e) {
        throw mapErr(e);
      }
    },
  );

  app.post<{ Params: { id: number }; Body: { challengeId: string; password: string; totp?: string } }>(
    '/api/v1/submissions/:id/review',
    {
      onRequest: guard(ctx, 'submissions:review'),
      config: { rateLimit: { max: limit.max, timeWindow: limit.timeWindow } },
      schema: {
        tags: ['signatures'],
        summary: 'Step 2: sign the approval or rejection (password; TOTP with the first signature of the session); the file is then applied or turned down',
        params: idParams,
        body: { type: 'object', required: ['challengeId', 'password'], additionalProperties: false, properties: { challengeId: { type: 'string', maxLength: 100 }, password: { type: 'string', maxLength: 1024 }, totp: { type: 'string', maxLength: 10 } } },
        response: { 201: { type: 'object', additionalProperties: true }, 503: errorSchema, ...errs },
      },
    },
    async (req, reply) => {
      const who = req.who!;
      if (who.via !== 'session') throw new ApiError(403, 'E_SIGN_SESSION', 'signatures are made by people in a logged-in session, never with a service token');
      if (!(await ctx.store.reads.getSubmissionScoped(req.access!, req.params.id))) throw notFound(`submission ${req.params.id}`);
      const lg = ctx.ingest;
      if (!lg) throw new ApiError(503, 'E_API_NO_INTAKE', 'this process cannot apply files: decide reviews from a process with the api role of `lotgate start`');
      const ch = await ctx.store.auth.takeChallenge(req.body.challengeId, who.principal.id, ctx.now().toISOString());
      if (!ch || ch.subject !== `submission:${req.params.id}`) throw new ApiError(409, 'E_SIGN_CHALLENGE', 'the signing challenge is unknown, used, expired or for another record: request a new one');
      const reason = (JSON.parse(ch.meaning) as { reason: string }).reason;
      const decision = ch.decision as 'approve' | 'reject';
      let outcome: { state: string; changed: boolean } | undefined;
      try {
        const { approveSubmission, rejectSubmission } = await import('../cli/submission-commands.js');
        const sig = await signReview(
          { store: ctx.store, auth: ctx.auth, timeZone: ctx.config.auth.timeZone, now: ctx.now },
          {
            username: who.principal.username,
            submissionId: req.params.id,
            decision,
            reason,
            password: req.body.password,
            totp: req.body.totp,
            expectedRecordHash: ch.recordHash,
            needTotp: !who.sessionHash || !(await ctx.store.auth.sessionHasSigned(who.sessionHash)),
            ip: req.ip,
          },
          async (printedName) => (outcome = await (decision === 'approve' ? approveSubmission(lg, req.params.id, printedName, reason) : rejectSubmission(lg, req.params.id, printedName, reason))),
        );
        if (who.sessionHash && sig) await ctx.store.auth.noteSessionSigned(who.sessionHash, sig.signedAt);
        return reply.code(201).send({ submissionId: req.params.id, state: outcome?.state, changed: outcome?.changed ?? false, signature: sig });
      } catch (e) {
        throw mapErr(e);
      }
    },
  );
}
