// Guided forms of the partner portal: GET /api/v1/portal/forms lists, per feed of the caller's
// partner, the form its mapping implies and the partner's own open lots (with what each is waiting
// on); POST /api/v1/portal/forms/:feed turns a filled form (multipart fields, plus the file for a
// document feed) into a file in the feed's own format and name, checks it with the partner's
// mapping exactly as intake will, and submits it through the same intake as uploads — its own
// ledger row, archive, queue and acknowledgment.

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { partnerDirs, stagedName } from '../intake/names.js';
import { MappingCatalog } from '../mapping/catalog.js';
import { dryRun } from '../mapping/dry-run.js';
import type { PartnerConfig } from '../model/types.js';
import { csvOf, formOf, FormValueError, generatedName, type GuidedForm } from '../web/guided-forms.js';
import { partnerOpenLots } from '../web/partner-lots.js';
import type { ApiContext } from './context.js';
import { saveUpload } from './save-upload.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';

const problem = { type: 'object', properties: { input: { type: 'string' }, field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } as const;
const invalidSchema = { type: 'object', properties: { ...errorSchema.properties, problems: { type: 'array', items: problem } }, required: ['error'] } as const;
const free = { type: 'object', additionalProperties: true } as const;

export function boardFormRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const catalog = ctx.ingest?.mappings ?? new MappingCatalog(ctx.config.mappingsDir);
  const maxBytes = ctx.config.http.maxUploadBytes;

  const partnerOf = (principal: { partner: string | null }): PartnerConfig => {
    const p = principal.partner ? ctx.partners().get(principal.partner) : undefined;
    if (!p) throw new ApiError(403, 'E_API_NOT_PARTNER', 'only a partner user or partner token has guided forms (they submit for its partner)');
    return p;
  };
  const formsOf = (partner: PartnerConfig) =>
    catalog
      .entries(partner.id)
      .filter((e) => partner.feeds.length === 0 || partner.feeds.includes(e.feed))
      .map((e) => (e.spec ? formOf(e.name, e.spec) : { feed: e.feed, none: 'its mapping has errors: lotgate\'s analysts are told' }));

  app.get(
    '/api/v1/portal/forms',
    {
      onRequest: guard(ctx, 'submissions:create'),
      schema: {
        tags: ['submissions'],
        summary: "Guided forms (partner users): per feed, the form its mapping implies, and the partner's own open lots with what each waits on",
        response: { 200: { type: 'object', properties: { partner: { type: 'string' }, forms: { type: 'array', items: free }, lots: { type: 'array', items: free } } }, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req) => {
      const partner = partnerOf(req.who!.principal);
      return { partner: partner.id, forms: formsOf(partner), lots: await partnerOpenLots(ctx.store, ctx.config, partner.id) };
    },
  );

  app.post<{ Params: { feed: string } }>(
    '/api/v1/portal/forms/:feed',
    {
      onRequest: guard(ctx, 'submissions:create'),
      bodyLimit: maxBytes + 64 * 1024,
      schema: {
        tags: ['submissions'],
        summary: 'Submit a guided form (multipart: one field per form input, `file` for a document feed): it becomes a file in the feed\'s format and goes through intake like an upload',
        params: { type: 'object', properties: { feed: { type: 'string', maxLength: 100 } } },
        response: {
          201: { type: 'object', properties: { submissionId: { type: 'integer' }, file: { type: 'string' }, generated: { type: 'boolean' }, ackUrl: { type: 'string' } } },
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
          413: errorSchema,
          422: invalidSchema,
          503: errorSchema,
        },
      },
    },
    async (req, reply) => {
      const principal = req.who!.principal;
      const partner = partnerOf(principal);
      if (!ctx.intake) throw new ApiError(503, 'E_API_NO_INTAKE', 'this process does not run intake: send forms to a process with the intake role');
      const form = formsOf(partner).find((f) => f.feed === req.params.feed);
      if (!form) throw new ApiError(404, 'E_API_NOT_FOUND', `partner ${partner.id} has no feed "${req.params.feed}"`);
      if ('none' in form) throw new ApiError(422, 'E_FORM_NONE', `feed ${form.feed} has no guided form: ${form.none}`);
      if (!req.isMultipart()) throw new ApiError(400, 'E_API_NO_FILE', 'send the form as multipart/form-data');
      const invalid = (problems: { input: string; field?: string; code: string; message: string }[]) =>
        reply.code(422).send({ error: { code: 'E_FORM_INVALID', message: `the form has ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.map((p) => p.message).join('; ')}` }, problems });

      const dir = await mkdtemp(path.join(os.tmpdir(), 'lotgate-form-'));
      try {
        const values: Record<string, string> = {};
        let attached: string | null = null;
        for await (const part of req.parts({ limits: { fileSize: maxBytes, files: 1, fields: 100 } })) {
          if (part.type === 'field') {
            values[part.fieldname] = String(part.value ?? '');
            continue;
          }
          attached = path.join(dir, 'attached');
          const bytes = await saveUpload(part.file, attached, maxBytes);
          if (bytes === 0) attached = null;
        }
        const problems = checkInputs(form, values, (await partnerOpenLots(ctx.store, ctx.config, partner.id)).flatMap((l) => l.batches.map((b) => b.value)));
        if (form.file && !attached) problems.push({ input: 'file', code: 'E_FORM_FILE', message: 'attach the document (a PDF)' });
        if (problems.length) return invalid(problems);

        const stamp = `form-${ctx.now().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
        const entry = catalog.entries(partner.id).find((e) => e.feed === form.feed)!;
        const spec = entry.spec!;
        const name = generatedName(form, spec, values, stamp);
        const selected = name ? catalog.select(partner, name) : undefined;
        if (!name || !selected || 'diagnostics' in selected || selected.path !== entry.path) {
          return invalid([{ input: form.inputs.find((i) => i.kind === 'lot')?.name ?? 'file', code: 'E_FORM_NAME', message: `no file name for these values is accepted by feed ${form.feed} (${spec.match.join(', ')}): check the values, or send the file itself` }]);
        }
        const file = path.join(dir, name);
        if (form.format === 'csv') {
          try {
            await writeFile(file, csvOf(form, spec, values));
          } catch (e) {
            if (e instanceof FormValueError) return invalid([{ input: e.input, code: 'E_FORM_VALUE', message: e.message }]);
            throw e;
          }
        } else {
          await copyFile(attached!, file);
        }
        // The partner's mapping on the generated file, as intake will run it: its row errors are the form's.
        const res = await dryRun(selected.compiled, selected.spec, file, { fileName: name, now: ctx.now(), errorLimit: 100 });
        if (res.errors.length) {
          return invalid(
            res.errors.map((e) => ({
              input: form.inputs.find((i) => i.fields.includes(e.field ?? '') || i.name === e.field)?.name ?? '',
              ...(e.field ? { field: e.field } : {}),
              code: e.code,
              message: e.message,
            })),
          );
        }
        const dirs = partnerDirs(ctx.config.dropDir, partner.id);
        await mkdir(dirs.intake, { recursive: true });
        const staged = path.join(dirs.intake, stagedName(name, ctx.now().getTime(), randomBytes(6).toString('hex')));
        await copyFile(file, staged);
        const id = await ctx.intake.submit({ partner: partner.id, name, path: staged });
        await ctx.store.auth.insertApiSubmission(id, principal.id, null);
        return reply.code(201).send({ submissionId: id, file: name, generated: true, ackUrl: `/api/v1/submissions/${id}/ack` });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
}

/** Required inputs present; a lot input names one of the partner's own open lots. */
function checkInputs(form: GuidedForm, values: Record<string, string>, ownBatches: string[]) {
  const out: { input: string; code: string; message: string }[] = [];
  for (const i of form.inputs) {
    const v = (values[i.name] ?? '').trim();
    if (i.required && v === '') out.push({ input: i.name, code: 'E_FORM_REQUIRED', message: `${i.label} is required` });
    else if (i.kind === 'lot' && v !== '' && !ownBatches.includes(v)) out.push({ input: i.name, code: 'E_FORM_LOT', message: `${i.label}: "${v}" is not one of your open lots; pick one from the list` });
  }
  return out;
}
