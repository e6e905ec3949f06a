// A small file behind another connection's long write transaction (a big file being applied):
// SQLITE_BUSY after the busy timeout must not fail or lose the file. The lock is held by a
// second connection (BEGIN IMMEDIATE) until the file has met the busy state at least once —
// no timing: the test waits for the coded warning, then releases the lock.

import path from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { registerText } from '../runtime/helpers/ingest.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';
import { itSqlite } from '../setup/store-mode.js';

let w: World;
let lg: Lotgate;
let logged: { code?: string; submissionId?: number; attempt?: number; msg: string }[];
let onLog: (() => void) | undefined;

beforeEach(async () => {
  w = makeWorld();
  logged = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logged.push(JSON.parse(line));
      onLog?.();
      done();
    },
  });
  // A 20 ms busy timeout: every attempt meets SQLITE_BUSY at once while the lock is held.
  lg = await createLotgate(w.config, { log: pino({ level: 'warn' }, sink), busyTimeoutMs: 20 });
});
afterEach(async () => {
  await lg.close();
  w.cleanup();
});

const register = (partner: string, name: string, text: string): Promise<number> => registerText(lg, w.dir, partner, name, text);

const busyWarnings = (id: number) => logged.filter((l) => l.code === 'W_DATABASE_BUSY' && l.submissionId === id);

function untilBusyWarnings(id: number, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (busyWarnings(id).length >= n) {
        onLog = undefined;
        resolve();
      }
    };
    onLog = check;
    check();
  });
}

describe('a file that meets a busy database', () => {
  // SQLite's one write lock and SQLITE_BUSY (the only error retryBusy waits out): PostgreSQL has
  // no store-wide write lock and no SQLITE_BUSY.
  itSqlite('waits with a coded warning while another connection holds the write lock, then is applied once', async () => {
    expect((await processSubmission(lg, await register('erp', 'LOTS_1.csv', lotsCsv(['L1'])))).state).toBe('applied');
    const id = await register('lab-b', 'RESULTS_small.csv', resultsCsv('L1', 5));

    const other = new Database(path.join(w.config.dataDir, 'lotgate.db'));
    other.exec('BEGIN IMMEDIATE');
    const run = processSubmission(lg, id);
    // Without the retry, the run fails with SQLITE_BUSY here instead of waiting.
    await Promise.race([untilBusyWarnings(id, 2), run.then((r) => Promise.reject(new Error(`the run ended (${r.state}) while the lock was held`)))]);
    // While the lock is held nothing of the file is recorded as failed or applied.
    expect(other.prepare('SELECT state, error_message AS err FROM submissions WHERE id = ?').get(id)).toMatchObject({ err: null });
    expect((other.prepare('SELECT state FROM submissions WHERE id = ?').get(id) as { state: string }).state).not.toBe('applied');
    other.exec('COMMIT');
    other.close();

    expect((await run).state).toBe('applied');
    const sub = (await lg.store.ledger.getSubmission(id))!;
    expect(sub).toMatchObject({ state: 'applied', rows: 5, applied: 5, rejected: 0 });
    expect(busyWarnings(id)[0]).toMatchObject({ attempt: 1 });
    // Applied exactly once: one audit event for the decision.
    expect(await lg.store.audit.listAudit({ subject: `submission:${id}`, action: 'submission.applied' })).toHaveLength(1);
  });

  it('is not held back when the lock is free (no warning)', async () => {
    expect((await processSubmission(lg, await register('erp', 'LOTS_1.csv', lotsCsv(['L1'])))).state).toBe('applied');
    const id = await register('lab-b', 'RESULTS_small.csv', resultsCsv('L1', 3));
    expect((await processSubmission(lg, id)).state).toBe('applied');
    expect(busyWarnings(id)).toHaveLength(0);
  });
});
