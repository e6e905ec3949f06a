// Uploads stranded by a crash or a full disk are answered at start-up: the drop zone's hidden
// temp files left in inbound/ and partial uploads in .quarantine/ that never reached the ledger
// each get a ledger row (quarantined, E_PARTIAL_UPLOAD) and an acknowledgment — once.

import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { directLedger } from '../../pipeline/intake/ledger-writer.js';
import { parseQuarantinedName, parseUploadTempName, stampForFileName, tempNameFor } from '../../pipeline/intake/names.js';
import { createReconciler, type ReconcileOptions, type ReconcilerDeps } from '../../pipeline/intake/reconciler.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { testLog } from '../runtime/helpers/log.js';
import { makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';

let w: World;
let lg: Lotgate;
let deps: ReconcilerDeps;

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
  deps = {
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
});
afterEach(async () => {
  await lg.close();
  w.cleanup();
});

function write(dir: string, name: string, content: string, ageMs: number): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, content);
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(file, t, t);
  return file;
}

const reconciler = (opts: ReconcileOptions = {}) => createReconciler(deps, { stagedGraceMs: 0, ...opts });
const quarantineDir = (p: string) => path.join(w.dropDir, p, '.quarantine');

describe('names of stranded uploads', () => {
  it('reads back the drop zone’s own temp and quarantine names', () => {
    expect(parseUploadTempName(tempNameFor('RESULTS_7.csv'))).toEqual({ originalName: 'RESULTS_7.csv' });
    expect(parseUploadTempName('.RESULTS_7.csv.tmp')).toBeNull();
    const at = Date.UTC(2026, 11, 7, 1, 2, 3, 456);
    expect(parseQuarantinedName(`${stampForFileName(at)}-RESULTS 8.csv`)).toEqual({ originalName: 'RESULTS 8.csv', quarantinedAtMs: at });
  });
});

describe('stranded uploads at start-up', () => {
  it('answers a temp file left by a crash mid-upload, and leaves a live upload alone', async () => {
    const cut = write(w.inbound('lab-a'), tempNameFor('RESULTS_cut.csv'), resultsCsv('L1', 50).slice(0, 700), 60_000);
    // Still being written (touched after this process started): not stranded.
    const r = reconciler();
    const live = write(w.inbound('lab-a'), tempNameFor('RESULTS_live.csv'), 'Lot,Mat', 0);
    const report = await r.scan();
    expect(report).toMatchObject({ strandedAnswered: 1, errors: [] });
    expect(existsSync(cut)).toBe(false);
    expect(existsSync(live)).toBe(true);

    const [sub] = await lg.store.ledger.listSubmissions({ partner: 'lab-a' });
    expect(sub).toMatchObject({ originalName: 'RESULTS_cut.csv', state: 'quarantined', errorCode: 'E_PARTIAL_UPLOAD', size: 700, source: 'sftp', ackPending: false });
    expect(existsSync(sub.archivePath)).toBe(true);
    const ack = JSON.parse(readFileSync(path.join(w.outbound('lab-a'), 'RESULTS_cut.csv.ack.json'), 'utf8'));
    expect(ack).toMatchObject({ state: 'quarantined', submissionId: sub.id, errors: [{ code: 'E_PARTIAL_UPLOAD' }] });
    expect(ack.errors[0].message).toContain('700 bytes received');
    expect(await lg.store.audit.listAudit({ subject: `submission:${sub.id}`, action: 'submission.quarantined' })).toHaveLength(1);

    // Later passes: the live upload is left alone until it has been quiet for partialStaleMs.
    expect(await r.scan()).toMatchObject({ strandedAnswered: 0 });
    expect(existsSync(live)).toBe(true);
    expect(await lg.store.ledger.listSubmissions({ partner: 'lab-a' })).toHaveLength(1);
  });

  it('answers a temp file quiet for longer than partialStaleMs on any pass', async () => {
    const r = reconciler({ partialStaleMs: 5_000 });
    await r.scan(); // the start-up pass is over
    const stale = write(w.inbound('lab-b'), tempNameFor('RESULTS_stale.csv'), 'Lot,Material\n', 10_000);
    expect(await r.scan()).toMatchObject({ strandedAnswered: 1 });
    expect(existsSync(stale)).toBe(false);
    expect((await lg.store.ledger.listSubmissions({ partner: 'lab-b' }))[0]).toMatchObject({ originalName: 'RESULTS_stale.csv', state: 'quarantined', errorCode: 'E_PARTIAL_UPLOAD' });
  });

  it('registers partial uploads left unregistered in .quarantine/ (disk full), once', async () => {
    const at = Date.now() - 120_000;
    const names = [`${stampForFileName(at)}-RESULTS_a.csv`, `${stampForFileName(at + 1)}-RESULTS_b.csv`];
    for (const n of names) write(quarantineDir('lab-a'), n, `partial ${n}`, 120_000);
    expect(await reconciler().scan()).toMatchObject({ strandedAnswered: 2, errors: [] });
    expect(readdirSync(quarantineDir('lab-a'))).toEqual([]);
    const subs = await lg.store.ledger.listSubmissions({ partner: 'lab-a' });
    expect(subs.map((s) => [s.originalName, s.state, s.errorCode, s.receivedAt]).sort()).toEqual([
      ['RESULTS_a.csv', 'quarantined', 'E_PARTIAL_UPLOAD', new Date(at).toISOString()],
      ['RESULTS_b.csv', 'quarantined', 'E_PARTIAL_UPLOAD', new Date(at + 1).toISOString()],
    ]);
    expect(existsSync(path.join(w.outbound('lab-a'), 'RESULTS_a.csv.ack.json'))).toBe(true);

    // A crash between the ledger row and the removal leaves the copy: it is removed, not registered again.
    write(quarantineDir('lab-a'), names[0], `partial ${names[0]}`, 120_000);
    expect(await reconciler().scan()).toMatchObject({ strandedAnswered: 0, strandedRemoved: 1 });
    expect(await lg.store.ledger.listSubmissions({ partner: 'lab-a' })).toHaveLength(2);
    expect(readdirSync(quarantineDir('lab-a'))).toEqual([]);
  });

  it('leaves a partial the drop zone is registering right now (grace period); at start-up takes those from before', async () => {
    write(quarantineDir('lab-a'), `${stampForFileName(Date.now())}-RESULTS_before.csv`, 'x', 0);
    await new Promise((res) => setTimeout(res, 1100));
    const r = createReconciler(deps, { stagedGraceMs: 60_000, startupQuietMs: 0 });
    write(quarantineDir('lab-a'), `${stampForFileName(Date.now())}-RESULTS_now.csv`, 'y', 0);
    // Start-up pass: the partial set aside before this process started is answered.
    expect(await r.scan()).toMatchObject({ strandedAnswered: 1 });
    expect(await r.scan()).toMatchObject({ strandedAnswered: 0 });
    expect((await lg.store.ledger.listSubmissions({ partner: 'lab-a' })).map((s) => s.originalName)).toEqual(['RESULTS_before.csv']);
    expect(readdirSync(quarantineDir('lab-a'))).toEqual([expect.stringMatching(/RESULTS_now\.csv$/)]);
  });
});
