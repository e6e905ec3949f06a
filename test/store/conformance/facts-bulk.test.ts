// The bulk path for test results (applyTestResults) against its definition: the same batch
// applied row by row with upsertTestResult, on a database in the same state. Random batches
// with repeated keys, updates of stored rows, nulls and text COPY must escape; compared are the
// stored rows (every column but the id), each row's WriteResult and credit, and the counts.

import { expect, it } from 'vitest';
import type { AppliedTestResult } from '../../../pipeline/store/areas/facts.js';
import { describeStore, type OpenedStore } from './harness.js';
import { keyOfIds, randomResults, rng, seed, snapshotTestResults, type GeneratedRow } from './facts-fixtures.js';

interface Run {
  rows: Record<string, unknown>[];
  results: { created: boolean; key: string | undefined; prior?: unknown; credit: unknown }[];
  created: number;
}

/** One side of a comparison: a store and the lots its rows go to (lot i of a case is lotIds[i]). */
interface Side {
  s: OpenedStore;
  lotIds: number[];
  subIds: number[];
}

/** Stored rows of the side's lots, lot ids replaced by their index: comparable across sides. */
async function snapshot(side: Side): Promise<Record<string, unknown>[]> {
  const rows = await snapshotTestResults(side.s.db);
  return rows.filter((r) => side.lotIds.includes(Number(r.lot_id))).map((r) => ({ ...r, lot_id: side.lotIds.indexOf(Number(r.lot_id)) }));
}

/** id → key with the lot as its index. */
async function keysOf(side: Side): Promise<Map<number, string>> {
  const keys = await keyOfIds(side.s.db);
  return new Map(
    [...keys].map(([id, k]) => {
      const [lot, ...rest] = JSON.parse(k) as [number, ...string[]];
      return [id, JSON.stringify([side.lotIds.indexOf(lot), ...rest])];
    }),
  );
}

/** The stored rows `before` written row by row on the side's lots. */
async function writeBefore(side: Side, rows: GeneratedRow[]): Promise<void> {
  await side.s.transaction(async (tx) => {
    for (const r of rows) await tx.facts.upsertTestResult(r.lotId, r.result, r.prov);
  });
}

async function runBulk(side: Side, rows: GeneratedRow[]): Promise<Run> {
  const out = await side.s.facts.applyTestResults(rows);
  const keys = await keysOf(side);
  return {
    rows: await snapshot(side),
    results: out.rows.map((r: AppliedTestResult) => ({ created: r.created, key: keys.get(r.id), ...(r.prior ? { prior: r.prior } : {}), credit: r.credit })),
    created: out.counts.created,
  };
}

async function runRowByRow(side: Side, rows: GeneratedRow[]): Promise<Run> {
  const results: { id: number; created: boolean; prior?: unknown; credit: unknown }[] = [];
  // In one transaction, as a file is applied (and fewer round trips on PostgreSQL).
  await side.s.transaction(async (tx) => {
    for (const r of rows) {
      const w = await tx.facts.upsertTestResult(r.lotId, r.result, r.prov);
      results.push({ ...w, credit: await tx.facts.factCredit('test_results', w.id) });
    }
  });
  const keys = await keysOf(side);
  return {
    rows: await snapshot(side),
    results: results.map((r) => ({ created: r.created, key: keys.get(r.id), ...(r.prior ? { prior: r.prior } : {}), credit: r.credit })),
    created: results.filter((r) => r.created).length,
  };
}

interface Case {
  seed: number;
  before: number;
  rows: number;
  keyPool: number;
}

/**
 * One case through both paths from the same stored state: stored rows written row by row (clock
 * at t0), then the batch (clock an hour on) in bulk on side a and row by row on side b.
 */
async function expectSame(a: Side, b: Side, c: Case, clock: { t: number }): Promise<Run> {
  const make = (side: Side, count: number, offset: number) => randomResults(rng(c.seed + offset), count, side.lotIds, side.subIds, c.keyPool);
  const t0 = clock.t;
  await writeBefore(a, make(a, c.before, 0));
  await writeBefore(b, make(b, c.before, 0));
  clock.t += 3_600_000;
  const bulk = await runBulk(a, make(a, c.rows, 1));
  const single = await runRowByRow(b, make(b, c.rows, 1));
  clock.t = t0;
  expect(bulk.rows, `seed ${c.seed}`).toEqual(single.rows);
  expect(bulk.results, `seed ${c.seed}`).toEqual(single.results);
  expect(bulk.created).toBe(single.created);
  return bulk;
}

describeStore('facts: applyTestResults = upsertTestResult row by row', (h) => {
  it('random batches with repeated keys, updates of stored rows, nulls and odd text (one database, disjoint lots)', async () => {
    const clock = { t: Date.parse('2026-03-01T00:00:00Z') };
    const s = await h.fresh({ now: () => new Date(clock.t) });
    for (const caseSeed of [1, 2, 3, 4]) {
      // Fresh lots per case and side: the sides share the table, never a key.
      const a = { s, ...(await seed(s.db, 3, caseSeed === 1 ? 4 : 0)) };
      const b = { s, ...(await seed(s.db, 3, 0)) };
      const subIds = (await s.db.all<{ id: number }>('SELECT id FROM submissions ORDER BY id')).map((r) => Number(r.id));
      const run = await expectSame({ ...a, subIds }, { ...b, subIds }, { seed: caseSeed * 1000, before: 30, rows: 200, keyPool: 14 }, clock);
      // The case is only worth something when it exercised all of it.
      expect(run.results.some((r) => r.created)).toBe(true);
      expect(run.results.filter((r) => !r.created).length).toBeGreaterThan(80);
    }
  });

  it('a batch bigger than one statement chunk, on two fresh databases', async () => {
    const clock = { t: Date.parse('2026-03-01T00:00:00Z') };
    const sa = await h.fresh({ now: () => new Date(clock.t) });
    const a = { s: sa, ...(await seed(sa.db)) };
    const bulk = await runBulk(a, []);
    expect(bulk.rows).toEqual([]);
    const c = { seed: 77, before: 60, rows: 1300, keyPool: 3000 };
    const make = (side: Side, count: number, offset: number) => randomResults(rng(c.seed + offset), count, side.lotIds, side.subIds, c.keyPool);
    await writeBefore(a, make(a, c.before, 0));
    clock.t += 3_600_000;
    const viaBulk = await runBulk(a, make(a, c.rows, 1));
    clock.t -= 3_600_000;
    const sb = await h.fresh({ now: () => new Date(clock.t) });
    const b = { s: sb, ...(await seed(sb.db)) };
    await writeBefore(b, make(b, c.before, 0));
    clock.t += 3_600_000;
    const viaRows = await runRowByRow(b, make(b, c.rows, 1));
    expect(viaBulk.rows).toEqual(viaRows.rows);
    expect(viaBulk.results).toEqual(viaRows.results);
    expect(viaBulk.created).toBe(viaRows.created);
    expect(viaBulk.created).toBeGreaterThan(500);
  });

  it('text that COPY must escape comes back byte for byte', async () => {
    const s = await h.fresh();
    const { lotIds, subIds } = await seed(s.db);
    const odd = ['tab\there', 'line\nbreak', 'cr\r', 'back\\slash\\', '\\N', 'ünïcödé 𝄞', '\\t literal'];
    const rows: GeneratedRow[] = odd.map((text, i) => ({
      lotId: lotIds[0],
      result: { testCode: `T${i}\t`, sampleId: text, resultRaw: text, specText: text, analyst: text, resultStatus: 'final' },
      prov: { submissionId: subIds[0], partner: text, mappingHash: text, line: i },
    }));
    const out = await s.facts.applyTestResults(rows);
    expect(out.counts).toEqual({ created: odd.length, updated: 0, credited: 0, unchanged: 0 });
    const stored = await s.db.all<Record<string, unknown>>('SELECT sample_id, result_raw, spec_text, analyst, partner, mapping_hash FROM test_results ORDER BY line');
    expect(stored).toEqual(odd.map((t) => ({ sample_id: t, result_raw: t, spec_text: t, analyst: t, partner: t, mapping_hash: t })));
  });

  it('the same batch twice: the second time every row is unchanged and nothing is written', async () => {
    const s = await h.fresh();
    const { lotIds, subIds } = await seed(s.db);
    // One row per key (the last of each): a batch that states each fact once.
    const byKey = new Map(randomResults(rng(5), 200, lotIds, subIds, 30).map((r) => [JSON.stringify([r.lotId, r.result.testCode, r.result.sampleId || '', r.result.testedAt || '', r.result.replicate || '']), r]));
    const rows = [...byKey.values()];
    await s.facts.applyTestResults(rows);
    const before = await s.db.all('SELECT * FROM test_results ORDER BY id');
    const again = await s.facts.applyTestResults(rows);
    expect(again.counts.created + again.counts.updated).toBe(0);
    expect(await s.db.all('SELECT * FROM test_results ORDER BY id')).toEqual(before);
  });

  it('a failing row rolls the whole batch back, inside the caller transaction too', async () => {
    const s = await h.fresh();
    const { lotIds } = await seed(s.db);
    const good: GeneratedRow = { lotId: lotIds[0], result: { testCode: 'PH', resultStatus: 'final' }, prov: { submissionId: null, partner: 'p' } };
    const bad: GeneratedRow = { lotId: lotIds[0], result: { testCode: 'X', qualifier: 'about' as never, resultStatus: 'final' }, prov: { submissionId: null, partner: 'p' } };
    await expect(s.facts.applyTestResults([good, bad])).rejects.toThrow();
    await s.transaction(async (tx) => {
      await tx.facts.upsertTestResult(lotIds[1], { testCode: 'KEPT', resultStatus: 'final' }, { submissionId: null, partner: 'p' });
      await expect(tx.facts.applyTestResults([good, bad])).rejects.toThrow();
    });
    expect(await s.db.all('SELECT test_code FROM test_results')).toEqual([{ test_code: 'KEPT' }]);
  });

  it('an empty batch does nothing', async () => {
    const s = await h.fresh();
    expect(await s.facts.applyTestResults([])).toEqual({ rows: [], counts: { created: 0, updated: 0, credited: 0, unchanged: 0 } });
  });

  it.runIf(h.dialect === 'postgres')('a key another machine inserts while the batch runs is merged onto, not overwritten', async () => {
    // B holds an uncommitted insert of a key; A's bulk merge must wait for it, then fold onto
    // B's committed row as row-by-row would have (B's final stands against A's preliminary).
    const a = await h.fresh();
    const { lotIds, subIds } = await seed(a.db);
    const b = await h.another();
    const key = { testCode: 'ASSAY', sampleId: 'S-1' };
    let inserted!: () => void;
    const bInserted = new Promise<void>((r) => (inserted = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const bDone = b.transaction(async (tx) => {
      await tx.facts.upsertTestResult(lotIds[0], { ...key, resultValue: 99, resultStatus: 'final' }, { submissionId: subIds[1], partner: 'b', line: 7 });
      inserted();
      await gate;
    });
    await bInserted;
    const batch: GeneratedRow[] = [
      { lotId: lotIds[0], result: { ...key, resultValue: 1, resultStatus: 'preliminary' }, prov: { submissionId: subIds[0], partner: 'a', line: 2 } },
      { lotId: lotIds[0], result: { testCode: 'PH', resultValue: 7, resultStatus: 'final' }, prov: { submissionId: subIds[0], partner: 'a', line: 3 } },
    ];
    const aDone = a.facts.applyTestResults(batch);
    // Release B once A's merge is waiting on B's row lock (or after a while, if it never does).
    for (let i = 0; i < 200; i++) {
      const w = await a.db.get<{ n: number }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (w!.n > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    release();
    await bDone;
    const out = await aDone;
    expect(out.rows.map((r) => [r.created, r.step])).toEqual([
      [false, 'unchanged'],
      [true, 'created'],
    ]);
    expect(out.rows[0].prior).toEqual({ submissionId: subIds[1], line: 7 });
    expect(await a.db.all('SELECT test_code, result_value, result_status, partner FROM test_results ORDER BY test_code')).toEqual([
      { test_code: 'ASSAY', result_value: 99, result_status: 'final', partner: 'b' },
      { test_code: 'PH', result_value: 7, result_status: 'final', partner: 'a' },
    ]);
  });
});
