// POST /api/v1/submissions/check — "check before submit" for the partner portal: the partner's
// own mapping runs on the uploaded file as a dry run (nothing enters the ledger, the archive or
// the store) and the answer lists the row errors the real submission would get from the mapping.
// Errors only the store can find (an unknown lot, say) still come with the acknowledgment.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MappingCatalog } from '../mapping/catalog.js';
import { dryRun } from '../mapping/dry-run.js';
import type { ApiContext } from './context.js';
import { saveUpload } from './save-upload.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';

const MAX_ERRORS = 500;

const rowError = { type: 'object', properties: { line: { type: 'integer' }, column: { type: 'integer' }, field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } as const;

export function boardCheckRoute(app: FastifyInstance, ctx: ApiContext): void {
  const catalog = ctx.ingest?.mappings ?? new MappingCatalog(ctx.config.mappingsDir);
  const maxBytes = ctx.config.http.maxUploadBytes;

  app.post(
    '/api/v1/submissions/check',
    {
      onRequest: guard(ctx, 'submissions:create'),
      bodyLimit: maxBytes,
      schema: {
        tags: ['submissions'],
        summary: "Check a file before submitting it (multipart field `file`): the partner's mapping runs as a dry run; nothing is stored",
        response: {
          200: {
            type: 'object',
            properties: {
              file: { type: 'string' },
              mapping: { type: 'object', properties: { name: { type: 'string' }, hash: { type: 'string' } } },
              counts: { type: 'object', properties: { rows: { type: 'integer' }, records: { type: 'integer' }, errors: { type: 'integer' }, filtered: { type: 'integer' } } },
              errors: { type: 'array', items: rowError },
              warnings: { type: 'array', items: rowError },
            },
          },
          413: errorSchema,
          422: errorSchema,
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
        },
      },
    },
    async (req) => {
      const partnerId = req.who!.principal.partner;
      const partner = partnerId ? ctx.partners().get(partnerId) : undefined;
      if (!partner) throw new ApiError(403, 'E_API_NOT_PARTNER', 'only a partner user or partner token can check files against its mapping');
      if (!req.isMultipart()) throw new ApiError(400, 'E_API_NO_FILE', 'send the file as multipart/form-data in the field `file`');
      const part = await req.file({ limits: { fileSize: maxBytes, files: 1 } });
      if (!part) throw new ApiError(400, 'E_API_NO_FILE', 'the multipart body has no file part');
      const name = part.filename;
      if (!name || name.length > 255 || /[/\\\0]/.test(name)) {
        part.file.resume();
        throw new ApiError(400, 'E_API_FILE_NAME', `"${name ?? ''}" is not a plain file name`);
      }
      const feed = catalog.select(partner, name);
      if (!feed || 'diagnostics' in feed) {
        part.file.resume();
        if (feed) throw new ApiError(422, 'E_MAPPING_INVALID', `the mapping for "${name}" has errors: send the file later, or ask lotgate's analysts (they see the mapping errors in \`lotgate mapping check\`)`);
        throw new ApiError(422, 'E_NO_FEED', `no feed of ${partner.id} accepts a file named "${name}": ${catalog.describe(partner)}. Rename the file as agreed for its feed.`);
      }
      const dir = await mkdtemp(path.join(os.tmpdir(), 'lotgate-check-'));
      const file = path.join(dir, `${randomBytes(6).toString('hex')}-${name}`);
      try {
        await saveUpload(part.file, file, maxBytes);
        const res = await dryRun(feed.compiled, feed.spec, file, { limit: 0, errorLimit: MAX_ERRORS, fileName: name });
        return { file: name, mapping: { name: feed.name, hash: feed.hash }, counts: res.counts, errors: res.errors, warnings: res.warnings ?? [] };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}
