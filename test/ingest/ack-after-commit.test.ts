// A terminal state is final. With the partner's outbound/ on a full disk (a real tmpfs filled to
// the last block), an applied file stays applied: the failed acknowledgment is recorded and
// owed, the queue's retry → quarantine path does not rewrite the decision nor add a second
// terminal audit event, and the reconciler writes the ack once there is space again.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { processSubmission, quarantine } from '../../pipeline/ingest/process-submission.js';
import { directLedger } from '../../pipeline/intake/ledger-writer.js';
import { createReconciler } from '../../pipeline/intake/reconciler.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { IngestQueues } from '../../pipeline/queue/ingest-queues.js';
import { IngestWorkers, type TaskRunner } from '../../pipeline/queue/ingest-workers.js';
import { queueSettings } from '../../pipeline/queue/settings.js';
import { testLog } from '../runtime/helpers/log.js';
import { startTestRedis, type TestRedis } from '../runtime/helpers/redis.js';
import { until } from '../runtime/helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';
import { fullDisk, type FullDisk } from './helpers/full-disk.js';

// Fallback where no tmpfs can be mounted: ENOSPC injected at the very call that writes the ack.
const inject = vi.hoisted(() => ({ enospcUnder: null as string | null }));
vi.mock('node:fs/promises', async (orig) => {
  const real = await orig<typeof import('node:fs/promises')>();
  const writeFile: typeof real.writeFile = async (file, ...rest) => {
    if (inject.enospcUnder && typeof file === 'string' && file.startsWith(inject.enospcUnder)) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC', errno: -28, syscall: 'open' });
    }
    return real.writeFile(file, ...rest);
  };
  return { ...real, default: { ...real, writeFile }, writeFile };
});

let redis: TestRedis;
let w: World;
let lg: Lotgate;
let disk: FullDisk | null;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
  const lots = path.join(w.dir, 'LOTS_1.csv');
  writeFileSync(lots, lotsCsv(['L1']));
  const id = await registerFile(lg, { partner: 'erp', path: lots, name: 'LOTS_1.csv', source: 'cli', removeSource: false });
  expect((await processSubmission(lg, id)).state).toBe('applied');
  disk = fullDisk(w.outbound('lab-a'));
  // As root the disk is really full; only an unprivileged run falls back to the injection.
  if (process.getuid?.() === 0) expect(disk).not.toBeNull();
  if (!disk) inject.enospcUnder = w.outbound('lab-a');
});

afterEach(async () => {
  inject.enospcUnder = null;
  disk?.unmount();
  await lg.close();
  w.cleanup();
});

function freeSpace(): void {
  if (disk) disk.free();
  else inject.enospcUnder = null;
}

async function submitResults(rows: number): Promise<number> {
  const file = path.join(w.dir, `RESULTS_${rows}.csv`);
  writeFileSync(file, resultsCsv('L1', rows));
  return registerFile(lg, { partner: 'lab-a', path: file, name: `RESULTS_${rows}.csv`, source: 'cli', removeSource: false });
}

const TERMINAL_ACTIONS = ['submission.applied', 'submission.applied_with_errors', 'submission.rejected', 'submission.quarantined', 'submission.duplicate'];
async function terminalEvents(id: number) {
  return (await lg.store.audit.listAudit({ subject: `submission:${id}`, limit: 100 })).filter((e) => TERMINAL_ACTIONS.includes(e.action));
}
const testsOfL1 = async () => (await lg.store.reads.getLotDetail('L1') as { tests: unknown[] }).tests.length;

function reconciler(ackRedriveAfterMs = 0) {
  return createReconciler({
    config: w.config,
    partners: lg.partners,
    now: lg.now,
    log: lg.log,
    ledger: directLedger(lg),
    enqueue: async () => {},
    store: lg.store,
    requeue: async () => 'present',
    jobState: async () => 'completed',
  }, { ackRedriveAfterMs });
}

describe('disk full when the acknowledgment is written', () => {
  it('keeps the applied state, records the owed ack, and the reconciler writes it later', async () => {
    const id = await submitResults(20);
    const r = await processSubmission(lg, id);
    expect(r.state).toBe('applied');
    expect(r.ackError).toMatch(/ENOSPC/);
    expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ state: 'applied', applied: 20, ackPending: true, ackWrittenAt: null });
    expect(await lg.store.audit.listAudit({ subject: `submission:${id}`, action: 'submission.ack_failed' })).toHaveLength(1);
    expect(readdirSync(w.outbound('lab-a')).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    // What the queue does after a failing last attempt: it must not rewrite the decision.
    const q = await quarantine(lg, id, 'E_PROCESSING_FAILED', 'Processing failed 3 times');
    expect(q.state).toBe('applied');
    // A job retry only re-acknowledges: nothing applied twice.
    expect((await processSubmission(lg, id)).state).toBe('applied');
    expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ state: 'applied', applied: 20, errorCode: null });
    expect(await lg.store.ledger.listRejectedRows(id)).toEqual([]);
    expect((await terminalEvents(id)).map((e) => e.action)).toEqual(['submission.applied']);
    expect(await testsOfL1()).toBe(20);

    freeSpace();
    // Decided a moment ago: by default the reconciler leaves the ack to the submission's own run.
    expect(await reconciler(30_000).scan()).toMatchObject({ acksWritten: 0 });
    const report = await reconciler().scan();
    expect(report).toMatchObject({ acksWritten: 1, acksFailed: 0 });
    const ackFile = path.join(w.outbound('lab-a'), 'RESULTS_20.csv.ack.json');
    expect(JSON.parse(readFileSync(ackFile, 'utf8'))).toMatchObject({ submissionId: id, state: 'applied', counts: { rows: 20, applied: 20, rejected: 0 } });
    expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ state: 'applied', ackPending: false, ackPath: path.join(w.outbound('lab-a'), `RESULTS_20.csv.${id}.ack.json`) });
    expect((await lg.store.ledger.getSubmission(id))!.ackWrittenAt).not.toBeNull();
    expect(await lg.store.audit.listAudit({ subject: `submission:${id}`, action: 'submission.ack_written' })).toHaveLength(1);
    // Idempotent: nothing more is owed.
    expect(await reconciler().scan()).toMatchObject({ acksWritten: 0, acksFailed: 0 });
    expect(await terminalEvents(id)).toHaveLength(1);
  });

  it('through the real queue (retries, then the last-attempt path): the job completes and the file stays applied', async () => {
    const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    const producer = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    const settings = { ...queueSettings(w.config, { LOTGATE_QUEUE_PREFIX: `ack-${randomBytes(4).toString('hex')}` }), attempts: 2, backoffMs: 20 };
    const queues = new IngestQueues(producer, settings, testLog());
    // The thread pool's work, run in this thread.
    const runner: TaskRunner = {
      run: async (t) => {
        if (t.kind === 'process') return { state: (await processSubmission(lg, t.submissionId)).state };
        if (t.kind === 'quarantine') return { state: (await quarantine(lg, t.submissionId, t.code, t.message)).state };
        throw new Error(`unexpected task ${t.kind}`);
      },
    };
    const workers = new IngestWorkers({ connection: conn, settings, pool: runner, log: testLog(), partnerIds: async () => ['lab-a'], refreshMs: 60_000 });
    try {
      await workers.start();
      const id = await submitResults(100);
      await queues.enqueue('lab-a', id);
      await until(async () => (await queues.counts('lab-a')).completed + (await queues.counts('lab-a')).failed >= 1, 'the job to end');
      expect(await queues.counts('lab-a')).toMatchObject({ completed: 1, failed: 0 });
      expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ state: 'applied', applied: 100, ackPending: true });
      expect((await terminalEvents(id)).map((e) => e.action)).toEqual(['submission.applied']);
      expect(await testsOfL1()).toBe(100);
      expect(existsSync(path.join(w.outbound('lab-a'), 'RESULTS_100.csv.ack.json'))).toBe(false);
      freeSpace();
      expect(await reconciler().scan()).toMatchObject({ acksWritten: 1 });
      expect(existsSync(path.join(w.outbound('lab-a'), 'RESULTS_100.csv.ack.json'))).toBe(true);
    } finally {
      await workers.close(1000, async () => {});
      await queues.close();
      conn.disconnect();
      producer.disconnect();
    }
  });
});

describe('a partial upload born quarantined', () => {
  it('has one terminal audit event and its error row, and the later quarantine call does not add another', async () => {
    freeSpace();
    const file = path.join(w.dir, 'partial.bin');
    mkdirSync(w.dir, { recursive: true });
    writeFileSync(file, 'Lot,Material\nL1,');
    const id = await registerFile(lg, { partner: 'lab-a', path: file, name: 'RESULTS_x.csv', source: 'sftp', removeSource: true, quarantined: { code: 'E_PARTIAL_UPLOAD', message: 'interrupted' } });
    await quarantine(lg, id, 'E_PARTIAL_UPLOAD', 'interrupted');
    expect((await terminalEvents(id)).map((e) => e.action)).toEqual(['submission.quarantined']);
    expect((await lg.store.ledger.listRejectedRows(id)).map((e) => e.code)).toEqual(['E_PARTIAL_UPLOAD']);
    expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ state: 'quarantined', ackPending: false });
  });
});

describe('disk full while a file is being read (its mapped rows spill to <dataDir>/tmp)', () => {
  it('fails the run before anything is applied, leaves no temp file, and the submission can run again', async () => {
    disk?.unmount();
    disk = null;
    inject.enospcUnder = null;
    const tmp = path.join(w.dataDir, 'tmp');
    const full = fullDisk(tmp, 4096);
    if (!full) return; // needs a real full disk: writeSync is not injectable here
    try {
      const small = await createLotgate({ ...w.config, ingest: { spoolMemoryBytes: 1000 } }, { log: testLog() });
      try {
        const id = await submitResults(2000);
        await expect(processSubmission(small, id)).rejects.toThrow(/ENOSPC/);
        expect(await small.store.ledger.getSubmission(id)).toMatchObject({ state: 'received', applied: 0, ackPending: false });
        expect(await testsOfL1()).toBe(0);
        expect(readdirSync(tmp).filter((n) => n.startsWith('spool-'))).toEqual([]);
        full.free();
        expect((await processSubmission(small, id)).state).toBe('applied');
        expect(await testsOfL1()).toBe(2000);
      } finally {
        await small.close();
      }
    } finally {
      full.unmount();
    }
  });
});
