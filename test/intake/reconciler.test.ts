import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hashFile } from '../../pipeline/intake/archive.js';
import { directLedger } from '../../pipeline/intake/ledger-writer.js';
import { stagedName } from '../../pipeline/intake/names.js';
import { createReconciler, type ReconcilerDeps } from '../../pipeline/intake/reconciler.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { recoverDirtyLots } from '../../pipeline/readiness/recompute.js';
import { IngestQueues } from '../../pipeline/queue/ingest-queues.js';
import { queueName, queueSettings } from '../../pipeline/queue/settings.js';
import { UnrecoverableError, Worker } from 'bullmq';
import { testLog } from '../runtime/helpers/log.js';
import { startTestRedis, type TestRedis } from '../runtime/helpers/redis.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';
import { failStillDirty } from '../ingest/helpers.js';

let redis: TestRedis;
let conn: Redis;
let w: World;
let lg: Lotgate;
let queues: IngestQueues;
let deps: ReconcilerDeps;

beforeAll(async () => {
  redis = await startTestRedis();
  conn = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  conn.disconnect();
  await redis.stop();
});

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
  queues = new IngestQueues(conn, queueSettings(w.config, { LOTGATE_QUEUE_PREFIX: `rec-${randomBytes(4).toString('hex')}` }), testLog());
  deps = {
    config: w.config,
    partners: lg.partners,
    now: lg.now,
    log: lg.log,
    ledger: directLedger(lg),
    enqueue: (p, id) => queues.enqueue(p, id),
    noticed: new Set(),
    staging: new Set(),
    store: lg.store,
    requeue: (p, id) => queues.ensureQueued(p, id),
    jobState: (p, id) => queues.jobState(p, id),
  };
});

afterEach(async () => {
  await queues.close();
  await lg.close();
  w.cleanup();
});

function drop(partner: string, name: string, content: string, ageMs = 0): string {
  mkdirSync(w.inbound(partner), { recursive: true });
  const file = path.join(w.inbound(partner), name);
  writeFileSync(file, content);
  if (ageMs) {
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(file, t, t);
  }
  return file;
}

function stage(partner: string, name: string, content: string, receivedAtMs: number): string {
  const dir = path.join(w.dropDir, partner, '.intake');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, stagedName(name, receivedAtMs, 'c0ffee'));
  writeFileSync(file, content);
  return file;
}

/** What BullMQ does to a job whose worker died too often: it fails it for good. */
async function failForGood(partner: string): Promise<void> {
  const worker = new Worker(queueName(partner), null, { connection: { url: redis.url }, prefix: queues.settings.prefix, autorun: false });
  try {
    const job = await worker.getNextJob('test-token');
    await job!.moveToFailed(new UnrecoverableError('job stalled more than allowable limit'), 'test-token', false);
  } finally {
    await worker.close();
  }
}

async function jobIds(partner: string): Promise<string[]> {
  const jobs = await queues.queue(partner).getJobs(['waiting', 'delayed', 'active', 'failed', 'completed']);
  return jobs.map((j) => j.id!).sort();
}

describe('reconciler', () => {
  it('recomputes lots a crash left dirty once their markers are old enough, each change once', async () => {
    const file = path.join(w.dir, 'LOTS_1.csv');
    writeFileSync(file, lotsCsv(['L1', 'L2']));
    const sub = await registerFile(lg, { partner: 'erp', path: file, name: 'LOTS_1.csv', source: 'cli', removeSource: false });
    // The process "dies" after the file's commit, before its readiness step.
    const restore = failStillDirty(lg.store);
    await processSubmission(lg, sub);
    restore();
    expect(await lg.store.readiness.countDirtyLots()).toBe(2);
    const withReadiness = { ...deps, recomputeDirty: (ms: number) => recoverDirtyLots(lg, lg.now(), ms) };
    // Fresh markers belong to the process that set them.
    expect(await createReconciler(withReadiness, { dirtyAfterMs: 60_000 }).scan()).toMatchObject({ readinessRecovered: 0 });
    expect(await lg.store.readiness.countDirtyLots()).toBe(2);
    expect(await createReconciler(withReadiness, { dirtyAfterMs: 0 }).scan()).toMatchObject({ readinessRecovered: 2, errors: [] });
    expect(await lg.store.readiness.countDirtyLots()).toBe(0);
    expect((await lg.store.audit.listAudit({ action: 'lot.readiness_changed' })).map((e) => e.actor)).toEqual([`submission:${sub}`, `submission:${sub}`]);
    expect(await createReconciler(withReadiness, { dirtyAfterMs: 0 }).scan()).toMatchObject({ readinessRecovered: 0 });
    expect(await lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness' })).toHaveLength(2);
  });

  it('takes files that were already complete in inbound/ at start-up', async () => {
    drop('lab-a', 'RESULTS_1.csv', resultsCsv('L1', 3), 60_000);
    drop('lab-b', 'RESULTS_2.csv', resultsCsv('L1', 3), 60_000);
    const r = await createReconciler(deps).scan();
    expect(r).toMatchObject({ taken: 2, errors: [] });
    expect((await lg.store.ledger.listSubmissions({})).map((s) => `${s.partner}/${s.originalName}`).sort()).toEqual(['lab-a/RESULTS_1.csv', 'lab-b/RESULTS_2.csv']);
    expect(await jobIds('lab-a')).toHaveLength(1);
    expect(readdirSync(w.inbound('lab-a'))).toEqual([]);
  });

  it('waits for a file that is still changing and takes it once it stopped', async () => {
    const file = drop('lab-a', 'RESULTS_3.csv', 'Lot,Material,Sample,Test,Value\n');
    const rec = createReconciler(deps, { stableMs: 60_000 });
    expect(await rec.scan()).toMatchObject({ taken: 0, waitingForStability: 1 });
    writeFileSync(file, resultsCsv('L1', 10));
    expect(await rec.scan()).toMatchObject({ taken: 0, waitingForStability: 1 });
    // Unchanged since the last pass: complete.
    expect(await rec.scan()).toMatchObject({ taken: 1, waitingForStability: 0 });
    const [sub] = await lg.store.ledger.listSubmissions({});
    expect(sub.size).toBe(Buffer.byteLength(resultsCsv('L1', 10)));
  });

  it('does not take temporary names or files of unknown partners', async () => {
    drop('lab-a', 'RESULTS_4.csv.filepart', 'x', 60_000);
    drop('stranger', 'RESULTS_4.csv', 'x', 60_000);
    expect(await createReconciler(deps).scan()).toMatchObject({ taken: 0, errors: [] });
    expect(await lg.store.ledger.listSubmissions({})).toEqual([]);
  });

  it('registers a file left in .intake/ by a crash between claim and ledger row, and queues it', async () => {
    const receivedAtMs = Date.UTC(2026, 2, 1, 8, 0, 0, 250);
    const staged = stage('lab-a', 'RESULTS_5.csv', resultsCsv('L1', 4), receivedAtMs);
    const r = await createReconciler(deps, { stagedGraceMs: 0 }).scan();
    expect(r).toMatchObject({ recovered: 1, stagedRemoved: 0 });
    const [sub] = await lg.store.ledger.listSubmissions({});
    expect(sub).toMatchObject({ partner: 'lab-a', originalName: 'RESULTS_5.csv', receivedAt: new Date(receivedAtMs).toISOString(), state: 'received' });
    expect(existsSync(staged)).toBe(false);
    expect(await jobIds('lab-a')).toEqual([`sub-${sub.id}`]);
  });

  it('only removes a staged file whose ledger row was written before the crash', async () => {
    const receivedAtMs = Date.UTC(2026, 2, 1, 9, 0, 0, 0);
    const content = resultsCsv('L1', 4);
    const staged = stage('lab-a', 'RESULTS_6.csv', content, receivedAtMs);
    const d = await hashFile(staged);
    // The crash came after the ledger row and before the staged copy was removed.
    const copy = path.join(w.dir, 'copy.csv');
    writeFileSync(copy, content);
    const id = await registerFile(lg, { partner: 'lab-a', path: copy, name: 'RESULTS_6.csv', source: 'sftp', sha256: d.sha256, size: d.size, receivedAt: new Date(receivedAtMs).toISOString(), removeSource: true });
    const r = await createReconciler(deps, { stagedGraceMs: 0 }).scan();
    expect(r).toMatchObject({ recovered: 0, stagedRemoved: 1 });
    expect(existsSync(staged)).toBe(false);
    expect((await lg.store.ledger.listSubmissions({})).map((s) => s.id)).toEqual([id]);
  });

  it('an earlier upload of the same bytes under the same name does not make a staged file vanish', async () => {
    const content = resultsCsv('L1', 4);
    const earlier = path.join(w.dir, 'earlier.csv');
    writeFileSync(earlier, content);
    await registerFile(lg, { partner: 'lab-a', path: earlier, name: 'RESULTS_7.csv', source: 'sftp', receivedAt: '2026-03-01T07:00:00.000Z', removeSource: true });
    stage('lab-a', 'RESULTS_7.csv', content, Date.UTC(2026, 2, 1, 10, 0, 0, 0));
    expect(await createReconciler(deps, { stagedGraceMs: 0 }).scan()).toMatchObject({ recovered: 1, stagedRemoved: 0 });
    expect(await lg.store.ledger.listSubmissions({ partner: 'lab-a' })).toHaveLength(2);
  });

  it('leaves a staged file alone while someone may still be registering it', async () => {
    const staged = stage('lab-a', 'RESULTS_8.csv', resultsCsv('L1', 2), Date.now());
    expect(await createReconciler(deps, { stagedGraceMs: 60_000 }).scan()).toMatchObject({ recovered: 0 });
    deps.staging!.add(staged);
    expect(await createReconciler(deps, { stagedGraceMs: 0 }).scan()).toMatchObject({ recovered: 0 });
    expect(existsSync(staged)).toBe(true);
    expect(await lg.store.ledger.listSubmissions({})).toEqual([]);
  });

  it('re-queues ledger rows without a live job, and does not double those that have one', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const f = path.join(w.dir, `r${i}.csv`);
      writeFileSync(f, resultsCsv('L1', 2, i * 10));
      ids.push(await registerFile(lg, { partner: i === 2 ? 'lab-b' : 'lab-a', path: f, name: `RESULTS_${i}.csv`, source: 'watch', removeSource: true }));
    }
    await queues.enqueue('lab-a', ids[0]);
    const rec = createReconciler(deps);
    expect(await rec.scan()).toMatchObject({ requeued: 2 });
    expect(await jobIds('lab-a')).toEqual([`sub-${ids[0]}`, `sub-${ids[1]}`].sort());
    expect(await jobIds('lab-b')).toEqual([`sub-${ids[2]}`]);
    expect(await rec.scan()).toMatchObject({ requeued: 0 });
    expect(await jobIds('lab-a')).toHaveLength(2);
  });

  it('replaces a finished job of a submission the ledger says is not finished', async () => {
    const f = path.join(w.dir, 'x.csv');
    writeFileSync(f, resultsCsv('L1', 2));
    const id = await registerFile(lg, { partner: 'lab-a', path: f, name: 'RESULTS_9.csv', source: 'watch', removeSource: true });
    await queues.enqueue('lab-a', id);
    await failForGood('lab-a');
    expect(await queues.jobState('lab-a', id)).toBe('failed');
    expect(await createReconciler(deps).scan()).toMatchObject({ requeued: 1, quarantined: 0 });
    expect(await queues.jobState('lab-a', id)).toBe('waiting');
  });

  it('quarantines, with an acknowledgment, a submission whose worker died on every attempt', async () => {
    const f = path.join(w.dir, 'y.csv');
    writeFileSync(f, resultsCsv('L1', 2));
    const id = await registerFile(lg, { partner: 'lab-a', path: f, name: 'RESULTS_10.csv', source: 'watch', removeSource: true });
    await lg.store.ledger.updateSubmission(id, { state: 'processing', attempts: w.config.queue.attempts });
    await queues.enqueue('lab-a', id);
    await failForGood('lab-a');
    expect(await createReconciler(deps).scan()).toMatchObject({ quarantined: 1, requeued: 0 });
    expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ state: 'quarantined', errorCode: 'E_PROCESSING_FAILED' });
    expect(existsSync(path.join(w.outbound('lab-a'), 'RESULTS_10.csv.ack.json'))).toBe(true);
  });

  it('keeps going with the folders when Redis is unreachable, and says so', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    dead.on('error', () => {});
    const offline = new IngestQueues(dead, queueSettings(w.config, {}), testLog());
    try {
      drop('lab-a', 'RESULTS_11.csv', resultsCsv('L1', 2), 60_000);
      const r = await createReconciler({ ...deps, enqueue: (p, id) => offline.enqueue(p, id), requeue: (p, id) => offline.ensureQueued(p, id), jobState: (p, id) => offline.jobState(p, id) }).scan();
      expect(r.taken).toBe(1);
      expect(r.errors.join('\n')).toMatch(/submission \d+:/);
      expect(await lg.store.ledger.listUnfinishedSubmissions()).toHaveLength(1);
    } finally {
      await offline.close();
      dead.disconnect();
    }
  });
});
