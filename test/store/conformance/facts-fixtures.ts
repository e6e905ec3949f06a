// Fixtures for the facts conformance tests: lots and submissions to hang facts on, a seeded
// random generator of test results (duplicates, nulls, odd characters), and table snapshots.

import type { Db } from '../../../pipeline/store/db/db.js';
import type { Prov, TestResultInput } from '../../../pipeline/store/types.js';

let seeded = 0;

/** `lots` lots and `subs` submissions (new ones at every call); returns their ids. */
export async function seed(db: Db, lots = 3, subs = 4): Promise<{ lotIds: number[]; subIds: number[] }> {
  const lotIds: number[] = [];
  const subIds: number[] = [];
  for (let i = 1; i <= lots; i++) {
    const r = await db.run(`INSERT INTO lots (material_id, lot_number, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`, ['MAT-1', `LOT-${++seeded}`, db.now(), db.now()]);
    lotIds.push(Number(r.rows[0].id));
  }
  for (let i = 1; i <= subs; i++) {
    const r = await db.run(`INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, [
      'lab-one',
      `f${++seeded}.csv`,
      10,
      seeded.toString(16).padStart(64, '0'),
      '2026-03-01T08:00:00.000Z',
      'cli',
      `/archive/${seeded}`,
    ]);
    subIds.push(Number(r.rows[0].id));
  }
  return { lotIds, subIds };
}

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];

/** Text that COPY's text format must escape, and text it must not mangle. */
export const ODD_TEXT = ['plain', 'tab\there', 'line\nbreak', 'cr\rlf\r\n', 'back\\slash', '\\N', '\\', 'ünïcödé ✓ 𝄞 日本', "quote ' \" ;", ' lead and trail ', ''] as const;
const NUMBERS = [0, 1, -1.5, 1e-7, 123456789.123, 0.1 + 0.2, 5e300] as const;

export interface GeneratedRow {
  lotId: number;
  result: TestResultInput;
  prov: Prov;
}

/**
 * Random test results whose keys come from a small pool (so a batch repeats keys), with every
 * value sometimes null or absent, and statuses that move forward and back.
 */
export function randomResults(r: () => number, n: number, lotIds: readonly number[], subIds: readonly number[], keyPool = 12): GeneratedRow[] {
  const keys = Array.from({ length: keyPool }, () => ({
    lotId: pick(r, lotIds),
    testCode: pick(r, ['ASSAY', 'PH', 'MICRO\tB', 'Wasser\\Gehalt', 'ID✓']),
    sampleId: r() < 0.5 ? pick(r, [null, undefined, '', 'S\n2']) : `S-${Math.floor(r() * keyPool)}`,
    testedAt: pick(r, [null, '2026-03-01T10:00Z', '2026-03-01T12:00:00+02:00', '2026-03-02', '']),
    replicate: pick(r, [null, '1', '2']),
  }));
  const maybe = <T>(list: readonly T[]): T | null | undefined => (r() < 0.25 ? pick(r, [null, undefined]) : pick(r, list));
  const out: GeneratedRow[] = [];
  for (let i = 0; i < n; i++) {
    const prov: Prov = {
      submissionId: pick(r, [...subIds, null]),
      partner: pick(r, ['lab-one', 'lab\ttwo']),
      ...(r() < 0.8 ? { line: i + 2 } : {}),
      ...(r() < 0.7 ? { mappingHash: pick(r, ['h1', 'h\\2']) } : {}),
    };
    // A third of the rows state an earlier row's fact again (from another or the same submission).
    if (out.length && r() < 0.35) {
      const again = pick(r, out);
      out.push({ lotId: again.lotId, result: again.result, prov });
      continue;
    }
    const k = pick(r, keys);
    const result: TestResultInput = {
      testCode: k.testCode,
      sampleId: k.sampleId,
      testedAt: k.testedAt,
      replicate: k.replicate,
      testName: maybe(ODD_TEXT),
      method: maybe(['USP <621>', 'Ph.Eur.']),
      resultRaw: maybe(ODD_TEXT),
      resultValue: maybe(NUMBERS),
      qualifier: maybe(['<', '>=', 'ND'] as const),
      unit: maybe(['%', 'mg/L']),
      specLow: maybe(NUMBERS),
      specHigh: maybe(NUMBERS),
      specText: maybe(ODD_TEXT),
      resultStatus: pick(r, [undefined, 'preliminary', 'final', 'final', 'retracted'] as const),
      analyst: maybe(ODD_TEXT),
    };
    out.push({ lotId: k.lotId, result, prov });
  }
  return out;
}

/** Every column but the id, in key order: what two databases must agree on. */
export async function snapshotTestResults(db: Db): Promise<Record<string, unknown>[]> {
  const rows = await db.all(`SELECT * FROM test_results ORDER BY lot_id, test_code, coalesce(sample_id, ''), coalesce(tested_at, ''), coalesce(replicate, '')`);
  return rows.map(({ id: _id, ...rest }) => rest);
}

/** id → the key's text, to compare ids across databases where they are numbered differently. */
export async function keyOfIds(db: Db): Promise<Map<number, string>> {
  const rows = await db.all<Record<string, unknown>>('SELECT id, lot_id, test_code, sample_id, tested_at, replicate FROM test_results');
  return new Map(rows.map((r) => [Number(r.id), JSON.stringify([Number(r.lot_id), r.test_code, r.sample_id ?? '', r.tested_at ?? '', r.replicate ?? ''])]));
}
