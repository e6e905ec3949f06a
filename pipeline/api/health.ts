// /livez (the process answers), /readyz (named checks: store writable, Redis, drop zone,
// scheduler leases, …) and /metrics (Prometheus text, prom-client). No session needed; the
// operator can restrict them to monitoring addresses with http.opsAllow.

import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import type { MetricsSnapshot } from '../store/store.js';
import type { ApiContext, HealthCheck } from './context.js';
import { sendError } from './errors.js';

/** The stale-lease threshold: a job lease past its expiry this long means a dead holder. */
const STALE_LEASE_MS = 5 * 60_000;

function allowList(entries: string[]): BlockList | null {
  if (!entries.length) return null;
  const bl = new BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits !== undefined) bl.addSubnet(addr, Number(bits), type);
    else bl.addAddress(addr, type);
  }
  return bl;
}

export function builtinChecks(ctx: ApiContext): HealthCheck[] {
  return [
    {
      name: 'store_writable',
      check: async () => {
        await ctx.store.board.probeWritable();
        return { ok: true };
      },
    },
    {
      name: 'scheduler_leases',
      check: async () => {
        const stale = (await ctx.store.board.metricsSnapshot(new Date(ctx.now().getTime() - STALE_LEASE_MS))).staleLeases;
        return stale.length ? { ok: false, detail: `stale job lease(s): ${stale.map((l) => `${l.name} held by ${l.holder} until ${l.expiresAt}`).join('; ')}` } : { ok: true };
      },
    },
  ];
}

const readinessSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    checks: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: ['string', 'null'] } } } },
  },
} as const;

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const allowed = allowList(ctx.config.http.opsAllow);
  const gate = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!allowed) return;
    const ip = req.ip.replace(/^::ffff:/, '');
    if (!allowed.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return sendError(reply, 403, 'E_API_OPS_ADDRESS', `${ip} is not in http.opsAllow`);
  };
  const checks = [...builtinChecks(ctx), ...(ctx.readiness ?? [])];

  app.get('/livez', { preHandler: gate, schema: { tags: ['health'], summary: 'The process answers', response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));

  app.get(
    '/readyz',
    {
      preHandler: gate,
      schema: {
        tags: ['health'],
        summary: 'Ready to serve: every named check',
        response: {
          200: readinessSchema,
          503: readinessSchema,
        },
      },
    },
    async (_req, reply) => {
      const results = await Promise.all(
        checks.map(async (c) => {
          try {
            const r = await Promise.race([c.check(), new Promise<{ ok: boolean; detail: string }>((res) => setTimeout(() => res({ ok: false, detail: 'no answer within 5 s' }), 5000).unref())]);
            return { name: c.name, ok: r.ok, detail: r.detail ?? null };
          } catch (err) {
            return { name: c.name, ok: false, detail: (err as Error).message };
          }
        }),
      );
      const ok = results.every((r) => r.ok);
      return reply.code(ok ? 200 : 503).send({ ok, checks: results });
    },
  );

  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[], collect: (this: Gauge<string>) => void | Promise<void>) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect });
  // One snapshot per scrape, shared by every gauge (prom-client collects them concurrently).
  let snap: Promise<MetricsSnapshot> | null = null;
  const snapshot = () => (snap ??= ctx.store.board.metricsSnapshot(new Date(ctx.now().getTime() - STALE_LEASE_MS)));
  g('lotgate_files', 'Files in the ledger by partner and state (received, applied, rejected, quarantined, …)', ['partner', 'state'], async function () {
    const s = await snapshot();
    this.reset();
    for (const r of s.filesByPartnerState) this.set({ partner: r.partner, state: r.state }, r.n);
  });
  g('lotgate_rows', 'Rows read, applied and rejected per partner (rate() gives rows/s)', ['partner', 'outcome'], async function () {
    const s = await snapshot();
    this.reset();
    for (const r of s.rowsByPartner) {
      this.set({ partner: r.partner, outcome: 'read' }, r.rows);
      this.set({ partner: r.partner, outcome: 'applied' }, r.applied);
      this.set({ partner: r.partner, outcome: 'rejected' }, r.rejected);
    }
  });
  g('lotgate_lots', 'Lots per readiness state', ['state'], async function () {
    const s = await snapshot();
    this.reset();
    for (const r of s.readiness) this.set({ state: r.state }, r.n);
  });
  g('lotgate_outbox_oldest_undelivered_seconds', 'Age of the oldest message not yet delivered, per connector', ['connector'], async function () {
    const s = await snapshot();
    this.reset();
    for (const r of s.outboxOldestUndelivered) if (r.createdAt) this.set({ connector: r.connector }, (ctx.now().getTime() - Date.parse(r.createdAt)) / 1000);
  });
  g('lotgate_audit_last_verified_timestamp_seconds', 'When the audit chain was last verified (0 = never)', [], async function () {
    const at = (await snapshot()).auditLastVerifiedAt;
    this.set(at ? Date.parse(at) / 1000 : 0);
  });
  g('lotgate_logins_failed', 'Failed logins recorded in the audit trail', [], async function () {
    this.set((await snapshot()).loginsFailed);
  });
  if (ctx.queueStats) {
    const stats = ctx.queueStats;
    let queued: Awaited<ReturnType<typeof stats>> | null = null;
    const q = async () => (queued ??= await stats().catch(() => []));
    g('lotgate_queue_waiting', 'Files waiting in the queue per partner', ['partner'], async function () {
      this.reset();
      for (const r of await q()) this.set({ partner: r.partner }, r.waiting);
    });
    g('lotgate_queue_oldest_waiting_seconds', 'Age of the oldest waiting file per partner', ['partner'], async function () {
      this.reset();
      for (const r of await q()) if (r.oldestWaitingMs !== null) this.set({ partner: r.partner }, r.oldestWaitingMs / 1000);
    });
    app.addHook('onResponse', async () => {
      queued = null;
    });
  }

  app.get('/metrics', { preHandler: gate, schema: { tags: ['health'], summary: 'Prometheus metrics', response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    snap = null;
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
