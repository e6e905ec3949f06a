import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MappedRecord, PartnerConfig } from '../../pipeline/model/types.js';
import { Store } from '../../pipeline/store/store.js';
import { ACME, BETA, ERP, LAB, QMS, addSubmission, id, prov, rec, seedErp, tempDir, tempStore } from './helpers.js';

const FACT_TABLES = ['materials', 'purchase_orders', 'lots', 'lot_identifiers', 'stage_events', 'test_results', 'documents', 'deviations', 'deviation_lots', 'dispositions'];

function counts(path: string): Record<string, number> {
  const raw = new Database(path, { readonly: true });
  try {
    return Object.fromEntries(FACT_TABLES.map((t) => [t, (raw.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
  } finally {
    raw.close();
  }
}

function applyAll(store: Store, p: PartnerConfig, submissionId: number, records: MappedRecord[]) {
  return records.map((r) => store.applyRecord(p, r, prov(p.id, submissionId, r.line)));
}

describe('applyRecord', () => {
  let t: ReturnType<typeof tempStore>;
  let store: Store;
  let lotId: number;
  beforeEach(() => {
    t = tempStore();
    store = t.store;
    lotId = seedErp(store).lotId;
  });
  afterEach(() => t.cleanup());

  it('writes every kind of record and returns the lots it touched', () => {
    const erpSub = addSubmission(store, 'erp');
    const erpRes = applyAll(store, ERP, erpSub, [
      rec('material', { materialId: '000777', description: 'Vial', productFamily: 'sterile-injectable', gtin: '0123' }, [], 2),
      rec('purchase_order', { poNumber: '4500', poItem: '10', materialId: '000777', vendor: 'acme-cmo', quantity: 1000, uom: 'EA', plannedDate: '2026-06-01', lotNumber: 'V-1', status: 'open' }, [], 3),
      rec('lot', { materialId: '000777', lotNumber: 'V-1', vendor: 'acme-cmo', vendorBatch: 'AC-55', quantity: 990, uom: 'EA', expiryDate: '2028-06-30' }, [], 4),
    ]);
    expect(erpRes[0]).toEqual({ lotIds: [] });
    expect(erpRes[1]).toEqual({ lotIds: [] });
    expect(erpRes[2]).toHaveProperty('lotIds');
    const v1 = ('lotIds' in erpRes[2] && erpRes[2].lotIds[0]) as number;
    // The PO now names an existing lot: changing it touches that lot.
    expect(store.applyRecord(ERP, rec('purchase_order', { poNumber: '4500', poItem: '10', materialId: '000777', vendor: 'acme-cmo', confirmedDate: '2026-06-03' }), prov('erp', erpSub))).toEqual({ lotIds: [v1] });
    expect(store.applyRecord(ERP, rec('material', { materialId: '000777', ndc: '12-34' }), prov('erp', erpSub))).toEqual({ lotIds: [v1] });

    // The vendor batch from the ERP is acme's identifier: acme's own files resolve through it.
    const sub = addSubmission(store, 'acme-cmo');
    const vb = [id('vendor_batch', 'AC-55')];
    const res = applyAll(store, ACME, sub, [
      rec('lot', { manufactureDate: '2026-02-01', site: 'Berlin', vendor: 'beta-cmo' }, vb, 2),
      rec('stage_event', { stage: 'filling', status: 'completed', eventTime: '2026-02-02T10:00:00+01:00', site: 'Berlin' }, vb, 3),
      rec('test_result', { testCode: 'ASSAY', resultRaw: '99.8', resultValue: 99.8, unit: '%', specLow: 95, specHigh: 105, testedAt: '2026-02-03T08:00:00Z', sampleId: 'S1' }, vb, 4),
      rec('test_result', { testCode: 'IMP', resultRaw: '<0.05', resultValue: 0.05, qualifier: '<', resultStatus: 'preliminary' }, vb, 5),
      rec('document', { type: 'coa', docId: 'COA-1', sha256: 'f'.repeat(64), storedPath: '/archive/x.pdf', issuedAt: '2026-02-04T00:00:00Z' }, vb, 6),
      rec('deviation', { partnerRef: 'DEV-1', classification: 'minor', status: 'open', openedAt: '2026-02-02T00:00:00Z', capaRefs: ['CAPA-2', 'CAPA-1'] }, vb, 7),
      rec('lot_identifier', { scheme: 'lims_sample', value: 'LS-1' }, vb, 8),
    ]);
    for (const r of res) expect(r).toEqual({ lotIds: [v1] });
    const qmsSub = addSubmission(store, 'qms');
    expect(store.applyRecord(QMS, rec('disposition', { decision: 'released', decidedBy: 'qa.person', decidedAt: '2026-02-10T09:00:00Z', lotNumber: 'V-1', materialId: '000777' }), prov('qms', qmsSub))).toEqual({ lotIds: [v1] });

    const f = store.loadLotFacts(v1);
    expect(f.lot).toMatchObject({ materialId: '000777', lotNumber: 'V-1', vendor: 'acme-cmo', quantity: 990, site: 'Berlin', manufactureDate: '2026-02-01', expiryDate: '2028-06-30' });
    expect(f.material).toEqual({ materialId: '000777', description: 'Vial', productFamily: 'sterile-injectable', gtin: '0123', ndc: '12-34' });
    expect(f.plannedReceipt).toMatchObject({ poNumber: '4500', poItem: '10', quantity: 1000, confirmedDate: '2026-06-03', plannedDate: '2026-06-01' });
    expect(f.identifiers).toEqual([
      { scheme: 'lims_sample', value: 'LS-1', issuer: 'acme-cmo' },
      { scheme: 'vendor_batch', value: 'AC-55', issuer: 'acme-cmo' },
    ]);
    expect(f.stageEvents).toEqual([{ stage: 'filling', status: 'completed', eventTime: '2026-02-02T09:00:00.000Z', site: 'Berlin', submissionId: sub, line: 3 }]);
    expect(f.testResults).toHaveLength(2);
    expect(f.testResults[0]).toMatchObject({ testCode: 'ASSAY', resultValue: 99.8, resultStatus: 'final', sampleId: 'S1', testedAt: '2026-02-03T08:00:00.000Z' });
    expect(f.testResults[1]).toMatchObject({ testCode: 'IMP', qualifier: '<', resultRaw: '<0.05', resultStatus: 'preliminary' });
    expect(f.documents).toEqual([
      { type: 'coa', docId: 'COA-1', version: 1, sha256: 'f'.repeat(64), storedPath: '/archive/x.pdf', issuedAt: '2026-02-04T00:00:00.000Z', supersedes: null, submissionId: sub },
    ]);
    expect(f.deviations).toEqual([
      {
        partnerRef: 'DEV-1',
        issuer: 'acme-cmo',
        qmsRef: null,
        title: null,
        classification: 'minor',
        status: 'open',
        capaRefs: ['CAPA-1', 'CAPA-2'],
        openedAt: '2026-02-02T00:00:00.000Z',
        closedAt: null,
        updatedAt: '2026-02-02T00:00:00.000Z',
        submissionId: sub,
      },
    ]);
    expect(f.dispositions).toEqual([{ decision: 'released', decidedBy: 'qa.person', decidedAt: '2026-02-10T09:00:00.000Z' }]);
    expect(store.listOpenLotIds()).toEqual([lotId]);
    expect(store.listAllLotIds()).toEqual([lotId, v1]);
  });

  it('rejects bad fields with coded, located errors and writes nothing for them', () => {
    const sub = addSubmission(store, 'acme-cmo');
    const before = counts(t.path);
    const L1 = [id('erp_lot', 'L1')];
    const cases: [MappedRecord, Record<string, unknown>][] = [
      [rec('stage_event', { stage: 'filling', eventTime: '2026-01-01T00:00:00Z' }, L1, 11), { code: 'E_REQUIRED', field: 'status', line: 11 }],
      [rec('stage_event', { stage: 'filling', status: 'done', eventTime: '2026-01-01T00:00:00Z' }, L1, 12), { code: 'E_BAD_VALUE', field: 'status', value: 'done' }],
      [rec('test_result', { testCode: 'ASSAY', resultValue: 'ninety' }, L1, 13), { code: 'E_BAD_NUMBER', field: 'resultValue' }],
      [rec('document', { type: 'coa', docId: 'D', version: 1.5 }, L1, 14), { code: 'E_BAD_NUMBER', field: 'version' }],
      [rec('deviation', { partnerRef: 'D1', classification: 'minor', status: 'open' }, L1, 15), { code: 'E_REQUIRED', field: 'openedAt' }],
      [rec('stage_event', { stage: 'filling', status: 'started', eventTime: '2026-01-01T00:00:00Z' }, [id('cmo_batch', 'unknown')], 16), { code: 'E_UNKNOWN_LOT', line: 16 }],
      [rec('material', { materialId: 'M9' }, [], 17), { code: 'E_PARTNER_SCOPE' }],
      [rec('purchase_order', { poNumber: '1', poItem: '1', materialId: 'M', vendor: 'beta-cmo' }, [], 18), { code: 'E_PARTNER_SCOPE' }],
      [rec('lot_identifier', { scheme: 'cmo_batch', value: 'X', issuer: 'beta-cmo' }, L1, 19), { code: 'E_PARTNER_SCOPE' }],
      [rec('lot', { materialId: '000123' }, [], 20), { code: 'E_UNKNOWN_LOT' }],
    ];
    for (const [r, expected] of cases) {
      const res = store.applyRecord(ACME, r, prov('acme-cmo', sub, r.line));
      expect(res, JSON.stringify(r)).toMatchObject({ error: expected });
    }
    expect(store.applyRecord(ERP, rec('lot', { materialId: '000123' }), prov('erp', sub))).toMatchObject({ error: { code: 'E_REQUIRED', field: 'lotNumber' } });
    expect(counts(t.path)).toEqual(before);
  });

  it('a record rejected after its identifiers were learned leaves no trace (savepoint)', () => {
    const sub = addSubmission(store, 'acme-cmo');
    const r = store.applyRecord(ACME, rec('lot_identifier', { scheme: 'erp_lot', value: 'L9' }, [id('erp_lot', 'L1'), id('cmo_batch', 'NEW-1')]), prov('acme-cmo', sub));
    expect(r).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    expect(store.loadLotFacts(lotId).identifiers).toEqual([]);
    // The same reference, valid this time, does learn.
    expect(store.applyRecord(ACME, rec('lot_identifier', { scheme: 'erp_lot', value: 'L1' }, [id('erp_lot', 'L1'), id('cmo_batch', 'NEW-1')]), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId] });
    expect(store.loadLotFacts(lotId).identifiers).toEqual([{ scheme: 'cmo_batch', value: 'NEW-1', issuer: 'acme-cmo' }]);
  });

  it('lets sponsor systems vouch for partner identifiers, not partners for each other', () => {
    const sub = addSubmission(store, 'erp');
    expect(store.applyRecord(ERP, rec('lot_identifier', { scheme: 'cmo_batch', value: 'AC-1', issuer: 'acme-cmo', lotNumber: 'L1' }), prov('erp', sub))).toEqual({ lotIds: [lotId] });
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'AC-1')] })).toEqual({ lotId, learned: [] });
    expect(store.resolveLot(BETA, { ids: [id('cmo_batch', 'AC-1')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('a CMO updates its lot but never its vendor or key; only the ERP creates lots', () => {
    const sub = addSubmission(store, 'acme-cmo');
    expect(store.applyRecord(ACME, rec('lot', { quantity: 500, vendor: 'beta-cmo', lotNumber: 'L1' }), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId] });
    expect(store.loadLotFacts(lotId).lot).toMatchObject({ quantity: 500, vendor: 'acme-cmo', expiryDate: '2028-01-31' });
    expect(store.applyRecord(ACME, rec('lot', { materialId: '000123', lotNumber: 'NEW' }), prov('acme-cmo', sub))).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(store.applyRecord(BETA, rec('lot', { quantity: 1, lotNumber: 'L1' }), prov('beta-cmo', sub))).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    expect(store.loadLotFacts(lotId).lot.quantity).toBe(500);
  });

  it('a deviation may name several lots; all must resolve', () => {
    const p = prov('erp', null);
    const { lotId: l2 } = store.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, p);
    store.addIdentifier(lotId, id('cmo_batch', 'B1'), 'acme-cmo', p);
    store.addIdentifier(l2, id('cmo_batch', 'B2'), 'acme-cmo', p);
    const sub = addSubmission(store, 'acme-cmo');
    const dev = { partnerRef: 'DEV-9', classification: 'major', status: 'open', openedAt: '2026-02-01T00:00:00Z' };
    expect(store.applyRecord(ACME, rec('deviation', dev, [id('cmo_batch', 'B1'), id('cmo_batch', 'B2')]), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId, l2] });
    expect(store.loadLotFacts(l2).deviations.map((d) => d.partnerRef)).toEqual(['DEV-9']);
    expect(store.loadLotFacts(lotId).deviations.map((d) => d.partnerRef)).toEqual(['DEV-9']);
    const bad = store.applyRecord(ACME, rec('deviation', { ...dev, partnerRef: 'DEV-10' }, [id('cmo_batch', 'B1'), id('cmo_batch', 'B2'), id('cmo_batch', 'B404')]), prov('acme-cmo', sub));
    expect(bad).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: 'B404' } });
    expect(store.loadLotFacts(lotId).deviations.map((d) => d.partnerRef)).toEqual(['DEV-9']);
  });

  it('test results follow the lab lifecycle whatever the arrival order', () => {
    const sub = addSubmission(store, 'lab-one');
    const lab = { ...LAB };
    const key = { testCode: 'ASSAY', sampleId: 'S1', testedAt: '2026-02-03T08:00:00Z', lotNumber: 'L1' };
    const apply = (fields: Record<string, unknown>) => store.applyRecord(lab, rec('test_result', { ...key, ...fields }), prov('lab-one', sub));
    apply({ resultValue: 99, resultStatus: 'final' });
    apply({ resultValue: 97, resultStatus: 'preliminary' }); // late preliminary: ignored
    expect(store.loadLotFacts(lotId).testResults).toMatchObject([{ resultValue: 99, resultStatus: 'final' }]);
    apply({ resultValue: 99, resultStatus: 'retracted' });
    apply({ resultValue: 99, resultStatus: 'final' }); // late final: the retraction stands
    expect(store.loadLotFacts(lotId).testResults).toMatchObject([{ resultValue: 99, resultStatus: 'retracted' }]);
    // A retest is another sample or time: a new result next to the retracted one.
    store.applyRecord(lab, rec('test_result', { ...key, testedAt: '2026-02-05T08:00:00Z', resultValue: 100 }), prov('lab-one', sub));
    expect(store.loadLotFacts(lotId).testResults.map((r) => r.resultStatus)).toEqual(['retracted', 'final']);
  });
});

describe('idempotence and order independence', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());

  const L1 = [id('erp_lot', 'L1')];
  // Two files from acme about the same lot; B carries later versions of what A says.
  const fileA = [
    rec('stage_event', { stage: 'compounding', status: 'started', eventTime: '2026-02-01T06:00:00Z' }, L1, 2),
    rec('stage_event', { stage: 'compounding', status: 'completed', eventTime: '2026-02-01T18:00:00Z' }, [...L1, id('cmo_batch', 'B1')], 3),
    rec('deviation', { partnerRef: 'DEV-1', classification: 'major', status: 'open', openedAt: '2026-02-01T12:00:00Z', capaRefs: ['C1'] }, L1, 4),
    rec('test_result', { testCode: 'ASSAY', sampleId: 'S1', testedAt: '2026-02-02T00:00:00Z', resultValue: 98, resultStatus: 'preliminary' }, L1, 5),
    rec('document', { type: 'coa', docId: 'COA-1', version: 1 }, L1, 6),
  ];
  const fileB = [
    rec('stage_event', { stage: 'filling', status: 'started', eventTime: '2026-02-02T06:00:00Z', site: 'Berlin' }, L1, 2),
    rec('stage_event', { stage: 'compounding', status: 'completed', eventTime: '2026-02-01T19:00:00+01:00', site: 'Berlin' }, L1, 3),
    rec('deviation', { partnerRef: 'DEV-1', classification: 'minor', status: 'closed', openedAt: '2026-02-01T12:00:00Z', closedAt: '2026-02-03T12:00:00Z', capaRefs: ['C1', 'C2'] }, L1, 4),
    rec('deviation', { partnerRef: 'DEV-1', classification: 'major', status: 'investigation', openedAt: '2026-02-01T12:00:00Z', updatedAt: '2026-02-02T12:00:00Z' }, L1, 5),
    rec('test_result', { testCode: 'ASSAY', sampleId: 'S1', testedAt: '2026-02-02T00:00:00Z', resultValue: 99.1, resultStatus: 'final' }, L1, 6),
    rec('document', { type: 'coa', docId: 'COA-1', version: 2, supersedes: 'COA-1 v1' }, L1, 7),
    rec('lot', { quantity: 1000 }, [id('cmo_batch', 'B1')], 8),
  ];

  function build(order: 'AB' | 'BA' | 'ABAB') {
    const t = tempDir();
    const path = join(t.dir, `${order}.db`);
    const store = Store.open(path, { now: () => new Date('2026-03-01T00:00:00Z') });
    const { lotId } = seedErp(store);
    const a = addSubmission(store, 'acme-cmo', 'a.csv');
    const b = addSubmission(store, 'acme-cmo', 'b.csv');
    const run = (which: 'A' | 'B', sub: number) => {
      for (const r of applyAll(store, ACME, sub, which === 'A' ? fileA : fileB)) expect(r).toEqual({ lotIds: [lotId] });
    };
    if (order === 'AB') {
      run('A', a);
      run('B', b);
    } else if (order === 'BA') {
      // B's batch-header row names the lot by B1, which only A teaches: it must wait for A.
      run('B', b);
      run('A', a);
    } else {
      run('A', a);
      run('B', b);
      // Replays of both files, as new submissions.
      run('A', addSubmission(store, 'acme-cmo', 'a.csv'));
      run('B', addSubmission(store, 'acme-cmo', 'b.csv'));
    }
    return { store, path, lotId, dispose: () => (store.close(), t.cleanup()) };
  }

  it('applying the same files again changes nothing', () => {
    const once = build('AB');
    const twice = build('ABAB');
    cleanup = () => {
      once.dispose();
      twice.dispose();
    };
    expect(counts(twice.path)).toEqual(counts(once.path));
    expect(twice.store.loadLotFacts(twice.lotId)).toEqual(once.store.loadLotFacts(once.lotId));
    expect(counts(once.path)).toMatchObject({ stage_events: 3, test_results: 1, documents: 2, deviations: 3, deviation_lots: 3, lot_identifiers: 1 });
  });

  it('B before A gives the same lot facts as A before B', () => {
    // fileB's last row names the lot only through B1, learned in fileA: in BA order it is
    // unknown the first time round, so we drop it from this comparison and test it separately.
    const ab = build('AB');
    cleanup = () => ab.dispose();
    const t = tempDir();
    const ba = Store.open(join(t.dir, 'ba.db'), { now: () => new Date('2026-03-01T00:00:00Z') });
    const prevCleanup = cleanup;
    cleanup = () => {
      prevCleanup();
      ba.close();
      t.cleanup();
    };
    const { lotId } = seedErp(ba);
    const a = addSubmission(ba, 'acme-cmo', 'a.csv');
    const b = addSubmission(ba, 'acme-cmo', 'b.csv');
    const bRes = applyAll(ba, ACME, b, fileB);
    expect(bRes.slice(0, -1).every((r) => 'lotIds' in r)).toBe(true);
    expect(bRes[bRes.length - 1]).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    applyAll(ba, ACME, a, fileA);
    // The partner resends the rejected row after A taught B1 (same submission b, as a replay would).
    expect(ba.applyRecord(ACME, fileB[fileB.length - 1], prov('acme-cmo', b, 8))).toEqual({ lotIds: [lotId] });

    const fAB = ab.store.loadLotFacts(ab.lotId);
    const fBA = ba.loadLotFacts(lotId);
    expect(fBA).toEqual(fAB);
    // What the merge decided: latest deviation version, final result, both CoA versions, site filled.
    expect(fAB.deviations).toMatchObject([{ partnerRef: 'DEV-1', status: 'closed', classification: 'minor', capaRefs: ['C1', 'C2'], updatedAt: '2026-02-03T12:00:00.000Z' }]);
    expect(fAB.testResults).toMatchObject([{ resultValue: 99.1, resultStatus: 'final' }]);
    expect(fAB.documents.map((d) => d.version)).toEqual([1, 2]);
    expect(fAB.stageEvents).toMatchObject([
      { stage: 'compounding', status: 'started' },
      { stage: 'compounding', status: 'completed', eventTime: '2026-02-01T18:00:00.000Z', site: 'Berlin' },
      { stage: 'filling', status: 'started' },
    ]);
    expect(fAB.lot.quantity).toBe(1000);
  });
});

describe('transactions', () => {
  let t: ReturnType<typeof tempStore>;
  beforeEach(() => {
    t = tempStore();
  });
  afterEach(() => t.cleanup());

  it('begin/rollback leaves nothing behind; begin/commit keeps everything', () => {
    const { store } = t;
    const sub = addSubmission(store, 'erp');
    const before = counts(t.path);
    const work = () => {
      seedErp(store);
      store.applyRecord(ACME, rec('stage_event', { stage: 'filling', status: 'started', eventTime: '2026-02-01T00:00:00Z' }, [id('erp_lot', 'L1')]), prov('acme-cmo', sub));
      store.insertRejectedRow(sub, { line: 3, code: 'E_BAD_NUMBER', message: 'bad' });
      store.appendAudit({ actor: 'x', action: 'job.run' });
      store.enqueueOutbox({ id: 'm1', topic: 't', key: 'k', payload: {} });
      store.updateSubmission(sub, { state: 'applied' });
    };
    store.begin();
    expect(() => store.begin()).toThrow(/already open/);
    work();
    expect(store.inTransaction).toBe(true);
    store.rollback();
    expect(store.inTransaction).toBe(false);
    store.rollback(); // harmless when nothing is open
    expect(counts(t.path)).toEqual(before);
    expect(store.countRejectedRows(sub)).toBe(0);
    expect(store.listAudit()).toEqual([]);
    expect(store.listOutbox()).toEqual([]);
    expect(store.getSubmission(sub)?.state).toBe('received');

    store.begin();
    work();
    store.commit();
    expect(counts(t.path)).toMatchObject({ lots: 1, stage_events: 1 });
    expect(store.getSubmission(sub)?.state).toBe('applied');
  });

  it('transaction() is all-or-nothing and nests as a savepoint', () => {
    const { store } = t;
    expect(() =>
      store.transaction(() => {
        seedErp(store);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.listAllLotIds()).toEqual([]);
    const n = store.transaction(() => {
      seedErp(store);
      try {
        store.transaction(() => {
          store.upsertLot('000123', 'L2', {}, prov('erp', null));
          throw new Error('inner');
        });
      } catch {
        /* the inner savepoint is rolled back, the outer work stays */
      }
      return store.listAllLotIds().length;
    });
    expect(n).toBe(1);
    expect(store.listAllLotIds()).toHaveLength(1);
  });

  it('a second connection sees committed work only', () => {
    const { store } = t;
    const other = Store.open(t.path, { readonly: true });
    try {
      store.begin();
      seedErp(store);
      expect(other.listAllLotIds()).toEqual([]);
      store.commit();
      expect(other.listAllLotIds()).toHaveLength(1);
    } finally {
      other.close();
    }
  });
});
