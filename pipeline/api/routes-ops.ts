// /api/v1: status, partners, jobs, audit verify/head, the access review.

import type { FastifyInstance } from 'fastify';
import { partnersIn } from '../auth/permissions.js';
import { READINESS_STATES } from '../read/lots.js';
import type { ApiContext } from './context.js';
import { ApiError, errorSchema } from './errors.js';
import { guard } from './guard.js';
import { verifySignatures } from '../sign/verify.js';

const errs = { 401: errorSchema, 403: errorSchema };
const anyObject = { type: 'object', additionalProperties: true } as const;

export function opsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/api/v1/status',
    { onRequest: guard(ctx, 'status:read'), schema: { tags: ['ops'], summary: 'Store health and lot counts per readiness state (within your scope)', response: { 200: anyObject, ...errs } } },
    async (req) => {
      const access = req.access!;
      const h = await ctx.store.health();
      const lots: Record<string, number> = {};
      for (const s of READINESS_STATES) lots[s] = await ctx.store.reads.countLotsScoped(access, { readiness: [s] });
      const out: Record<string, unknown> = { store: { ok: h.ok, schemaVersion: h.schemaVersion }, lots, lotsTotal: await ctx.store.reads.countLotsScoped(access, {}) };
      // Installation-wide numbers only for an unscoped reader.
      if (access === 'all') Object.assign(out, { submissions: h.submissions, outboxPending: h.outboxPending, outboxDead: h.outboxDead, auditEvents: h.auditEvents });
      return out;
    },
  );

  app.get(
    '/api/v1/partners',
    {
      onRequest: guard(ctx, 'partners:read'),
      schema: { tags: ['partners'], summary: 'Configured partners (within your scope)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: anyObject } } }, ...errs } },
    },
    async (req) => {
      const visible = partnersIn(req.access!);
      const items = [...ctx.partners().values()]
        .filter((p) => visible === '*' || visible.includes(p.id))
        .map((p) => ({ id: p.id, name: p.name, role: p.role, mode: p.mode, sites: p.sites, products: p.products, feeds: p.feeds }))
        .sort((a, b) => a.id.localeCompare(b.id));
      return { items };
    },
  );

  app.get<{ Querystring: { name?: string; limit?: number } }>(
    '/api/v1/jobs',
    {
      onRequest: guard(ctx, 'jobs:read'),
      schema: {
        tags: ['jobs'],
        summary: 'Recent job runs (details only for unscoped readers: they can name lots)',
        querystring: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', maxLength: 100 }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: anyObject } } }, ...errs },
      },
    },
    async (req) => {
      const runs = await ctx.store.jobs.listJobRuns({ name: req.query.name, limit: req.query.limit ?? 50 });
      const full = req.access === 'all';
      return { items: runs.map((r) => (full ? r : { ...r, details: null })) };
    },
  );

  app.post<{ Params: { name: string } }>(
    '/api/v1/jobs/:name/run',
    {
      onRequest: guard(ctx, 'jobs:run'),
      schema: {
        tags: ['jobs'],
        summary: 'Run a job now, through the same lease as the scheduler (busy when it already runs)',
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } },
        response: { 200: anyObject, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      if (req.access !== 'all') throw new ApiError(403, 'E_API_FORBIDDEN', 'jobs act on every site and partner: running one needs an unscoped binding');
      const [{ runJob }, { loadJobsConfig }, { createLotgate }] = await Promise.all([
        import('../scheduler/runner.js'),
        import('../scheduler/scheduler.js'),
        import('../lotgate.js'),
      ]);
      const jobs = ctx.jobs ?? [];
      const def = jobs.find((j) => j.name === req.params.name);
      const settings = def && loadJobsConfig(ctx.config, jobs).jobs.get(def.name);
      if (!def || !settings) throw new ApiError(404, 'E_API_NOT_FOUND', `no job "${req.params.name}" (see GET /api/v1/jobs and config.yaml jobs:)`);
      await ctx.store.audit.appendAudit({ actor: `principal:${req.who!.principal.id}`, action: 'job.run_requested', subject: `job:${def.name}`, details: {}, at: ctx.now().toISOString() });
      return runJob(def, settings, { config: ctx.config, log: ctx.log, openLotgate: () => createLotgate(ctx.config, { log: ctx.log }) }, { trigger: 'manual' });
    },
  );

  const unscoped = (access: unknown) => {
    if (access !== 'all') throw new ApiError(403, 'E_API_FORBIDDEN', 'the audit trail covers every site and partner: it needs an unscoped auditor binding');
  };

  app.get(
    '/api/v1/audit/verify',
    {
      onRequest: guard(ctx, 'audit:read'),
      schema: {
        tags: ['audit'],
        summary: 'Walk the hash chain of the audit trail and recompute every signature\'s record hash',
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              count: { type: 'integer' },
              brokenAt: { type: ['integer', 'null'] },
              reason: { type: ['string', 'null'] },
              signatures: { type: 'object', properties: { checked: { type: 'integer' }, bad: { type: 'array', items: { type: 'object', properties: { seq: { type: 'integer' }, reason: { type: 'string' } } } } } },
            },
          },
          ...errs,
        },
      },
    },
    async (req) => {
      unscoped(req.access);
      const v = (await ctx.store.audit.verifyAudit()) as { ok: boolean; count: number; brokenAt?: number; reason?: string };
      const signatures = await verifySignatures(ctx.store);
      const ok = v.ok && signatures.bad.length === 0;
      await ctx.store.audit.appendAudit({ actor: `principal:${req.who!.principal.id}`, action: 'audit.verified', subject: null, details: { ok, count: v.count, signatures: signatures.checked }, at: ctx.now().toISOString() });
      return { ok, count: v.count, brokenAt: v.brokenAt ?? null, reason: v.reason ?? null, signatures };
    },
  );

  app.get(
    '/api/v1/audit/head',
    {
      onRequest: guard(ctx, 'audit:read'),
      schema: { tags: ['audit'], summary: 'Sequence number and hash of the newest audit event (keep it elsewhere to detect truncation)', response: { 200: { type: 'object', properties: { seq: { type: 'integer' }, hash: { type: 'string' } } }, ...errs } },
    },
    async (req) => {
      unscoped(req.access);
      return ctx.store.audit.auditHead();
    },
  );

  app.get(
    '/api/v1/access-review',
    { onRequest: guard(ctx, 'access:review'), schema: { tags: ['admin'], summary: 'Every principal with roles, scopes, MFA, last login and tokens; partners\' SFTP keys', response: { 200: anyObject, ...errs } } },
    async (req) => {
      unscoped(req.access);
      return await ctx.auth.accessReview(ctx.partners());
    },
  );
}
