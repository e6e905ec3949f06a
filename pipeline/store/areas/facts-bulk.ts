// The bulk path for test results: a lab file of 100 000 results applied with the outcome of
// upsertTestResult called row by row in line order — the same stored rows, the same WriteResult
// per row — but with a handful of statements instead of one or two round trips per row.
//
// How: group the rows by key (test_results_key: lot, test code, sample, tested at, replicate);
// read what is stored at those keys, locked; fold each key's rows onto it in line order with the
// one rule of facts-rule.ts (rank, same-values credit, overwrite), which yields each row's
// WriteResult and each key's final state; write only the keys whose state changed, in ONE merge.
// Folding in JS first is what resolves duplicate keys inside the batch (PostgreSQL refuses to
// touch one row twice in one INSERT … ON CONFLICT, and "last row wins" alone would be wrong:
// a late preliminary never undoes a final, the same values again only move the credit).
//
// PostgreSQL: keys and final rows go to temporary tables by COPY (ON COMMIT DROP, inside the
// caller's transaction); the stored rows are read FOR UPDATE; the merge is one
// INSERT … SELECT … ORDER BY first line ON CONFLICT (the index's expressions) DO UPDATE … WHERE the
// conflicting row is the one that was read. A key that another transaction inserted after the
// read is therefore left alone by the merge (not RETURNed) and folded again on the row it finds
// — as the row-by-row path, which would have seen that row, would have done. New keys are
// inserted in the order of their first row, so ids come out as row by row (and alike on both
// dialects); the stored rows the merge updates were locked in key order by the read. Two writers
// inserting the same new key at once is the one wait left; should they ever wait on each other,
// PostgreSQL's deadlock detection fails one of them, whose file is then tried again whole.
// SQLite: the same steps with multi-row statements in chunks; the write transaction holds the
// file, so nothing can come between read and merge.

import { chunks, rowMarks, type Db } from '../db/db.js';
import { pgClientOf } from '../dialect/postgres/driver.js';
import { copyRows, type CopyValue } from '../dialect/postgres/copy.js';
import type { Prov, TestResultInput, WriteResult } from '../types.js';
import { foldTestResult, keyText, normalizeTestResult, stateOfRow, TEST_VALUE_COLUMNS, type NormalizedTestResult, type Step, type TestKey, type TestState } from './facts-rule.js';

export interface TestResultRowInput {
  lotId: number;
  result: TestResultInput;
  prov: Prov;
}

/** One row's outcome: upsertTestResult's WriteResult, what happened, and the credit right after it (factCredit). */
export interface AppliedTestResult extends WriteResult {
  step: Step;
  credit: { submissionId: number | null; line: number | null };
}

export interface TestResultsApplied {
  /** Per input row, in input order. */
  rows: AppliedTestResult[];
  counts: Record<Step, number>;
}

/** A key's final state to write, and the id of the stored row it replaces (null: a new key). */
interface Final {
  key: TestKey;
  keyText: string;
  state: TestState;
}

const KEY_EXPRS = `lot_id, test_code, coalesce(sample_id, ''), coalesce(tested_at, ''), coalesce(replicate, '')`;
const ROW_COLUMNS = ['lot_id', 'sample_id', 'test_code', 'tested_at', 'replicate', ...TEST_VALUE_COLUMNS, 'recorded_at', 'submission_id', 'line', 'mapping_hash', 'partner'] as const;
const UPDATE_SET = [...TEST_VALUE_COLUMNS, 'recorded_at', 'submission_id', 'line', 'mapping_hash', 'partner'].map((c) => `${c} = excluded.${c}`).join(', ');
const RETURNING = 'RETURNING id, lot_id, test_code, sample_id, tested_at, replicate';
/** A merge that loses a race this many times in a row is a bug, not bad luck. */
const MAX_ROUNDS = 5;

/**
 * The temporary tables of one call: created and dropped inside it, in its transaction (a failure
 * rolls their creation back), so one name each serves every call on a connection, and the
 * statements that name them are the same texts call after call (prepared once).
 */
const tempName = (what: 'keys' | 'finals'): string => `lg_tr_${what}`;

const keyRow = (k: TestKey): CopyValue[] => [k.lotId, k.testCode, k.sampleId ?? '', k.testedAt ?? '', k.replicate ?? ''];

function finalRow(f: Final): CopyValue[] {
  const { key: k, state: s } = f;
  return [k.lotId, k.sampleId, k.testCode, k.testedAt, k.replicate, ...TEST_VALUE_COLUMNS.map((c) => s.values[c]), s.recordedAt, s.prov.submission_id, s.prov.line, s.prov.mapping_hash, s.prov.partner];
}

const returnedKey = (r: Record<string, unknown>): string =>
  keyText({ lotId: Number(r.lot_id), testCode: r.test_code as string, sampleId: r.sample_id as string | null, testedAt: r.tested_at as string | null, replicate: r.replicate as string | null });


// ------------------------------------------------------------------ reading the stored rows

const KEY_TABLE_COLUMNS = ['lot_id', 'test_code', 'k_sample', 'k_tested', 'k_rep'];
const JOIN_KEYS = `t.lot_id = k.lot_id AND t.test_code = k.test_code AND coalesce(t.sample_id, '') = k.k_sample
                   AND coalesce(t.tested_at, '') = k.k_tested AND coalesce(t.replicate, '') = k.k_rep`;

/** The stored rows at these keys, by keyText; on PostgreSQL locked until the transaction ends. */
async function readStored(tx: Db, keys: readonly TestKey[]): Promise<Map<string, TestState>> {
  const table = tempName('keys');
  let rows: Record<string, unknown>[];
  if (tx.dialect === 'postgres') {
    await tx.exec(`CREATE TEMP TABLE ${table} (lot_id BIGINT, test_code TEXT COLLATE "C", k_sample TEXT COLLATE "C", k_tested TEXT COLLATE "C", k_rep TEXT COLLATE "C") ON COMMIT DROP`);
    await copyRows(pgClientOf(tx), table, KEY_TABLE_COLUMNS, keys.map(keyRow));
    // Locked in key order: two bulk writers updating the same stored rows cannot deadlock on each other.
    // One index probe per key (LATERAL): a plain join is planned as a hash or merge join over the
    // whole of test_results, a cost that grows with the table, batch after batch.
    rows = await tx.all(
      `SELECT t.* FROM (SELECT * FROM ${table} ORDER BY lot_id, test_code, k_sample, k_tested, k_rep) k
       CROSS JOIN LATERAL (SELECT * FROM test_results t WHERE ${JOIN_KEYS} FOR UPDATE) t`,
    );
  } else {
    // Key columns without a type: a TEXT column's affinity would keep SQLite from matching
    // coalesce(t.sample_id, '') = k.k_sample to the index expression (it then searches on lot and test only).
    await tx.exec(`CREATE TEMP TABLE ${table} (lot_id INTEGER, test_code TEXT, k_sample, k_tested, k_rep)`);
    for (const part of chunks(keys)) {
      await tx.run(`INSERT INTO ${table} (${KEY_TABLE_COLUMNS.join(', ')}) VALUES ${rowMarks(part.length, KEY_TABLE_COLUMNS.length)}`, part.flatMap(keyRow));
    }
    rows = await tx.all(`SELECT t.* FROM ${table} k JOIN test_results t ON ${JOIN_KEYS}`);
  }
  await tx.exec(`DROP TABLE ${table}`);
  const stored = new Map<string, TestState>();
  for (const r of rows) stored.set(returnedKey(r), stateOfRow(r));
  return stored;
}

// ------------------------------------------------------------------ writing the final states

/** Writes the finals; returns the id of each key written. A key missing from it lost a race. */
async function writeFinals(tx: Db, finals: readonly Final[]): Promise<Map<string, number>> {
  const written = new Map<string, number>();
  if (!finals.length) return written;
  const take = (rows: Record<string, unknown>[]) => rows.forEach((r) => written.set(returnedKey(r), Number(r.id)));
  if (tx.dialect === 'postgres') take(await mergePg(tx, finals));
  else for (const part of chunks(finals)) take(await mergeSqliteChunk(tx, part));
  return written;
}

async function mergePg(tx: Db, finals: readonly Final[]): Promise<Record<string, unknown>[]> {
  const table = tempName('finals');
  const text = (c: string) => `${c} TEXT COLLATE "C"`;
  const real = (c: string) => `${c} DOUBLE PRECISION`;
  const valueCols = TEST_VALUE_COLUMNS.map((c) => (c === 'result_value' || c === 'spec_low' || c === 'spec_high' ? real(c) : text(c)));
  await tx.exec(
    `CREATE TEMP TABLE ${table} (lot_id BIGINT, ${['sample_id', 'test_code', 'tested_at', 'replicate'].map(text).join(', ')}, ${valueCols.join(', ')},
       recorded_at TEXT COLLATE "C", submission_id BIGINT, line BIGINT, mapping_hash TEXT COLLATE "C", partner TEXT COLLATE "C", expected_id BIGINT, ord BIGINT) ON COMMIT DROP`,
  );
  await copyRows(
    pgClientOf(tx),
    table,
    [...ROW_COLUMNS, 'expected_id', 'ord'],
    finals.map((f, i) => [...finalRow(f), f.state.id, i]),
  );
  // The index serves the WHERE below, which runs on conflicts only: keys read as stored, or (rare)
  // inserted by another writer since. A batch of new keys does without it.
  if (finals.some((f) => f.state.id !== null)) await tx.exec(`CREATE UNIQUE INDEX ON ${table} (${KEY_EXPRS}); ANALYZE ${table}`);
  // The WHERE makes the update land only on the row that was read (and locked) and folded onto;
  // a row another writer inserted since is not touched, and its key is folded again.
  const r = await tx.run(
    `INSERT INTO test_results (${ROW_COLUMNS.join(', ')})
     SELECT ${ROW_COLUMNS.join(', ')} FROM ${table} ORDER BY ord
     ON CONFLICT (${KEY_EXPRS}) DO UPDATE SET ${UPDATE_SET}
     WHERE test_results.id = (SELECT f.expected_id FROM ${table} f
                              WHERE f.lot_id = excluded.lot_id AND f.test_code = excluded.test_code AND coalesce(f.sample_id, '') = coalesce(excluded.sample_id, '')
                                AND coalesce(f.tested_at, '') = coalesce(excluded.tested_at, '') AND coalesce(f.replicate, '') = coalesce(excluded.replicate, ''))
     ${RETURNING}`,
  );
  await tx.exec(`DROP TABLE ${table}`);
  return r.rows;
}

async function mergeSqliteChunk(tx: Db, part: readonly Final[]): Promise<Record<string, unknown>[]> {
  const r = await tx.run(
    `INSERT INTO test_results (${ROW_COLUMNS.join(', ')}) VALUES ${rowMarks(part.length, ROW_COLUMNS.length)}
     ON CONFLICT (${KEY_EXPRS}) DO UPDATE SET ${UPDATE_SET}
     ${RETURNING}`,
    part.flatMap(finalRow),
  );
  // Nothing can come between read and merge on SQLite; an update of another row than the one
  // folded onto would mean the fold was wrong, so it is refused rather than committed.
  const expected = new Map(part.map((f) => [f.keyText, f.state.id]));
  for (const row of r.rows) {
    const want = expected.get(returnedKey(row));
    if (want !== null && want !== undefined && want !== Number(row.id)) throw new Error('applyTestResults: the merge updated another row than the one it read');
  }
  return r.rows;
}

// ------------------------------------------------------------------ the fold

/** Folds each key's rows (indices into `rows`, in line order) onto what is stored; fills `out`. */
function foldKeys(
  groups: ReadonlyMap<string, number[]>,
  rows: readonly NormalizedTestResult[],
  stored: ReadonlyMap<string, TestState>,
  now: string,
  out: AppliedTestResult[],
): Final[] {
  const finals: Final[] = [];
  for (const [kt, indices] of groups) {
    const before = stored.get(kt);
    let state = before;
    for (const i of indices) {
      const f = foldTestResult(state, rows[i], now);
      state = f.next;
      const credit = { submissionId: state.prov.submission_id, line: state.prov.line };
      // The id is the stored row's; a new key's id is known after the merge (filled in then).
      out[i] = f.prior ? { id: state.id ?? 0, created: false, prior: f.prior, step: f.step, credit } : { id: state.id ?? 0, created: true, step: f.step, credit };
    }
    if (state !== before) finals.push({ key: rows[indices[0]], keyText: kt, state: state! });
  }
  return finals;
}

/** applyTestResults: see the header. Runs in a transaction of its own, a savepoint inside the caller's. */
export async function applyTestResults(db: Db, input: readonly TestResultRowInput[]): Promise<TestResultsApplied> {
  const rows = input.map((r) => normalizeTestResult(r.lotId, r.result, r.prov));
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const kt = keyText(r);
    const g = groups.get(kt);
    if (g) g.push(i);
    else groups.set(kt, [i]);
  });
  const out = new Array<AppliedTestResult>(rows.length);
  if (rows.length) {
    await db.transaction(async (tx) => {
      const now = tx.now();
      let pending = groups;
      for (let round = 1; pending.size; round++) {
        if (round > MAX_ROUNDS) throw new Error(`applyTestResults: ${pending.size} keys still contended after ${MAX_ROUNDS} rounds`);
        const stored = await readStored(
          tx,
          [...pending.values()].map((g) => rows[g[0]]),
        );
        const finals = foldKeys(pending, rows, stored, now, out);
        const written = await writeFinals(tx, finals);
        const lost = new Map<string, number[]>();
        for (const f of finals) if (!written.has(f.keyText)) lost.set(f.keyText, pending.get(f.keyText)!);
        for (const [kt, indices] of pending) {
          if (lost.has(kt)) continue;
          const id = written.get(kt) ?? stored.get(kt)!.id!;
          for (const i of indices) out[i].id = id;
        }
        pending = lost;
      }
    });
  }
  const counts: Record<Step, number> = { created: 0, updated: 0, credited: 0, unchanged: 0 };
  for (const r of out) counts[r.step]++;
  return { rows: out, counts };
}
