// Records applied without a savepoint of their own (applyRecord 'when-needed' inside a file's
// transaction, i.e. applyRecordDirect) must leave exactly what the savepoint-per-record way
// leaves: every stored row, every result (ported from the sync Store's
// test/store/apply-direct.test.ts), on both dialects (test results take the direct path on
// both, areas/apply.ts).

import { expect, it } from 'vitest';
import type { IdRef, MappedRecord } from '../../../pipeline/model/types.js';
import type { ApplyResult } from '../../../pipeline/store/store.js';
import { ResolutionWrites } from '../../../pipeline/store/areas/resolution.js';
import { LAB, addSubmission, id, prov } from '../helpers.js';
import { describeStore, type OpenedStore } from './harness.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOTS = ['L1', 'L2', 'L3', 'L4'];

async function seed(s: OpenedStore): Promise<void> {
  const sub = await addSubmission(s, 'erp', 'erp.csv');
  const p = prov('erp', sub);
  await s.masterdata.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, p);
  for (const n of LOTS) await s.masterdata.upsertLot('M1', n, { vendor: 'acme-cmo' }, p);
  // A PO line of the lab's: a record naming it creates a lot, i.e. resolution writes first.
  await s.masterdata.upsertPurchaseOrder({ poNumber: 'PO9', poItem: '10', materialId: 'M1', vendor: 'lab-one', quantity: 1, uom: 'EA', plannedDate: '2026-04-01', confirmedDate: null, lotNumber: 'L9', vendorBatch: null, status: 'open' }, p);
}

/** A random lab file: known and unknown lots, learned and conflicting sample ids, repeated keys, bad values. */
function randomFile(rand: () => number, rows: number): MappedRecord[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const out: MappedRecord[] = [];
  for (let i = 0; i < rows; i++) {
    const line = i + 2;
    const ids: IdRef[] = [];
    const r = rand();
    const fields: Record<string, unknown> = {
      testCode: pick(['ASSAY', 'DISSO', 'MICRO', '']),
      sampleId: pick(['S1', 'S2', 'S3', null]),
      resultRaw: pick(['99.1', '<0.05', 'ND']),
      resultValue: pick([99.1, 100, 'x', null]),
      qualifier: pick([null, '<', 'ND', 'about']),
      resultStatus: pick(['final', 'final', 'preliminary', 'retracted']),
      testedAt: pick(['2026-02-01T10:00:00Z', '2026-02-02T10:00:00Z']),
      analyst: pick(['ann', 'bob']),
    };
    if (r < 0.6) fields.lotNumber = pick([...LOTS, 'NOPE']);
    else if (r < 0.7) {
      fields.poNumber = 'PO9';
      fields.poItem = '10';
    }
    if (rand() < 0.7) ids.push(id('lims_sample', pick(['X1', 'X2', 'X3', 'X4', 'X5'])));
    if (rand() < 0.05) ids.push({ scheme: 'not_a_scheme' as IdRef['scheme'], value: 'Q' });
    out.push({ kind: 'test_result', line, ids, fields });
  }
  return out;
}

async function applyAll(s: OpenedStore, recs: MappedRecord[], savepoint: 'always' | 'when-needed'): Promise<ApplyResult[]> {
  const sub = await addSubmission(s, 'lab-one', 'lab.csv');
  return s.transaction(async (tx) => {
    const out: ApplyResult[] = [];
    for (const r of recs) out.push(await tx.apply.applyRecord(LAB, r, prov('lab-one', sub, r.line), { savepoint }));
    return out;
  });
}

/** The file through applyRecords (runs of test results together), in batches of `batch` records. */
async function applyBatched(s: OpenedStore, recs: MappedRecord[], batch: number): Promise<ApplyResult[]> {
  const sub = await addSubmission(s, 'lab-one', 'lab.csv');
  return s.transaction(async (tx) => {
    const out: ApplyResult[] = [];
    for (let i = 0; i < recs.length; i += batch) out.push(...(await tx.apply.applyRecords(LAB, recs.slice(i, i + batch), (r) => prov('lab-one', sub, r.line))));
    return out;
  });
}

/** Now and then a record of another kind between the test results. */
function withOtherKinds(rand: () => number, recs: MappedRecord[]): MappedRecord[] {
  return recs.map((r) =>
    rand() < 0.1 ? { kind: 'stage_event', line: r.line, ids: r.ids, fields: { lotNumber: r.fields.lotNumber ?? 'L1', stage: 'qc', status: 'started', eventTime: '2026-02-01T00:00:00Z' } } : r,
  );
}

const tables = async (s: OpenedStore) => ({
  tests: await s.db.all('SELECT * FROM test_results ORDER BY id'),
  ids: await s.db.all('SELECT * FROM lot_identifiers ORDER BY id'),
  lots: await s.db.all('SELECT id, material_id, lot_number, vendor, po_number, po_item FROM lots ORDER BY id'),
});

describeStore('applying records without a savepoint', (h) => {
  const fresh = async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    await seed(s);
    return s;
  };

  it('stores exactly what the savepoint-per-record way stores (random files)', async () => {
    for (let n = 1; n <= 12; n++) {
      const rand = mulberry32(n);
      const files = [randomFile(rand, 40), randomFile(rand, 40)];
      const a = await fresh();
      const ra: ApplyResult[][] = [];
      for (const f of files) ra.push(await applyAll(a, f, 'always'));
      const ta = await tables(a);
      const b = await fresh();
      const rb: ApplyResult[][] = [];
      for (const f of files) rb.push(await applyAll(b, f, 'when-needed'));
      expect(rb, `seed ${n}`).toEqual(ra);
      expect(await tables(b), `seed ${n}`).toEqual(ta);
    }
  }, 120_000);

  it('applyRecords (runs of test results in a few statements) stores and returns what applying each record in its own savepoint does', async () => {
    for (let n = 1; n <= 12; n++) {
      const rand = mulberry32(100 + n);
      const files = [withOtherKinds(rand, randomFile(rand, 60)), randomFile(rand, 60)];
      const a = await fresh();
      const ra: ApplyResult[][] = [];
      for (const f of files) ra.push(await applyAll(a, f, 'always'));
      const b = await fresh();
      const rb: ApplyResult[][] = [];
      for (const f of files) rb.push(await applyBatched(b, f, 1 + (n % 4) * 17));
      expect(rb, `seed ${n}`).toEqual(ra);
      // Ids too: new keys are inserted in the order of their first row, as record by record.
      expect(await tables(b), `seed ${n}`).toEqual(await tables(a));
    }
  }, 120_000);

  it('takes the direct path for test results only, and falls back when resolution would write', async () => {
    const s = await fresh();
    const sub = await addSubmission(s, 'lab-one', 'lab.csv');
    const count = async (sql: string) => Number((await s.db.get<{ n: number }>(sql))!.n);
    class Undo extends Error {}
    await expect(
      s.transaction(async (tx) => {
        const stage: MappedRecord = { kind: 'stage_event', line: 2, ids: [], fields: { lotNumber: 'L1', stage: 'x', status: 'started', eventTime: '2026-02-01T00:00:00Z' } };
        expect(await tx.apply.applyRecordDirect(LAB, stage, prov('lab-one', sub, 2))).toBeUndefined();
        const viaPo: MappedRecord = { kind: 'test_result', line: 3, ids: [], fields: { poNumber: 'PO9', poItem: '10', testCode: 'ASSAY' } };
        const ok: MappedRecord = { kind: 'test_result', line: 4, ids: [id('lims_sample', 'NEW1')], fields: { lotNumber: 'L1', testCode: 'ASSAY', resultStatus: 'final' } };
        // Both dialects: on PostgreSQL too, a test result's statements cannot be refused for the row's sake.
        await expect(tx.apply.applyRecordDirect(LAB, viaPo, prov('lab-one', sub, 3))).rejects.toBeInstanceOf(ResolutionWrites);
        expect(Number((await tx.db.get<{ n: number }>("SELECT count(*) AS n FROM lots WHERE lot_number = 'L9'"))!.n)).toBe(0);
        const res = await tx.apply.applyRecordDirect(LAB, ok, prov('lab-one', sub, 4));
        expect(res && 'lotIds' in res).toBe(true);
        expect(Number((await tx.db.get<{ n: number }>("SELECT count(*) AS n FROM lot_identifiers WHERE value = 'NEW1'"))!.n)).toBe(1);
        // Through applyRecord, the record falls back to its savepoint and creates the lot.
        expect('lotIds' in (await tx.apply.applyRecord(LAB, viaPo, prov('lab-one', sub, 3)))).toBe(true);
        expect(Number((await tx.db.get<{ n: number }>("SELECT count(*) AS n FROM lots WHERE lot_number = 'L9'"))!.n)).toBe(1);
        throw new Undo();
      }),
    ).rejects.toBeInstanceOf(Undo);
    expect(await count("SELECT count(*) AS n FROM lots WHERE lot_number = 'L9'")).toBe(0);
  });
});
