// push: delivers the outbox through the connectors configured in config.yaml (`connectors:`,
// each taking the topics its globs match). At least once, with the message id as the
// idempotency key end to end; retries with backoff and a dead letter after the connector's
// maxAttempts. Delivery is tracked per (message, connector): a message routed to the ERP and
// to a file drop is not sent to the ERP again because the file drop failed. Messages of one
// topic and key go out in the order they were stored, and a key stops at its first failure,
// so a receiver never gets an older state after a newer one.

import type { Connector, DeliveryResult } from '../pipeline/outbound/delivery.js';
import { connectorsFor } from '../pipeline/outbound/delivery.js';
import { buildConnectors, type ConnectorConfig } from '../pipeline/outbound/connectors/connectors.js';
import type { OutboundMessage } from '../pipeline/outbound/messages.js';
import { decideAfterFailure } from '../pipeline/outbound/retry.js';
import { checkAborted, defineJob, type JobContext } from '../pipeline/scheduler/job.js';
import type { OutboxRow } from '../pipeline/store/types.js';

export interface PushOptions {
  /** Messages claimed per round. */
  batchSize: number;
  /** Rounds per run at most (a backlog is worked off over several runs). */
  maxBatches: number;
  /** A claimed message is hidden this long: if the pusher dies, it is due again after that. */
  visibilitySeconds: number;
  /** A message no connector takes is looked at again this much later (maybe a connector was added). */
  unroutedRetryMinutes: number;
}

/** Messages held back by an older one of the same key wait at least this long. */
const MIN_WAIT_MS = 1000;

export const pushJob = defineJob<PushOptions>({
  name: 'push',
  description: 'Deliver the outbox to ERP/QMS through the configured connectors (retries, dead letter).',
  defaultSchedule: '* * * * *',
  optionsSchema: {
    batchSize: { type: 'integer', minimum: 1, maximum: 10000 },
    maxBatches: { type: 'integer', minimum: 1 },
    visibilitySeconds: { type: 'integer', minimum: 1 },
    unroutedRetryMinutes: { type: 'integer', minimum: 1 },
  },
  defaults: { batchSize: 100, maxBatches: 50, visibilitySeconds: 300, unroutedRetryMinutes: 60 },
  wakeOnOutbox: true,
  async run(ctx) {
    const { config } = ctx.lg;
    // Relative folders and key paths of connectors are relative to the data dir, so an
    // installation (or a test) with its own --data-dir keeps its outbound files to itself.
    const connectors = buildConnectors(config.connectors as ConnectorConfig[], ctx.env, config.dataDir, {
      fetch: ctx.services.fetch,
      sftpClientFactory: ctx.services.sftpClientFactory,
    });
    const counts = { claimed: 0, delivered: 0, retrying: 0, dead: 0, sent: 0, waiting: 0, unrouted: 0, held: 0 };
    const opened = new Map<string, DeliveryResult>();
    const seen = new Set<string>();
    const deliverVia = async (c: Connector, msg: OutboundMessage): Promise<DeliveryResult> => {
      // Connection-holding connectors (SFTP) connect once per run, on first use.
      if (c.open && !opened.has(c.name)) opened.set(c.name, await c.open());
      const o = opened.get(c.name);
      if (o && !o.ok) return o;
      return c.deliver(msg);
    };
    try {
      for (let round = 0; round < ctx.options.maxBatches; round++) {
        checkAborted(ctx.signal);
        const rows = (await ctx.lg.store.outbox.claimOutbox(ctx.options.batchSize, ctx.now(), ctx.options.visibilitySeconds * 1000)).filter((r) => !seen.has(r.id));
        if (rows.length === 0) break;
        for (const row of rows) {
          checkAborted(ctx.signal);
          seen.add(row.id);
          counts.claimed++;
          await pushOne(ctx, row, connectors, deliverVia, counts);
        }
      }
    } finally {
      for (const c of connectors) if (opened.has(c.name)) await c.close?.().catch(() => undefined);
    }
    return { counts };
  },
});

type Counts = { claimed: number; delivered: number; retrying: number; dead: number; sent: number; waiting: number; unrouted: number; held: number };

async function pushOne(
  ctx: JobContext<PushOptions>,
  row: OutboxRow,
  connectors: Connector[],
  deliverVia: (c: Connector, msg: OutboundMessage) => Promise<DeliveryResult>,
  counts: Counts,
): Promise<void> {
  const { store } = ctx.lg;
  const now = ctx.now();
  const nowMs = now.getTime();
  // Held by an operator since it was claimed: leave it; the release makes it due again.
  if ((await store.outbox.getOutbox(row.id))?.hold) {
    counts.held++;
    return;
  }
  const routes = connectorsFor(connectors, row.topic);
  if (routes.length === 0) {
    counts.unrouted++;
    const names = connectors.map((c) => c.name).join(', ') || 'none configured';
    await store.outbox.markOutboxFailed(row.id, `no connector takes topic ${row.topic} (connectors: ${names})`, nowMs + ctx.options.unroutedRetryMinutes * 60_000);
    return;
  }
  const msg: OutboundMessage = { id: row.id, topic: row.topic, key: row.key, createdAt: row.createdAt, payload: row.payload as Record<string, unknown> };
  const before = new Map((await store.outbox.listDeliveries(row.id)).map((d) => [d.connector, d]));
  const wakeUps: number[] = [];
  let lastError: string | null = null;
  for (const c of routes) {
    const d = before.get(c.name);
    if (d?.state === 'sent' || d?.state === 'dead') continue;
    if (d?.nextAttemptAt && Date.parse(d.nextAttemptAt) > nowMs) {
      wakeUps.push(Date.parse(d.nextAttemptAt));
      continue;
    }
    const older = await store.outbox.olderUndelivered(row, c.name);
    if (older) {
      counts.waiting++;
      lastError = `waiting for the older message ${older.id} of ${row.key} to reach ${c.name}`;
      wakeUps.push(Math.max(nowMs + MIN_WAIT_MS, older.nextAttemptAt ? Date.parse(older.nextAttemptAt) : 0));
      continue;
    }
    const r = await deliverVia(c, msg);
    if (r.ok) {
      await store.outbox.markDeliverySent(row.id, c.name, now);
      counts.delivered++;
      continue;
    }
    const decision = decideAfterFailure(r, (d?.attempts ?? 0) + 1, c.retry, nowMs, ctx.services.random ?? Math.random);
    if (decision.action === 'retry') {
      await store.outbox.recordDeliveryFailure(row.id, c.name, r.error, decision.at, now);
      counts.retrying++;
      lastError = `${c.name}: ${r.error}`;
      wakeUps.push(Math.max(decision.at, nowMs + MIN_WAIT_MS));
    } else {
      await store.outbox.recordDeliveryFailure(row.id, c.name, decision.reason, null, now);
      counts.dead++;
      lastError = `${c.name}: ${decision.reason}`;
      ctx.log.warn({ message: row.id, topic: row.topic, key: row.key, connector: c.name, reason: decision.reason }, 'message dead-lettered for this connector (lotgate outbox retry <id> sends it again)');
    }
  }
  // The message is done when every connector it goes to has it; dead when the rest gave up.
  const after = new Map((await store.outbox.listDeliveries(row.id)).map((d) => [d.connector, d]));
  const states = routes.map((c) => after.get(c.name)?.state ?? 'pending');
  if (states.every((s) => s === 'sent')) {
    await store.outbox.markOutboxSent(row.id, now);
    counts.sent++;
  } else if (states.every((s) => s === 'sent' || s === 'dead')) {
    const why = routes
      .map((c) => after.get(c.name))
      .filter((d) => d?.state === 'dead')
      .map((d) => `${d!.connector}: ${d!.lastError ?? 'gave up'}`)
      .join('; ');
    await store.outbox.markOutboxFailed(row.id, why, null);
  } else {
    await store.outbox.markOutboxFailed(row.id, lastError ?? row.lastError ?? 'waiting for the next attempt', wakeUps.length ? Math.min(...wakeUps) : nowMs + MIN_WAIT_MS);
  }
}
