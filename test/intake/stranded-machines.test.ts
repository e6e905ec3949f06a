// Stranded uploads with several machines sharing one drop folder (docs/reliability.md): intake
// processes passing over the same stranded file at once answer it exactly once (each claims it by
// an atomic rename first), and the start-up rule answers only temp files of this machine's own drop
// zone — another machine's upload may only be paused — while intake.partialStaleSeconds applies to
// every temp file.

import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localHostId } from '../../pipeline/intake/host-id.js';
import { directLedger } from '../../pipeline/intake/ledger-writer.js';
import { claimedPartialName, parseStagedName, parseUploadTempName, stampForFileName, tempNameFor } from '../../pipeline/intake/names.js';
import { createReconciler, type ReconcileOptions, type ReconcilerDeps } from '../../pipeline/intake/reconciler.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { localSha256 } from '../../pipeline/sftp/hash-pool.js';
import { Upload } from '../../pipeline/sftp/upload.js';
import { testLog } from '../runtime/helpers/log.js';
import { makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';

let w: World;
let lg: Lotgate;

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
});
afterEach(async () => {
  await lg.close();
  w.cleanup();
});

/** The intake deps of one process; several share the store and the drop folder. */
function intakeProcess(): ReconcilerDeps {
  return {
    config: w.config,
    partners: lg.partners,
    now: lg.now,
    log: lg.log,
    ledger: directLedger(lg),
    enqueue: async () => {},
    noticed: new Set(),
    staging: new Set(),
    store: lg.store,
    requeue: async () => 'present',
    jobState: async () => 'active',
  };
}

function write(dir: string, name: string, content: string, ageMs: number): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, content);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(file, t, t);
  return file;
}

const quarantineDir = (p: string) => path.join(w.dropDir, p, '.quarantine');
const acks = (p: string) => (existsSync(w.outbound(p)) ? readdirSync(w.outbound(p)).filter((f) => f.endsWith('.ack.json')) : []);

describe('temp names with a host id', () => {
  it('carry the machine that wrote them; names without one still read back', () => {
    expect(parseUploadTempName(tempNameFor('RESULTS_7.csv', 'a1b2c3d4'))).toEqual({ originalName: 'RESULTS_7.csv', hostId: 'a1b2c3d4' });
    expect(parseUploadTempName('.RESULTS_7.csv.0123456789ab.part')).toEqual({ originalName: 'RESULTS_7.csv' });
    expect(parseUploadTempName('.RESULTS_7.csv.0123456789ab-x.part')).toBeNull();
    expect(() => tempNameFor('a.csv', 'Not/AnId')).toThrow(/host id/);
    const long = 'é'.repeat(200);
    expect(Buffer.byteLength(tempNameFor(long, 'abcdef0123456789'))).toBeLessThanOrEqual(255);
    const claimed = claimedPartialName('x'.repeat(254), Date.now(), '0123456789ab');
    expect(Buffer.byteLength(claimed)).toBeLessThanOrEqual(255);
    expect(parseStagedName(claimed)?.originalName).toHaveLength(230);
  });

  it('the drop zone writes its machine’s id into the temp file’s name', async () => {
    mkdirSync(w.inbound('lab-a'), { recursive: true });
    const limits = { reorderWindowBytes: 1 << 20, maxFileBytes: 1 << 20 };
    const tagged = await Upload.create(w.inbound('lab-a'), 'RESULTS_9.csv', limits, Date.now(), localSha256, 'c0ffee42');
    const plain = await Upload.create(w.inbound('lab-a'), 'RESULTS_9.csv', limits, Date.now(), localSha256);
    for (const u of [tagged, plain]) await u.finish(false);
    expect(parseUploadTempName(path.basename(tagged.tempPath))).toEqual({ originalName: 'RESULTS_9.csv', hostId: 'c0ffee42' });
    expect(parseUploadTempName(path.basename(plain.tempPath))).toEqual({ originalName: 'RESULTS_9.csv' });
  });

  it('this machine’s id is made once and kept in its data dir', () => {
    const id = localHostId(w.dataDir);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(readFileSync(path.join(w.dataDir, 'host-id'), 'utf8').trim()).toBe(id);
    expect(localHostId(w.dataDir)).toBe(id);
  });
});

describe('two intake processes over one stranded upload', () => {
  it('answer a stranded temp file and an unregistered partial exactly once', async () => {
    const temps = ['RESULTS_t1.csv', 'RESULTS_t2.csv', 'RESULTS_t3.csv'].map((n) => write(w.inbound('lab-a'), tempNameFor(n), resultsCsv('L1', 40).slice(0, 900), 60_000));
    const at = Date.now() - 120_000;
    write(quarantineDir('lab-a'), `${stampForFileName(at)}-RESULTS_q.csv`, 'partial bytes', 120_000);
    // Set aside before both processes started, so both take it at start-up.
    await new Promise((res) => setTimeout(res, 1100));
    const opts: ReconcileOptions = { stagedGraceMs: 60_000, startupQuietMs: 0 };
    const [one, two] = [createReconciler(intakeProcess(), opts), createReconciler(intakeProcess(), opts)];
    const reports = await Promise.all([one.scan(), two.scan()]);
    expect(reports.flatMap((r) => r.errors)).toEqual([]);
    expect(reports[0]!.strandedAnswered + reports[1]!.strandedAnswered).toBe(4);
    expect(reports[0]!.strandedRemoved + reports[1]!.strandedRemoved).toBe(0);

    const subs = await lg.store.ledger.listSubmissions({ partner: 'lab-a' });
    expect(subs.map((s) => s.originalName).sort()).toEqual(['RESULTS_q.csv', 'RESULTS_t1.csv', 'RESULTS_t2.csv', 'RESULTS_t3.csv']);
    expect(subs.every((s) => s.state === 'quarantined' && s.errorCode === 'E_PARTIAL_UPLOAD')).toBe(true);
    // One acknowledgment per submission (`<name>.<id>.ack.json`), and nothing else.
    const perSubmission = subs.map((s) => `${s.originalName}.${s.id}.ack.json`);
    const stable = subs.map((s) => `${s.originalName}.ack.json`);
    expect(acks('lab-a').sort()).toEqual([...perSubmission, ...stable].sort());
    for (const s of subs) expect(await lg.store.audit.listAudit({ subject: `submission:${s.id}`, action: 'submission.quarantined' })).toHaveLength(1);
    for (const t of temps) expect(existsSync(t)).toBe(false);
    expect(readdirSync(quarantineDir('lab-a'))).toEqual([]);
    // Later passes of either find nothing left.
    expect((await one.scan()).strandedAnswered + (await two.scan()).strandedAnswered).toBe(0);
    expect(await lg.store.ledger.listSubmissions({ partner: 'lab-a' })).toHaveLength(4);
  });

  it('recovers a claim left by a process that died before its ledger row, once its grace is over', async () => {
    const at = Date.now() - 300_000;
    // The claimed copy of a temp file, as a process left it; a process starting now leaves it
    // alone (its claimer may be registering it), a later pass past the grace period answers it.
    const claimed = write(quarantineDir('lab-a'), claimedPartialName('RESULTS_claimed.csv', at, '0123456789ab'), 'partial', 300_000);
    await new Promise((res) => setTimeout(res, 1100));
    expect(await createReconciler(intakeProcess(), { stagedGraceMs: 60_000, startupQuietMs: 0 }).scan()).toMatchObject({ strandedAnswered: 0 });
    expect(existsSync(claimed)).toBe(true);
    expect(await createReconciler(intakeProcess(), { stagedGraceMs: 1000 }).scan()).toMatchObject({ strandedAnswered: 1, errors: [] });
    const [sub] = await lg.store.ledger.listSubmissions({ partner: 'lab-a' });
    expect(sub).toMatchObject({ originalName: 'RESULTS_claimed.csv', state: 'quarantined', errorCode: 'E_PARTIAL_UPLOAD', receivedAt: new Date(at).toISOString() });
    expect(readdirSync(quarantineDir('lab-a'))).toEqual([]);
  });
});

describe('temp files of another machine', () => {
  it('are not answered by the start-up rule, only once quiet for partialStaleMs', async () => {
    const mine = write(w.inbound('lab-a'), tempNameFor('RESULTS_mine.csv', localHostId(w.dataDir)), 'Lot,Material\n', 60_000);
    const legacy = write(w.inbound('lab-a'), tempNameFor('RESULTS_legacy.csv'), 'Lot,Material\n', 60_000);
    // Another machine's upload whose partner paused for a minute: it may go on.
    const theirs = write(w.inbound('lab-a'), tempNameFor('RESULTS_theirs.csv', 'f00dfeed'), 'Lot,Material\n', 60_000);
    const startUp = await createReconciler(intakeProcess(), { stagedGraceMs: 0 }).scan();
    expect(startUp).toMatchObject({ strandedAnswered: 2, errors: [] });
    expect([existsSync(mine), existsSync(legacy), existsSync(theirs)]).toEqual([false, false, true]);

    const r = createReconciler(intakeProcess(), { stagedGraceMs: 0, partialStaleMs: 120_000 });
    expect(await r.scan()).toMatchObject({ strandedAnswered: 0 });
    expect(existsSync(theirs)).toBe(true);
    // Quiet past intake.partialStaleSeconds: stranded on any machine.
    const t = (Date.now() - 180_000) / 1000;
    utimesSync(theirs, t, t);
    expect(await r.scan()).toMatchObject({ strandedAnswered: 1, errors: [] });
    expect(existsSync(theirs)).toBe(false);
    const subs = await lg.store.ledger.listSubmissions({ partner: 'lab-a' });
    expect(subs.map((s) => [s.originalName, s.state, s.errorCode]).sort()).toEqual([
      ['RESULTS_legacy.csv', 'quarantined', 'E_PARTIAL_UPLOAD'],
      ['RESULTS_mine.csv', 'quarantined', 'E_PARTIAL_UPLOAD'],
      ['RESULTS_theirs.csv', 'quarantined', 'E_PARTIAL_UPLOAD'],
    ]);
  });
});
