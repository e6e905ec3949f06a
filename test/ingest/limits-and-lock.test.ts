// One file must not block every partner: per-partner / per-feed limits on rows and errors per file
// (beyond them the file is rejected as a whole, never half-applied), and the file is read and
// mapped before the write lock is taken.

import { appendFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { itSqlite } from '../setup/store-mode.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { limitsFor } from '../../pipeline/ingest/limits.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { noteApplyRate } from '../../pipeline/ingest/map-off-thread.js';
import { removeStaleSpools, Spool } from '../../pipeline/ingest/spool.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { testLog } from '../runtime/helpers/log.js';
import { lotsCsv, makeWorld, MATERIAL, resultsCsv, type World } from '../runtime/helpers/world.js';

let w: World | null = null;
let lg: Lotgate | null = null;
afterEach(async () => {
  await lg?.close();
  lg = null;
  w?.cleanup();
  w = null;
});

/** A world whose lab-a partner file carries `limits`, and config.yaml extra lines. */
async function setUp(partnerLimits: string | null, configExtra = ''): Promise<Lotgate> {
  w = makeWorld();
  if (partnerLimits) appendFileSync(path.join(w.dir, 'partners', 'lab-a.yaml'), `limits: ${partnerLimits}\n`);
  if (configExtra) appendFileSync(w.configPath, configExtra);
  lg = await createLotgate(loadConfig({ configPath: w.configPath, env: {} }), { log: testLog() });
  expect((await processSubmission(lg, await register('erp', 'LOTS_1.csv', lotsCsv(['L1'])))).state).toBe('applied');
  return lg;
}

async function register(partner: string, name: string, content: string): Promise<number> {
  const file = path.join(w!.dir, `${partner}-${name}`);
  writeFileSync(file, content);
  return registerFile(lg!, { partner, path: file, name, source: 'cli', removeSource: false });
}

const storedTests = async () => (await lg!.store.reads.getLotDetail('L1') as { tests: unknown[] }).tests.length;

describe('limits per file', () => {
  it('resolves feed over partner over config.yaml over the defaults', () => {
    const config = { ingest: { limits: { maxRows: 500 } } };
    expect(limitsFor({}, {}, 'results')).toEqual({ maxRows: 5_000_000, maxErrors: 10_000 });
    expect(limitsFor(config, {}, 'results')).toEqual({ maxRows: 500, maxErrors: 10_000 });
    expect(limitsFor(config, { limits: { maxErrors: 3, feeds: { results: { maxRows: 7 } } } }, 'results')).toEqual({ maxRows: 7, maxErrors: 3 });
    expect(limitsFor(config, { limits: { maxErrors: 3, feeds: { results: { maxRows: 7 } } } }, 'other')).toEqual({ maxRows: 500, maxErrors: 3 });
  });

  it('rejects a file with more rows than the partner allows, applying nothing', async () => {
    const lg = await setUp('{ maxRows: 100 }');
    const over = await register('lab-a', 'RESULTS_over.csv', resultsCsv('L1', 101));
    const r = await processSubmission(lg, over);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors[0]).toMatchObject({ code: 'E_TOO_MANY_ROWS' });
    expect(r.ack.errors[0].message).toContain('more than 100 data rows');
    expect(await lg.store.ledger.getSubmission(over)).toMatchObject({ state: 'rejected', errorCode: 'E_TOO_MANY_ROWS', applied: 0, rows: 100 });
    expect(await storedTests()).toBe(0);
    const fits = await register('lab-a', 'RESULTS_fits.csv', resultsCsv('L1', 100));
    expect((await processSubmission(lg, fits)).state).toBe('applied');
    expect(await storedTests()).toBe(100);
  });

  it('a per-feed limit overrides the partner limit; config.yaml sets the default', async () => {
    const lg = await setUp('{ maxRows: 10, feeds: { results: { maxRows: 1000 } } }', 'ingest: { limits: { maxRows: 5 } }\n');
    expect((await processSubmission(lg, await register('lab-a', 'RESULTS_1.csv', resultsCsv('L1', 200)))).state).toBe('applied');
    // lab-b has no limits of its own: config.yaml's 5 rows apply.
    const r = await processSubmission(lg, await register('lab-b', 'RESULTS_1.csv', resultsCsv('L1', 6, 1000)));
    expect(r.ack.errors[0]?.code).toBe('E_TOO_MANY_ROWS');
  });

  it('rejects a file whose rejected rows exceed maxErrors, never half-applied (apply-time errors count)', async () => {
    const lg = await setUp('{ maxErrors: 5 }');
    // 20 good rows, then 6 rows for a lot nobody announced: the good ones must not be applied.
    const good = resultsCsv('L1', 20).trimEnd().split('\n');
    const bad = Array.from({ length: 6 }, (_, i) => `L-UNKNOWN,${MATERIAL},X-${i},ASSAY,99.0`);
    const id = await register('lab-a', 'RESULTS_bad.csv', [...good, ...bad].join('\n') + '\n');
    const r = await processSubmission(lg, id);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors[0]).toMatchObject({ code: 'E_TOO_MANY_ERRORS' });
    expect(r.ack.errors[0].message).toContain('More than 5 rows have errors');
    // The first row errors are listed after it, so the partner sees what is wrong.
    expect(r.ack.errors.slice(1).length).toBeGreaterThanOrEqual(5);
    expect(await lg.store.ledger.getSubmission(id)).toMatchObject({ errorCode: 'E_TOO_MANY_ERRORS', applied: 0 });
    expect(await storedTests()).toBe(0);
    // At the limit the file is applied with its errors.
    const ok = await register('lab-a', 'RESULTS_ok.csv', [...good, ...bad.slice(0, 5)].join('\n') + '\n');
    expect((await processSubmission(lg, ok)).state).toBe('applied_with_errors');
    expect(await storedTests()).toBe(20);
  });

  it('counts mapping errors (missing required fields) while reading, before any lock', async () => {
    const lg = await setUp('{ maxErrors: 2 }');
    const rows = ['Lot,Material,Sample,Test,Value', ...Array.from({ length: 4 }, (_, i) => `L1,${MATERIAL},,ASSAY,${i}`), `L1,${MATERIAL},S-1,ASSAY,1`];
    const r = await processSubmission(lg, await register('lab-a', 'RESULTS_m.csv', rows.join('\n') + '\n'));
    expect(r.ack.errors[0]).toMatchObject({ code: 'E_TOO_MANY_ERRORS' });
    expect(r.ack.errors[0].message).toContain('limit reached at line 4');
    expect(await storedTests()).toBe(0);
  });

  it('refuses an invalid limits block in the partner file with file:line:col', async () => {
    w = makeWorld();
    appendFileSync(path.join(w.dir, 'partners', 'lab-a.yaml'), 'limits: { maxRowz: 3 }\n');
    const l = await createLotgate(loadConfig({ configPath: w.configPath, env: {} }), { log: testLog() });
    try {
      expect(() => l.partners()).toThrow(/lab-a\.yaml:\d+:\d+: \/limits .*maxRowz/);
    } finally {
      await l.close();
    }
  });
});

describe('no write lock while a file is read and mapped', () => {
  // SQLite's one write lock; PostgreSQL has no such lock to hold (its locks: test/store/conformance).
  itSqlite('another writer gets the database while a big file is being mapped', async () => {
    // Mapped on the applying thread (a file mapped on its own thread: the next test).
    const lg = await setUp(null, 'ingest: { spoolMemoryBytes: 100000, parseThreadMinBytes: 1000000000 }\n');
    const id = await register('lab-a', 'RESULTS_big.csv', resultsCsv('L1', 100_000));
    const other = new Database(path.join(w!.dataDir, 'lotgate.db'), { timeout: 0 });
    const probes: string[] = [];
    try {
      const r = await processSubmission(lg, id, {
        // Called every 50,000 rows while the file is being read.
        onProgress: (rows) => {
          try {
            other.prepare('BEGIN IMMEDIATE').run();
            other.prepare('ROLLBACK').run();
            probes.push(`${rows}: free`);
          } catch (err) {
            probes.push(`${rows}: ${(err as { code?: string }).code}`);
          }
        },
      });
      expect(r.state).toBe('applied');
    } finally {
      other.close();
    }
    expect(probes).toEqual(['50000: free', '100000: free']);
    expect(await storedTests()).toBe(100_000);
    // The spool spilled to disk (100 kB in memory) and was removed afterwards.
    const tmp = path.join(w!.dataDir, 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  }, 120_000);

  itSqlite('a file mapped on its own thread takes the lock only once the mapping is far enough ahead', async () => {
    const lg = await setUp(null, 'ingest: { parseThreadMinBytes: 0 }\n');
    // A writer that applies (it believes) in no time waits for the whole file to be mapped.
    for (let i = 0; i < 40; i++) noteApplyRate(1e9, 1);
    const id = await register('lab-a', 'RESULTS_big.csv', resultsCsv('L1', 100_000));
    const other = new Database(path.join(w!.dataDir, 'lotgate.db'), { timeout: 0 });
    const probes: string[] = [];
    try {
      const r = await processSubmission(lg, id, {
        onProgress: (rows) => {
          try {
            other.prepare('BEGIN IMMEDIATE').run();
            other.prepare('ROLLBACK').run();
            probes.push(`${rows}: free`);
          } catch (err) {
            probes.push(`${rows}: ${(err as { code?: string }).code}`);
          }
        },
      });
      expect(r.state).toBe('applied');
    } finally {
      other.close();
      for (let i = 0; i < 40; i++) noteApplyRate(30_000, 1000);
    }
    expect(probes).toEqual(['50000: free', '100000: free']);
    expect(await storedTests()).toBe(100_000);
    const tmp = path.join(w!.dataDir, 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  }, 120_000);
});

describe('Spool', () => {
  it('gives back every item in order and unchanged, in memory and spilled to disk, and removes its file', () => {
    const dir = path.join(makeWorldDir(), 'spool');
    const at = new Date('2026-03-11T00:00:00Z');
    // Plain JSON values, text with newlines and non-ASCII, and values JSON cannot carry.
    const item = (i: number) => ({ i, s: `Prüfung ${'x'.repeat(i % 300)}\n"ö"`, n: i % 7 === 0 ? null : i / 3, nested: { a: [1, 'b', true] }, ...(i % 1000 === 0 ? { at, nan: NaN } : {}) });
    for (const memory of [1 << 30, 64]) {
      const s = new Spool<ReturnType<typeof item>>(dir, memory);
      for (let i = 0; i < 5000; i++) s.push(item(i));
      s.finish();
      expect(s.spilled).toBe(memory === 64);
      const back = [...s.items()];
      expect(back).toHaveLength(5000);
      expect(back).toEqual(Array.from({ length: 5000 }, (_, i) => item(i)));
      expect((back[1000] as { at?: Date }).at).toBeInstanceOf(Date);
      s.dispose();
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    }
  });
});

describe('removeStaleSpools', () => {
  it('removes spool files of dead processes only', () => {
    const dir = path.join(makeWorldDir(), 'tmp');
    const live = new Spool<number>(dir, 0);
    live.push(1);
    const dead = path.join(dir, 'spool-999999999-abcdef.bin');
    writeFileSync(dead, 'x');
    writeFileSync(path.join(dir, 'other.txt'), 'x');
    expect(removeStaleSpools(dir)).toBe(1);
    expect(existsSync(dead)).toBe(false);
    const left = readdirSync(dir);
    expect(left).toHaveLength(2);
    expect(left).toContain('other.txt');
    expect(left.some((n) => n.startsWith(`spool-${process.pid}-`))).toBe(true);
    live.dispose();
  });
});

function makeWorldDir(): string {
  w = makeWorld();
  return w.dir;
}

