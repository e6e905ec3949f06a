// /api/v1/submissions: the ledger within scope (list, one with its rejected rows, the
// acknowledgment, the original bytes — a separate permission), replay, and partner API
// submissions (POST, through the same intake as the SFTP drop zone).

import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ackLinks, ackTimeZone } from '../ingest/ack-context.js';
import { ackOf, ledgerNote, MAX_ACK_ERRORS_KEPT, toAckError } from '../ingest/acknowledge.js';
import { ignoredReason, partnerDirs, stagedName } from '../intake/names.js';
import type { SubmissionState } from '../model/types.js';
import { listSubmissionPage, submissionView } from '../read/submissions.js';
import type { ApiContext } from './context.js';
import { saveUpload } from './save-upload.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

const STATES: SubmissionState[] = ['received', 'processing', 'pending_review', 'applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined'];
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
const errs = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema };
const submissionSchema = { type: 'object', additionalProperties: true, properties: { id: { type: 'integer' }, partner: { type: 'string' }, state: { type: 'string' } } } as const;

/** A file name a partner may give: a plain name, no folders, not one intake ignores. */
function fileNameProblem(name: string | undefined): string | null {
  if (!name) return 'give the file name in the X-File-Name header (raw body) or as the multipart file name';
  if (name.length > 255 || /[/\\\0]/.test(name) || name === '.' || name === '..') return `"${name}" is not a plain file name`;
  return ignoredReason(name);
}

export function submissionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const maxBytes = ctx.config.http.maxUploadBytes;

  app.get<{ Querystring: { partner?: string; state?: string; since?: string; until?: string; q?: string; before?: number; limit?: number } }>(
    '/api/v1/submissions',
    {
      onRequest: guard(ctx, 'submissions:read'),
      schema: {
        tags: ['submissions'],
        summary: 'The ledger within your scope, newest first (page with `before` = nextBefore)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            partner: { type: 'string', maxLength: 64 },
            state: { type: 'string', maxLength: 200, description: `comma-separated: ${STATES.join(', ')}` },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            q: { type: 'string', maxLength: 200 },
            before: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: submissionSchema }, nextBefore: { type: ['integer', 'null'] } } }, ...errs },
      },
    },
    async (req) => {
      const state = req.query.state?.split(',').map((s) => s.trim()) as SubmissionState[] | undefined;
      const bad = state?.filter((s) => !STATES.includes(s)) ?? [];
      if (bad.length) throw new ApiError(400, 'E_API_FILTER', `state ${bad.join(', ')} is not a submission state: use ${STATES.join(', ')}`);
      const since = req.query.since ? new Date(req.query.since).toISOString() : undefined;
      const until = req.query.until ? new Date(req.query.until).toISOString() : undefined;
      return await listSubmissionPage(ctx.store, req.access!, { partner: req.query.partner, state, since, until, q: req.query.q }, { limit: req.query.limit ?? 50, before: req.query.before });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/submissions/:id',
    {
      onRequest: guard(ctx, 'submissions:read'),
      schema: { tags: ['submissions'], summary: 'One submission with its rejected rows (line, column, field, code, message)', params: idParams, response: { 200: submissionSchema, ...errs } },
    },
    async (req) => {
      const s = await ctx.store.reads.getSubmissionScoped(req.access!, req.params.id);
      if (!s) throw notFound(`submission ${req.params.id}`);
      return await submissionView(ctx.store, s);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/submissions/:id/ack',
    {
      onRequest: guard(ctx, 'submissions:read'),
      schema: { tags: ['submissions'], summary: 'The acknowledgment of a submission (as written to the partner\'s outbound/ folder)', params: idParams, response: { 200: { type: 'object', additionalProperties: true }, ...errs } },
    },
    async (req) => {
      const s = await ctx.store.reads.getSubmissionScoped(req.access!, req.params.id);
      if (!s) throw notFound(`submission ${req.params.id}`);
      if (s.ackPath && existsSync(s.ackPath)) {
        const ack = JSON.parse(await readFile(s.ackPath, 'utf8')) as { submissionId?: number };
        // A later file of the same name has its own acknowledgment there: then rebuild this one.
        if (ack.submissionId === s.id) return ack;
      }
      // The same acknowledgment the ledger gives (acknowledge.ts), rebuilt from the ledger row.
      const errors = (await ctx.store.ledger.listRejectedRows(s.id, MAX_ACK_ERRORS_KEPT)).map(toAckError);
      return ackOf(s, errors, await ctx.store.ledger.countRejectedRows(s.id), ledgerNote(ctx, s), { links: await ackLinks(ctx, s), timeZone: ackTimeZone(ctx, s) });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/submissions/:id/raw',
    {
      onRequest: guard(ctx, 'submissions:raw'),
      schema: { tags: ['submissions'], summary: 'The original file exactly as received (permission submissions:raw)', params: idParams, response: { 200: { type: 'string', format: 'binary' }, ...errs } },
    },
    async (req, reply) => {
      const s = await ctx.store.reads.getSubmissionScoped(req.access!, req.params.id);
      if (!s || !existsSync(s.archivePath)) throw notFound(`submission ${req.params.id}`);
      await ctx.store.audit.appendAudit({ actor: `principal:${req.who!.principal.id}`, action: 'submission.downloaded', subject: `submission:${s.id}`, details: { sha256: s.sha256 }, at: ctx.now().toISOString() });
      const safe = s.originalName.replace(/[^\w.@+-]/g, '_');
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${safe}"; filename*=UTF-8''${encodeURIComponent(s.originalName)}`)
        .header('x-content-sha256', s.sha256)
        .send(createReadStream(s.archivePath));
    },
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/submissions/:id/replay',
    {
      onRequest: guard(ctx, 'submissions:replay'),
      schema: { tags: ['submissions'], summary: 'Re-apply the archived original (after a mapping fix); facts are upserted, never duplicated', params: idParams, response: { 202: { type: 'object', properties: { submissionId: { type: 'integer' }, replayOf: { type: 'integer' } } }, 503: errorSchema, ...errs } },
    },
    async (req, reply) => {
      const s = await ctx.store.reads.getSubmissionScoped(req.access!, req.params.id);
      if (!s) throw notFound(`submission ${req.params.id}`);
      if (!ctx.intake) throw new ApiError(503, 'E_API_NO_INTAKE', 'this process does not run intake: replay from a process with the intake role');
      await ctx.store.audit.appendAudit({ actor: `principal:${req.who!.principal.id}`, action: 'submission.replay_requested', subject: `submission:${s.id}`, details: {}, at: ctx.now().toISOString() });
      const id = await ctx.intake.replay(s.id);
      return reply.code(202).send({ submissionId: id, replayOf: s.id });
    },
  );

  app.post(
    '/api/v1/submissions',
    {
      onRequest: guard(ctx, 'submissions:create'),
      bodyLimit: maxBytes,
      schema: {
        tags: ['submissions'],
        summary: "A partner sends a file (raw body with X-File-Name, or multipart field `file`); same intake as the SFTP drop zone. Idempotency-Key honoured.",
        headers: { type: 'object', properties: { 'x-file-name': { type: 'string', maxLength: 255 }, 'idempotency-key': { type: 'string', maxLength: 200 } } },
        response: {
          201: { type: 'object', properties: { submissionId: { type: 'integer' }, state: { type: 'string' }, ackUrl: { type: 'string' }, repeated: { type: 'boolean' } } },
          200: { type: 'object', properties: { submissionId: { type: 'integer' }, state: { type: 'string' }, ackUrl: { type: 'string' }, repeated: { type: 'boolean' } } },
          413: errorSchema,
          503: errorSchema,
          ...errs,
        },
      },
    },
    async (req: FastifyRequest, reply) => {
      const who = req.who!;
      const partner = who.principal.partner;
      if (!partner) throw new ApiError(403, 'E_API_NOT_PARTNER', 'only a partner token or partner user can submit files; create one with `lotgate token create --partner <id>`');
      if (!ctx.partners().has(partner)) throw new ApiError(403, 'E_API_NOT_PARTNER', `partner ${partner} is no longer configured`);
      if (!ctx.intake) throw new ApiError(503, 'E_API_NO_INTAKE', 'this process does not run intake: send files to a process with the intake role');
      const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
      const answer = async (id: number, repeated: boolean) => {
        const s = (await ctx.store.ledger.getSubmission(id))!;
        return reply.code(repeated ? 200 : 201).send({ submissionId: id, state: s.state, ackUrl: `/api/v1/submissions/${id}/ack`, repeated });
      };
      if (key) {
        const first = await ctx.store.auth.findApiSubmission(who.principal.id, key);
        if (first !== undefined) {
          if (!req.isMultipart()) (req.body as Readable | undefined)?.resume?.();
          return await answer(first, true);
        }
      }
      let name: string | undefined;
      let stream: Readable;
      if (req.isMultipart()) {
        const part = await req.file({ limits: { fileSize: maxBytes, files: 1 } });
        if (!part) throw new ApiError(400, 'E_API_NO_FILE', 'the multipart body has no file part');
        name = part.filename;
        stream = part.file;
      } else {
        name = typeof req.headers['x-file-name'] === 'string' ? req.headers['x-file-name'] : undefined;
        stream = req.body as Readable;
        if (!stream || typeof (stream as Readable).pipe !== 'function') throw new ApiError(400, 'E_API_NO_FILE', 'send the file as the request body (Content-Type application/octet-stream or text/*) with X-File-Name');
      }
      const why = fileNameProblem(name);
      if (why) {
        stream.resume();
        throw new ApiError(400, 'E_API_FILE_NAME', why);
      }
      const dirs = partnerDirs(ctx.config.dropDir, partner);
      await mkdir(dirs.intake, { recursive: true });
      // Staged where intake stages claimed drop-zone files: a crash before the ledger row leaves it for the reconciler.
      const staged = path.join(dirs.intake, stagedName(name!, ctx.now().getTime(), randomBytes(6).toString('hex')));
      try {
        await saveUpload(stream, staged, maxBytes);
      } catch (err) {
        await rm(staged, { force: true });
        throw err;
      }
      const id = await ctx.intake.submit({ partner, name: name!, path: staged });
      // On the root store (no surrounding transaction): a rejected insert leaves nothing to roll back.
      try {
        await ctx.store.auth.insertApiSubmission(id, who.principal.id, key);
      } catch (err) {
        // The same key raced in from another request: the first one wins.
        const first = key ? await ctx.store.auth.findApiSubmission(who.principal.id, key) : undefined;
        if (first !== undefined) return await answer(first, true);
        throw err;
      }
      return await answer(id, false);
    },
  );
}
