import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsArchive, hashFile } from '../../pipeline/intake/archive.js';
import { takeFile, takePartial, type IntakeDeps } from '../../pipeline/intake/intake.js';
import { directLedger } from '../../pipeline/intake/ledger-writer.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { testLog } from '../runtime/helpers/log.js';
import { makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';

let w: World;
let lg: Lotgate;
let queued: { partner: string; id: number }[];
let deps: IntakeDeps;

function depsFor(l: Lotgate): IntakeDeps {
  return {
    config: l.config,
    partners: l.partners,
    now: l.now,
    log: l.log,
    ledger: directLedger(l),
    enqueue: async (partner, id) => {
      queued.push({ partner, id });
    },
    noticed: new Set(),
    staging: new Set(),
  };
}

function drop(partner: string, name: string, content: string): string {
  mkdirSync(w.inbound(partner), { recursive: true });
  const file = path.join(w.inbound(partner), name);
  writeFileSync(file, content);
  return file;
}

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
  queued = [];
  deps = depsFor(lg);
});

afterEach(async () => {
  await lg.close();
  w.cleanup();
});

describe('takeFile', () => {
  it('moves a file from inbound/ into the archive and the ledger, then queues it', async () => {
    const content = resultsCsv('L1', 3);
    const file = drop('lab-a', 'RESULTS_1.csv', content);
    const digest = await hashFile(file);
    const r = await takeFile(deps, { partner: 'lab-a', path: file });
    expect(r).toMatchObject({ status: 'taken', enqueued: true });
    const id = (r as { submissionId: number }).submissionId;
    expect(queued).toEqual([{ partner: 'lab-a', id }]);
    const sub = (await lg.store.ledger.getSubmission(id))!;
    expect(sub).toMatchObject({ partner: 'lab-a', originalName: 'RESULTS_1.csv', source: 'watch', state: 'received', sha256: digest.sha256, size: digest.size });
    expect(readFileSync(fsArchive(path.join(w.dataDir, 'archive')).pathOf(digest.sha256), 'utf8')).toBe(content);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(path.join(w.dropDir, 'lab-a', '.intake'))).toEqual([]);
  });

  it('records the drop zone as the source and keeps its receivedAt', async () => {
    const file = drop('lab-a', 'RESULTS_2.csv', resultsCsv('L1', 2));
    const d = await hashFile(file);
    const receivedAt = '2026-03-01T10:00:00.123Z';
    const r = await takeFile(deps, { partner: 'lab-a', path: file, sha256: d.sha256, size: d.size, receivedAt, source: 'sftp' });
    const sub = (await lg.store.ledger.getSubmission((r as { submissionId: number }).submissionId))!;
    expect(sub).toMatchObject({ source: 'sftp', receivedAt, sha256: d.sha256 });
  });

  it('hashes the file itself when the announced size does not match what it claimed', async () => {
    const file = drop('lab-a', 'RESULTS_3.csv', resultsCsv('L1', 2));
    const d = await hashFile(file);
    const r = await takeFile(deps, { partner: 'lab-a', path: file, sha256: 'f'.repeat(64), size: d.size + 1, source: 'sftp' });
    const sub = (await lg.store.ledger.getSubmission((r as { submissionId: number }).submissionId))!;
    expect(sub.sha256).toBe(d.sha256);
    expect(existsSync(fsArchive(path.join(w.dataDir, 'archive')).pathOf('f'.repeat(64)))).toBe(false);
  });

  it.each(['.RESULTS_4.csv.swp', 'RESULTS_4.csv.part', 'RESULTS_4.csv.filepart', 'RESULTS_4.csv.tmp', '~$RESULTS_4.csv', 'RESULTS_4.csv.ack.json'])('leaves %s alone', async (name) => {
    const file = drop('lab-a', name, 'x');
    const r = await takeFile(deps, { partner: 'lab-a', path: file });
    expect(r.status).toBe('ignored');
    expect(existsSync(file)).toBe(true);
    expect(await lg.store.ledger.listSubmissions({})).toEqual([]);
    expect(queued).toEqual([]);
  });

  it('leaves files of a folder that belongs to no configured partner where they are', async () => {
    const file = drop('stranger', 'RESULTS_5.csv', 'x');
    const first = await takeFile(deps, { partner: 'stranger', path: file });
    const again = await takeFile(deps, { partner: 'stranger', path: file });
    expect(first).toEqual({ status: 'ignored', reason: 'no partner "stranger" is configured' });
    expect(again.status).toBe('ignored');
    expect(existsSync(file)).toBe(true);
    expect(deps.noticed!.has(file)).toBe(true);
    expect(await lg.store.ledger.listSubmissions({})).toEqual([]);
  });

  it('does not follow a symbolic link planted in inbound/', async () => {
    const secret = path.join(w.dir, 'secret.txt');
    writeFileSync(secret, 'do not take me');
    mkdirSync(w.inbound('lab-a'), { recursive: true });
    const link = path.join(w.inbound('lab-a'), 'RESULTS_6.csv');
    symlinkSync(secret, link);
    const r = await takeFile(deps, { partner: 'lab-a', path: link });
    expect(r).toEqual({ status: 'ignored', reason: 'symbolic link' });
    expect(await lg.store.ledger.listSubmissions({})).toEqual([]);
    expect(existsSync(secret)).toBe(true);
  });

  it('does not take a file outside the partner inbound/ folder', async () => {
    mkdirSync(w.outbound('lab-a'), { recursive: true });
    const file = path.join(w.outbound('lab-a'), 'RESULTS_7.csv');
    writeFileSync(file, 'x');
    expect((await takeFile(deps, { partner: 'lab-a', path: file })).status).toBe('ignored');
    expect(existsSync(file)).toBe(true);
  });

  it('a file that is already gone is reported as such, not as an error', async () => {
    expect(await takeFile(deps, { partner: 'lab-a', path: path.join(w.inbound('lab-a'), 'RESULTS_8.csv') })).toEqual({ status: 'gone' });
  });

  it('one file, many racing claimers (watcher, drop-zone callback, scan, a second intake process): one submission', async () => {
    const other = await createLotgate(w.config, { log: testLog() });
    try {
      for (let round = 0; round < 5; round++) {
        const file = drop('lab-a', `RESULTS_race_${round}.csv`, resultsCsv('L1', 50, round * 100));
        const claimers = [deps, deps, depsFor(other), depsFor(other), deps, depsFor(other)];
        const results = await Promise.all(claimers.map((d, i) => takeFile(d, { partner: 'lab-a', path: file, source: i % 2 ? 'sftp' : 'watch' })));
        expect(results.filter((r) => r.status === 'taken')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'gone')).toHaveLength(claimers.length - 1);
      }
      const subs = await lg.store.ledger.listSubmissions({ partner: 'lab-a' });
      expect(subs).toHaveLength(5);
      expect(new Set(subs.map((s) => s.originalName)).size).toBe(5);
      expect(queued).toHaveLength(5);
    } finally {
      await other.close();
    }
  });

  it('a failed enqueue (Redis away) still leaves the file safely in the ledger', async () => {
    const file = drop('lab-a', 'RESULTS_9.csv', resultsCsv('L1', 2));
    const r = await takeFile({ ...deps, enqueue: async () => Promise.reject(new Error('connect ECONNREFUSED')) }, { partner: 'lab-a', path: file });
    expect(r).toMatchObject({ status: 'taken', enqueued: false });
    expect((await lg.store.ledger.listUnfinishedSubmissions()).map((s) => s.originalName)).toEqual(['RESULTS_9.csv']);
  });

  it('a failed registration leaves the claimed file in .intake/ for the reconciler', async () => {
    const file = drop('lab-a', 'RESULTS_10.csv', resultsCsv('L1', 2));
    const failing: IntakeDeps = { ...deps, ledger: { ...deps.ledger, register: async () => Promise.reject(new Error('disk full')) } };
    await expect(takeFile(failing, { partner: 'lab-a', path: file })).rejects.toThrow('disk full');
    const staged = readdirSync(path.join(w.dropDir, 'lab-a', '.intake'));
    expect(staged).toHaveLength(1);
    expect(staged[0]).toMatch(/~RESULTS_10\.csv$/);
    expect(deps.staging!.size).toBe(0);
  });
});

describe('takePartial', () => {
  it('keeps the bytes, quarantines the submission and writes the acknowledgment; nothing is queued', async () => {
    const qdir = path.join(w.dropDir, 'lab-a', '.quarantine');
    mkdirSync(qdir, { recursive: true });
    const partial = path.join(qdir, 'RESULTS_11.csv.1234.partial');
    writeFileSync(partial, 'Lot,Material,Sample,Test,Value\nL1,0000');
    const d = await hashFile(partial);
    const id = await takePartial(deps, { partner: 'lab-a', name: 'RESULTS_11.csv', path: partial, size: d.size, sha256: d.sha256, receivedAt: '2026-03-01T10:00:00.000Z' });
    const sub = (await lg.store.ledger.getSubmission(id))!;
    expect(sub).toMatchObject({ state: 'quarantined', errorCode: 'E_PARTIAL_UPLOAD', source: 'sftp', size: d.size, sha256: d.sha256 });
    expect(existsSync(fsArchive(path.join(w.dataDir, 'archive')).pathOf(d.sha256))).toBe(true);
    expect(existsSync(partial)).toBe(false);
    const ack = JSON.parse(readFileSync(path.join(w.outbound('lab-a'), 'RESULTS_11.csv.ack.json'), 'utf8'));
    expect(ack).toMatchObject({ state: 'quarantined', submissionId: id, counts: { applied: 0 } });
    expect(ack.errors).toEqual([{ code: 'E_PARTIAL_UPLOAD', message: `The upload was interrupted before the file was closed (${d.size} bytes received); nothing was applied. Upload the file again.` }]);
    expect(queued).toEqual([]);
    expect(await lg.store.ledger.listUnfinishedSubmissions()).toEqual([]);
  });
});
