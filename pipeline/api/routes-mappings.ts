// POST /api/v1/mappings/{partner}/test: the analyst's dry run of a partner's mapping on an
// uploaded sample — records and row errors, nothing written (like `lotgate mapping test`).

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import { partnersIn } from '../auth/permissions.js';
import { dryRun } from '../mapping/dry-run.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema, notFound } from './errors.js';
import { guard } from './guard.js';

const SAMPLE_LIMIT = 20 * 1024 * 1024;

export function mappingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { partner: string }; Querystring: { limit?: number } }>(
    '/api/v1/mappings/:partner/test',
    {
      onRequest: guard(ctx, 'mappings:test'),
      bodyLimit: SAMPLE_LIMIT,
      schema: {
        tags: ['mappings'],
        summary: "Dry-run the partner's mapping on a sample (raw body with X-File-Name): records and row errors, nothing stored",
        params: { type: 'object', required: ['partner'], properties: { partner: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } } },
        headers: { type: 'object', properties: { 'x-file-name': { type: 'string', maxLength: 255 } } },
        response: { 200: { type: 'object', additionalProperties: true }, 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 422: errorSchema, 503: errorSchema },
      },
    },
    async (req) => {
      const body = req.body as Readable | undefined;
      const drain = () => body?.resume?.();
      const visible = partnersIn(req.access!);
      const partner = ctx.partners().get(req.params.partner);
      if (!partner || (visible !== '*' && !visible.includes(partner.id))) {
        drain();
        throw notFound(`partner ${req.params.partner}`);
      }
      const mappings = ctx.ingest?.mappings;
      if (!mappings) {
        drain();
        throw new ApiError(503, 'E_API_NO_MAPPINGS', 'this process has no mapping catalog');
      }
      const name = req.headers['x-file-name'];
      if (typeof name !== 'string' || !name || /[/\\\0]/.test(name)) {
        drain();
        throw new ApiError(400, 'E_API_FILE_NAME', 'give the sample\'s file name (plain, no folders) in the X-File-Name header: it selects the feed');
      }
      if (!body || typeof body.pipe !== 'function') throw new ApiError(400, 'E_API_NO_FILE', 'send the sample as the request body (Content-Type application/octet-stream or text/*)');
      const feed = mappings.select(partner, name);
      if (!feed) {
        drain();
        throw new ApiError(422, 'E_NO_FEED', `no feed of "${partner.id}" accepts a file named "${name}". Feeds: ${mappings.describe(partner)}`);
      }
      if ('diagnostics' in feed) {
        drain();
        throw new ApiError(422, 'E_MAPPING_INVALID', `mapping ${path.basename(feed.path)} has errors: ${feed.diagnostics.join('; ')}`);
      }
      const dir = await mkdtemp(path.join(os.tmpdir(), 'lotgate-sample-'));
      try {
        const file = path.join(dir, `${randomBytes(6).toString('hex')}-${name}`);
        await pipeline(body, createWriteStream(file));
        const res = await dryRun(feed.compiled, feed.spec, file, { limit: req.query.limit ?? 50, errorLimit: 500, fileName: name });
        return { mapping: { name: feed.name, hash: feed.hash }, ...res };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}
