// Records applied without a savepoint (Store.applyRecord inside a transaction, applyRecordDirect)
// must leave exactly what the savepoint-per-record way leaves: every stored row, every rejected
// row, every result. A property test over random lab files, plus the cases that must fall back.

import { afterEach, describe, expect, it } from 'vitest';
import type { IdRef, MappedRecord } from '../../pipeline/model/types.js';
import { applyRecordDirect } from '../../pipeline/store/apply.js';
import type { ApplyResult } from '../../pipeline/store/apply.js';
import { ResolutionWrites } from '../../pipeline/store/resolve.js';
import type { Store } from '../../pipeline/store/store.js';
import { LAB, addSubmission, id, prov, tempStore } from './helpers.js';

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

function seed(store: Store): void {
  const sub = addSubmission(store, 'erp', 'erp.csv');
  const p = prov('erp', sub);
  store.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, p);
  for (const n of LOTS) store.upsertLot('M1', n, { vendor: 'acme-cmo' }, p);
  // A PO line of the lab's: a record naming it creates a lot, i.e. resolution writes first.
  store.upsertPurchaseOrder({ poNumber: 'PO9', poItem: '10', materialId: 'M1', vendor: 'lab-one', quantity: 1, uom: 'EA', plannedDate: '2026-04-01', confirmedDate: null, lotNumber: 'L9', vendorBatch: null, status: 'open' }, p);
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

function applyAll(store: Store, recs: MappedRecord[], savepoint: 'always' | 'when-needed'): ApplyResult[] {
  const sub = addSubmission(store, 'lab-one', 'lab.csv');
  store.begin();
  const results = recs.map((r) => store.applyRecord(LAB, r, prov('lab-one', sub, r.line), { savepoint }));
  store.commit();
  return results;
}

describe('applying records without a savepoint', () => {
  const open: { cleanup: () => void }[] = [];
  afterEach(() => {
    for (const t of open.splice(0)) t.cleanup();
  });
  const fresh = () => {
    const t = tempStore();
    open.push(t);
    seed(t.store);
    return t;
  };

  it('stores exactly what the savepoint-per-record way stores (random files)', async () => {
    const Database = (await import('better-sqlite3')).default;
    const tables = (p: string) => {
      const db = new Database(p, { readonly: true });
      try {
        return {
          tests: db.prepare('SELECT * FROM test_results ORDER BY id').all(),
          ids: db.prepare('SELECT * FROM lot_identifiers ORDER BY id').all(),
          lots: db.prepare('SELECT id, material_id, lot_number, vendor, po_number, po_item FROM lots ORDER BY id').all(),
        };
      } finally {
        db.close();
      }
    };
    for (let s = 1; s <= 25; s++) {
      const rand = mulberry32(s);
      const files = [randomFile(rand, 40), randomFile(rand, 40)];
      const a = fresh();
      const b = fresh();
      const ra = files.map((f) => applyAll(a.store, f, 'always'));
      const rb = files.map((f) => applyAll(b.store, f, 'when-needed'));
      expect(rb, `seed ${s}`).toEqual(ra);
      expect(tables(b.path), `seed ${s}`).toEqual(tables(a.path));
    }
  });

  it('takes the direct path for test results only, and falls back when resolution would write', () => {
    const t = fresh();
    const sub = addSubmission(t.store, 'lab-one', 'lab.csv');
    t.store.begin();
    try {
      const sql = (t.store as unknown as { sql: Parameters<typeof applyRecordDirect>[0] }).sql;
      const stage: MappedRecord = { kind: 'stage_event', line: 2, ids: [], fields: { lotNumber: 'L1', stage: 'x', status: 'started', eventTime: '2026-02-01T00:00:00Z' } };
      expect(applyRecordDirect(sql, LAB, stage, prov('lab-one', sub, 2))).toBeUndefined();
      const viaPo: MappedRecord = { kind: 'test_result', line: 3, ids: [], fields: { poNumber: 'PO9', poItem: '10', testCode: 'ASSAY' } };
      expect(() => applyRecordDirect(sql, LAB, viaPo, prov('lab-one', sub, 3))).toThrow(ResolutionWrites);
      expect(sql.db.prepare("SELECT count(*) AS n FROM lots WHERE lot_number = 'L9'").get()).toEqual({ n: 0 });
      // Through the Store, the same record falls back to its savepoint and creates the lot.
      expect('lotIds' in t.store.applyRecord(LAB, viaPo, prov('lab-one', sub, 3))).toBe(true);
      expect(sql.db.prepare("SELECT count(*) AS n FROM lots WHERE lot_number = 'L9'").get()).toEqual({ n: 1 });
      const ok: MappedRecord = { kind: 'test_result', line: 4, ids: [id('lims_sample', 'NEW1')], fields: { lotNumber: 'L1', testCode: 'ASSAY', resultStatus: 'final' } };
      const res = applyRecordDirect(sql, LAB, ok, prov('lab-one', sub, 4));
      expect(res && 'lotIds' in res).toBe(true);
      expect(sql.db.prepare("SELECT count(*) AS n FROM lot_identifiers WHERE value = 'NEW1'").get()).toEqual({ n: 1 });
    } finally {
      t.store.rollback();
    }
  });
});
