// `lotgate outbox list|show|retry|hold|release`: what lotgate owes the ERP and QMS, what went out,
// what gave up (dead letter) — sending a dead message again once the receiver is fixed, and
// holding a message back from the push job until an operator releases it.

import type { Command } from 'commander';
import type { Lotgate } from '../lotgate.js';
import type { DeliveryRow, OutboxRow, OutboxState } from '../store/store.js';
import { holdOutboxMessage, releaseOutboxMessage, type HoldResult } from '../outbound/outbox-hold.js';
import { configFrom, printJson, UserError, withLotgate } from './context.js';
import { humanTime, renderTable } from './render.js';

const STATES: OutboxState[] = ['pending', 'sent', 'dead', 'held'];

export type OutboxListing = OutboxRow & { deliveries: DeliveryRow[] };

export async function listOutboxMessages(lg: Lotgate, opts: { state?: OutboxState; topic?: string; onHold?: boolean; limit?: number } = {}): Promise<OutboxListing[]> {
  const rows = await lg.store.outbox.listOutbox({ state: opts.state, topic: opts.topic, onHold: opts.onHold, limit: opts.limit ?? 100 });
  const deliveries = await lg.store.outbox.listDeliveriesOf(rows.map((r) => r.id));
  return rows.map((r) => ({ ...r, deliveries: deliveries.get(r.id) ?? [] }));
}

/** The one message an id or unique id prefix names. */
export async function resolveOutboxId(lg: Lotgate, idOrPrefix: string): Promise<string> {
  if (await lg.store.outbox.getOutbox(idOrPrefix)) return idOrPrefix;
  const found = idOrPrefix.length >= 6 ? await lg.store.outbox.findOutboxIdsByPrefix(idOrPrefix, 2) : [];
  if (found.length === 1) return found[0];
  if (found.length > 1) throw new UserError(`"${idOrPrefix}" matches several messages; give more of the id`, 2);
  throw new UserError(`no outbox message "${idOrPrefix}" (see \`lotgate outbox list\`; at least 6 characters of the id)`, 4);
}

export interface RetryResult {
  id: string;
  retried: boolean;
  deliveries: number;
  state: OutboxState;
}

/** Puts a dead message back in the queue (its dead deliveries start over; sent ones stay sent). */
export async function retryOutboxMessage(lg: Lotgate, idOrPrefix: string, by: string): Promise<RetryResult> {
  const id = await resolveOutboxId(lg, idOrPrefix);
  const r = await lg.store.transaction(async (tx) => {
    const res = await tx.outbox.retryDeadOutbox(id, lg.now());
    if (res.retried) {
      await tx.audit.appendAudit({ actor: `operator:${by}`, action: 'outbox.retry', subject: `outbox:${id}`, details: { by, deliveries: res.deliveries } });
    }
    return res;
  });
  return { id, ...r, state: (await lg.store.outbox.getOutbox(id))!.state };
}

function shortId(id: string): string {
  return id.slice(0, 12);
}

function deliveriesText(ds: DeliveryRow[]): string {
  return ds.map((d) => `${d.connector}:${d.state}${d.state !== 'sent' && d.attempts ? `(${d.attempts})` : ''}`).join(' ');
}

export function registerOutboxCommands(program: Command): void {
  const outbox = program.command('outbox').description('Messages to ERP/QMS: pending, sent, dead (dead letter), held (shadow-mode partners).');

  outbox
    .command('list')
    .description('Messages, oldest first, with their delivery per connector.')
    .option('-s, --state <state>', `only this state (${STATES.join(', ')})`)
    .option('-t, --topic <topic>', 'only this topic (erp.lot_readiness, qms.deviation, qms.disposition_request, …)')
    .option('--on-hold', 'only messages an operator holds')
    .option('-n, --limit <n>', 'at most n', (v) => Number.parseInt(v, 10), 100)
    .option('--json', 'print JSON')
    .action(async (opts: { state?: string; topic?: string; onHold?: boolean; limit: number; json?: boolean }, cmd: Command) => {
      const state = opts.state?.toLowerCase() as OutboxState | undefined;
      if (state && !STATES.includes(state)) throw new UserError(`--state must be one of ${STATES.join(', ')}`, 2);
      const { rows, counts } = await withLotgate(cmd, async (lg) => ({ rows: await listOutboxMessages(lg, { state, topic: opts.topic, onHold: opts.onHold ? true : undefined, limit: opts.limit }), counts: { ...(await lg.store.outbox.countOutbox()), onHold: await lg.store.outbox.countOutboxOnHold() } }));
      if (opts.json) return printJson(rows);
      if (!rows.length) {
        process.stdout.write(`No ${state ?? ''} messages.`.replace('  ', ' ') + ` (outbox: ${counts.pending} pending, ${counts.sent} sent, ${counts.dead} dead, ${counts.held} held; ${counts.onHold} on hold by an operator)\n`);
        return;
      }
      process.stdout.write(
        renderTable(
          ['ID', 'TOPIC', 'KEY', 'STATE', 'TRIES', 'CREATED', 'DELIVERIES', 'LAST ERROR'],
          rows.map((r) => [shortId(r.id), r.topic, r.key, r.hold ? `${r.state}, on hold` : r.state, String(r.attempts), r.createdAt, deliveriesText(r.deliveries), r.state === 'sent' ? '' : r.lastError ?? '']),
          { timeZone: configFrom(cmd).timezone },
        ),
      );
      process.stdout.write(`\noutbox: ${counts.pending} pending, ${counts.sent} sent, ${counts.dead} dead, ${counts.held} held; ${counts.onHold} on hold by an operator\n`);
    });

  outbox
    .command('show')
    .description('One message: payload and delivery per connector.')
    .argument('<id>', 'message id (or its first characters)')
    .option('--json', 'print JSON')
    .action(async (idArg: string, opts: { json?: boolean }, cmd: Command) => {
      const msg = await withLotgate(cmd, async (lg) => {
        const id = await resolveOutboxId(lg, idArg);
        return { ...(await lg.store.outbox.getOutbox(id))!, deliveries: await lg.store.outbox.listDeliveries(id) };
      });
      if (opts.json) return printJson(msg);
      const zone = { timeZone: configFrom(cmd).timezone };
      process.stdout.write(
        `${msg.id}\n  topic ${msg.topic}  key ${msg.key}\n  state ${msg.state}  attempts ${msg.attempts}  created ${humanTime(msg.createdAt, zone)}${msg.sentAt ? `  sent ${humanTime(msg.sentAt, zone)}` : ''}\n` +
          (msg.lastError && msg.state !== 'sent' ? `  last error: ${msg.lastError}\n` : '') +
          (msg.deliveries.length
            ? `\n${renderTable(['CONNECTOR', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'SENT', 'LAST ERROR'], msg.deliveries.map((d) => [d.connector, d.state, String(d.attempts), d.nextAttemptAt ?? '', d.sentAt ?? '', d.lastError ?? '']), zone)}`
            : '') +
          `\n${JSON.stringify(msg.payload, null, 2)}\n`,
      );
    });

  outbox
    .command('retry')
    .description('Send dead messages again (after fixing the receiver or the connector): their dead deliveries start over.')
    .argument('[ids...]', 'message ids (or their first characters)')
    .option('--all-dead', 'every dead message')
    .option('--by <who>', 'who asks (audit trail; default $USER)')
    .option('--json', 'print JSON')
    .action(async (ids: string[], opts: { allDead?: boolean; by?: string; json?: boolean }, cmd: Command) => {
      if (!ids.length && !opts.allDead) throw new UserError('name the messages to retry, or --all-dead', 2);
      const by = opts.by ?? process.env.USER ?? process.env.USERNAME ?? 'operator';
      const results = await withLotgate(cmd, async (lg) => {
        const targets = opts.allDead ? (await lg.store.outbox.listOutbox({ state: 'dead', limit: 1_000_000 })).map((r) => r.id) : ids;
        const out: RetryResult[] = [];
        for (const id of targets) out.push(await retryOutboxMessage(lg, id, by));
        return out;
      });
      if (opts.json) return printJson(results);
      for (const r of results) {
        process.stdout.write(r.retried ? `${shortId(r.id)}: pending again (${r.deliveries} connector${r.deliveries === 1 ? '' : 's'} to retry); the next push sends it\n` : `${shortId(r.id)}: not dead (${r.state}); nothing to retry\n`);
      }
      if (!results.length) process.stdout.write('No dead messages.\n');
      if (results.some((r) => !r.retried)) process.exitCode = 1;
    });

  for (const action of ['hold', 'release'] as const) {
    outbox
      .command(action)
      .description(
        action === 'hold'
          ? 'Hold messages back: the push job does not send them (nor newer messages of the same key) until released.'
          : 'Release held messages: the next push sends them.',
      )
      .argument('<ids...>', 'message ids (or their first characters)')
      .requiredOption('--reason <text>', 'why (audit trail)')
      .option('--by <who>', 'who asks (audit trail; default $USER)')
      .option('--json', 'print JSON')
      .action(async (ids: string[], opts: { reason: string; by?: string; json?: boolean }, cmd: Command) => {
        if (!opts.reason.trim()) throw new UserError('--reason must say why', 2);
        const by = opts.by ?? process.env.USER ?? process.env.USERNAME ?? 'operator';
        const results: HoldResult[] = await withLotgate(cmd, async (lg) => {
          const out: HoldResult[] = [];
          for (const idArg of ids) {
            const id = await resolveOutboxId(lg, idArg);
            const fn = action === 'hold' ? holdOutboxMessage : releaseOutboxMessage;
            out.push(await fn(lg.store, id, { actor: `operator:${by}`, by }, opts.reason, lg.now()));
          }
          return out;
        });
        if (opts.json) return printJson(results);
        for (const r of results) {
          const what = action === 'hold' ? (r.changed ? 'held; the push job leaves it until `lotgate outbox release`' : r.held ? 'already held' : `not held: it is ${r.state}`) : r.changed ? 'released; the next push sends it' : 'was not held';
          process.stdout.write(`${shortId(r.id)}: ${what}\n`);
        }
        if (results.some((r) => !r.changed)) process.exitCode = 1;
      });
  }
}
