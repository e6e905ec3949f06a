// One lotgate "machine" for test/store/conformance/two-processes.test.ts: a separate OS process
// with its own openDb(url), looping over the three kinds of work that must happen exactly once
// across machines until the test writes `stop` on its stdin:
//   - the sweep lease: tryAcquireLease every iteration; each success is logged in the test's own
//     table lease_log (holder, at_ms = the instant the lease was taken for). A holder lets the
//     lease lapse after holding it for holdMs, so other machines take it over during the run;
//   - the outbox: claims due messages (short visibility) and marks each sent, with one audit event
//     per send, in one transaction;
//   - the files: decides one unfinished submission as the intake does (lockDecision, re-read the
//     state, findAppliedBySha → duplicate or applied, one audit event, an outbox message when
//     applied), all in one transaction.
//
//   node --import test/scheduler/helpers/ts-register.mjs test/store/conformance/helpers/store-worker.ts '<WorkerConfig as JSON>'
//
// stdout, one line each: `ready`; `claimed <ids>`; `decided <submission id> <applied|duplicate>`
// (after the commit); `sent <outbox id>`; `stalled <submission id>`. With stallAfter = n the
// worker, once it has decided n submissions and holds claimed (unsent) messages, stops inside its
// next decision transaction (after all its writes) and prints `stalled …`: the test SIGKILLs it
// there. It does so earlier when only stallOpenAtMost files are left: on SQLite a worker can go
// a long time without winning the write lock (waiters retry on a timer), and the stall must land
// in a decision while there still are files to decide. LOTGATE_STORE_WORKER_NO_DECISION_LOCK=1 skips lockDecision (to see the test fail).

import { createHash } from 'node:crypto';
import { asyncStore } from '../../../../pipeline/store/areas/index.js';
import { openDb } from '../../../../pipeline/store/open-db.js';
import type { OutboxRow, SubmissionRow } from '../../../../pipeline/store/types.js';

export interface WorkerConfig {
  url: string;
  id: string;
  leaseTtlMs: number;
  /** How long a holder keeps renewing before it lets the lease lapse (then rests 2 × ttl). */
  leaseHoldMs: number;
  visibilityMs: number;
  claimLimit: number;
  /** Time spent "applying the rows" inside the decision transaction. */
  workMs: number;
  /** A pause after each iteration (between jobs), so the others get a turn at SQLite's write lock. */
  pauseMs: number;
  /** Stall (see above) after this many decisions, or earlier once at most stallOpenAtMost files are left. */
  stallAfter?: number;
  stallOpenAtMost?: number;
}

/** The outbox message of an applied submission (its idempotency key: one per submission). */
const outboxIdOf = (submissionId: number): string => createHash('sha256').update(`submission.applied:${submissionId}`).digest('hex');

const LEASE_NAME = 'sweep';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(cfg: WorkerConfig): Promise<void> {
  const noLock = process.env.LOTGATE_STORE_WORKER_NO_DECISION_LOCK === '1';
  const actor = `worker:${cfg.id}`;
  const db = await openDb(cfg.url, { max: 2 });
  const store = asyncStore(db);

  let stopping = false;
  let go!: () => void;
  const started = new Promise<void>((r) => (go = r));
  let input = '';
  process.stdin.on('data', (d: Buffer) => {
    input += d.toString();
    if (input.includes('go')) go();
    if (input.includes('stop')) stopping = true;
  });
  say('ready');
  await started;

  // --- the lease
  let heldSince: number | null = null;
  let restUntil = 0;
  const leaseStep = async (): Promise<void> => {
    const now = Date.now();
    if (now < restUntil) return;
    if (!(await store.jobs.tryAcquireLease(LEASE_NAME, cfg.id, cfg.leaseTtlMs, new Date(now)))) {
      heldSince = null;
      return;
    }
    await db.run('INSERT INTO lease_log (holder, at_ms) VALUES (?, ?)', [cfg.id, now]);
    heldSince ??= now;
    if (now - heldSince >= cfg.leaseHoldMs) {
      heldSince = null;
      restUntil = now + 2 * cfg.leaseTtlMs;
    }
  };

  // --- the outbox
  const send = async (m: OutboxRow): Promise<void> => {
    const sent = await store.transaction(async (tx) => {
      if (!(await tx.outbox.markOutboxSent(m.id, new Date()))) return false;
      await tx.audit.appendAudit({ actor, action: 'job.run', subject: `outbox:${m.id}`, details: { job: 'push', sent: m.id, attempt: m.attempts } });
      return true;
    });
    if (sent) say(`sent ${m.id}`);
  };

  // --- the files
  let decisions = 0;
  let open: SubmissionRow[] = [];
  const decideOne = async (stall: boolean): Promise<boolean> => {
    if (open.length === 0) return false;
    // One of the oldest few: the machines often go for the same file or the same bytes.
    const pick = open[Math.floor(Math.random() * Math.min(open.length, 4))]!;
    const outcome = await store.transaction(async (tx) => {
      if (!noLock) await tx.ledger.lockDecision(pick.partner, pick.sha256);
      const sub = await tx.ledger.getSubmission(pick.id);
      if (!sub || sub.state !== 'received') return undefined;
      const first = await tx.ledger.findAppliedBySha(sub.partner, sub.sha256, sub.id);
      await sleep(cfg.workMs); // parsing and applying the file's rows
      const finishedAt = new Date().toISOString();
      const subject = `submission:${sub.id}`;
      if (first) {
        await tx.ledger.updateSubmission(sub.id, { state: 'duplicate', duplicateOf: first.id, finishedAt });
        await tx.audit.appendAudit({ actor, action: 'submission.duplicate', subject, details: { duplicateOf: first.id, sha256: sub.sha256 } });
      } else {
        await tx.ledger.updateSubmission(sub.id, { state: 'applied', finishedAt });
        await tx.audit.appendAudit({ actor, action: 'submission.applied', subject, details: { sha256: sub.sha256 } });
        await tx.outbox.enqueueOutbox({ id: outboxIdOf(sub.id), topic: 'submission.applied', key: `${sub.partner}:${sub.sha256}`, payload: { submissionId: sub.id }, submissionId: sub.id });
      }
      if (stall) {
        // Everything written, nothing committed: the test kills the process here.
        say(`stalled ${sub.id}`);
        await new Promise<never>(() => setInterval(() => {}, 1_000));
      }
      return first ? 'duplicate' : 'applied';
    });
    if (outcome === undefined) return true;
    decisions++;
    say(`decided ${pick.id} ${outcome}`);
    return true;
  };

  while (!stopping) {
    await leaseStep();
    const claimed = await store.outbox.claimOutbox(cfg.claimLimit, new Date(), cfg.visibilityMs);
    if (claimed.length) say(`claimed ${claimed.map((m) => m.id).join(',')}`);
    open = await store.ledger.listUnfinishedSubmissions();
    const armed = cfg.stallAfter !== undefined && (decisions >= cfg.stallAfter || (open.length > 0 && open.length <= (cfg.stallOpenAtMost ?? 0)));
    if (armed && claimed.length === 0) {
      // Waits to hold claimed messages, so that the kill leaves some claimed and unsent.
      await sleep(2);
      continue;
    }
    const decided = await decideOne(armed);
    for (const m of claimed) await send(m);
    await sleep(!decided && claimed.length === 0 ? 5 : cfg.pauseMs);
  }
  await db.close();
}

const cfg = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
main(cfg).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`worker ${cfg.id}: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
