// Applying mapped records on both dialects (ported from the sync Store's test/store/apply.test.ts):
// every kind of record and the lots it touches, coded and located refusals that write nothing,
// the savepoint of a refused record, who may vouch for identifiers, what a CMO may change,
// deviations over several lots, the lab result lifecycle, idempotence and order independence of
// whole files, and a file's transaction all or nothing.

import { expect, it } from 'vitest';
import type { MappedRecord, PartnerConfig } from '../../../pipeline/model/types.js';
import type { ApplyResult } from '../../../pipeline/store/store.js';
import type { AsyncStore } from '../../../pipeline/store/areas/index.js';
import { ACME, BETA, ERP, LAB, QMS, addSubmission, id, prov, rec, seedErp } from '../helpers.js';
import { describeStore, type OpenedStore } from './harness.js';

const FACT_TABLES = ['materials', 'purchase_orders', 'lots', 'lot_identifiers', 'stage_events', 'test_results', 'documents', 'deviations', 'deviation_lots', 'dispositions'];

async function counts(s: Pick<AsyncStore, 'db'>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of FACT_TABLES) out[t] = Number((await s.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n);
  return out;
}

async function applyAll(s: Pick<AsyncStore, 'apply'>, p: PartnerConfig, submissionId: number, records: MappedRecord[]): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const r of records) out.push(await s.apply.applyRecord(p, r, prov(p.id, submissionId, r.line)));
  return out;
}

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

describeStore('applyRecord', (h) => {
  const setup = async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    const { lotId } = await seedErp(s);
    return { s, lotId };
  };

  it('writes every kind of record and returns the lots it touched', async () => {
    const { s, lotId } = await setup();
    const erpSub = await addSubmission(s, 'erp');
    const erpRes = await applyAll(s, ERP, erpSub, [
      rec('material', { materialId: '000777', description: 'Vial', productFamily: 'sterile-injectable', gtin: '0123' }, [], 2),
      rec('purchase_order', { poNumber: '4500', poItem: '10', materialId: '000777', vendor: 'acme-cmo', quantity: 1000, uom: 'EA', plannedDate: '2026-06-01', lotNumber: 'V-1', status: 'open' }, [], 3),
      rec('lot', { materialId: '000777', lotNumber: 'V-1', vendor: 'acme-cmo', vendorBatch: 'AC-55', quantity: 990, uom: 'EA', expiryDate: '2028-06-30' }, [], 4),
    ]);
    expect(erpRes[0]).toEqual({ lotIds: [] });
    expect(erpRes[1]).toEqual({ lotIds: [] });
    expect(erpRes[2]).toHaveProperty('lotIds');
    const v1 = ('lotIds' in erpRes[2] && erpRes[2].lotIds[0]) as number;
    // The PO now names an existing lot: changing it touches that lot.
    expect(await s.apply.applyRecord(ERP, rec('purchase_order', { poNumber: '4500', poItem: '10', materialId: '000777', vendor: 'acme-cmo', confirmedDate: '2026-06-03' }), prov('erp', erpSub))).toEqual({ lotIds: [v1] });
    expect(await s.apply.applyRecord(ERP, rec('material', { materialId: '000777', ndc: '12-34' }), prov('erp', erpSub))).toEqual({ lotIds: [v1] });

    // The vendor batch from the ERP is acme's identifier: acme's own files resolve through it.
    const sub = await addSubmission(s, 'acme-cmo');
    const vb = [id('vendor_batch', 'AC-55')];
    const res = await applyAll(s, ACME, sub, [
      rec('lot', { manufactureDate: '2026-02-01', site: 'Berlin', vendor: 'beta-cmo' }, vb, 2),
      rec('stage_event', { stage: 'filling', status: 'completed', eventTime: '2026-02-02T10:00:00+01:00', site: 'Berlin' }, vb, 3),
      rec('test_result', { testCode: 'ASSAY', resultRaw: '99.8', resultValue: 99.8, unit: '%', specLow: 95, specHigh: 105, testedAt: '2026-02-03T08:00:00Z', sampleId: 'S1' }, vb, 4),
      rec('test_result', { testCode: 'IMP', resultRaw: '<0.05', resultValue: 0.05, qualifier: '<', resultStatus: 'preliminary' }, vb, 5),
      rec('document', { type: 'coa', docId: 'COA-1', sha256: 'f'.repeat(64), storedPath: '/archive/x.pdf', issuedAt: '2026-02-04T00:00:00Z' }, vb, 6),
      rec('deviation', { partnerRef: 'DEV-1', classification: 'minor', status: 'open', openedAt: '2026-02-02T00:00:00Z', capaRefs: ['CAPA-2', 'CAPA-1'] }, vb, 7),
      rec('lot_identifier', { scheme: 'lims_sample', value: 'LS-1' }, vb, 8),
    ]);
    for (const r of res) expect(r).toEqual({ lotIds: [v1] });
    const qmsSub = await addSubmission(s, 'qms');
    expect(await s.apply.applyRecord(QMS, rec('disposition', { decision: 'released', decidedBy: 'qa.person', decidedAt: '2026-02-10T09:00:00Z', lotNumber: 'V-1', materialId: '000777' }), prov('qms', qmsSub))).toEqual({ lotIds: [v1] });

    const f = await s.readiness.loadLotFacts(v1);
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
    expect(await s.readiness.listOpenLotIds()).toEqual([lotId]);
    expect(await s.readiness.listAllLotIds()).toEqual([lotId, v1]);
  });

  it('rejects bad fields with coded, located errors and writes nothing for them', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'acme-cmo');
    const before = await counts(s);
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
      const res = await s.apply.applyRecord(ACME, r, prov('acme-cmo', sub, r.line));
      expect(res, JSON.stringify(r)).toMatchObject({ error: expected });
    }
    expect(await s.apply.applyRecord(ERP, rec('lot', { materialId: '000123' }), prov('erp', sub))).toMatchObject({ error: { code: 'E_REQUIRED', field: 'lotNumber' } });
    expect(await counts(s)).toEqual(before);
  });

  it('a record rejected after its identifiers were learned leaves no trace (savepoint)', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'acme-cmo');
    const r = await s.apply.applyRecord(ACME, rec('lot_identifier', { scheme: 'erp_lot', value: 'L9' }, [id('erp_lot', 'L1'), id('cmo_batch', 'NEW-1')]), prov('acme-cmo', sub));
    expect(r).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    expect((await s.readiness.loadLotFacts(lotId)).identifiers).toEqual([]);
    // The same reference, valid this time, does learn.
    expect(await s.apply.applyRecord(ACME, rec('lot_identifier', { scheme: 'erp_lot', value: 'L1' }, [id('erp_lot', 'L1'), id('cmo_batch', 'NEW-1')]), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId] });
    expect((await s.readiness.loadLotFacts(lotId)).identifiers).toEqual([{ scheme: 'cmo_batch', value: 'NEW-1', issuer: 'acme-cmo' }]);
  });

  it('lets sponsor systems vouch for partner identifiers, not partners for each other', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'erp');
    expect(await s.apply.applyRecord(ERP, rec('lot_identifier', { scheme: 'cmo_batch', value: 'AC-1', issuer: 'acme-cmo', lotNumber: 'L1' }), prov('erp', sub))).toEqual({ lotIds: [lotId] });
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'AC-1')] })).toEqual({ lotId, learned: [] });
    expect(await s.masterdata.resolveLot(BETA, { ids: [id('cmo_batch', 'AC-1')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('a CMO updates its lot but never its vendor or key; only the ERP creates lots', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'acme-cmo');
    expect(await s.apply.applyRecord(ACME, rec('lot', { quantity: 500, vendor: 'beta-cmo', lotNumber: 'L1' }), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId] });
    expect((await s.readiness.loadLotFacts(lotId)).lot).toMatchObject({ quantity: 500, vendor: 'acme-cmo', expiryDate: '2028-01-31' });
    expect(await s.apply.applyRecord(ACME, rec('lot', { materialId: '000123', lotNumber: 'NEW' }), prov('acme-cmo', sub))).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(await s.apply.applyRecord(BETA, rec('lot', { quantity: 1, lotNumber: 'L1' }), prov('beta-cmo', sub))).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    expect((await s.readiness.loadLotFacts(lotId)).lot.quantity).toBe(500);
  });

  it('a deviation may name several lots; all must resolve', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    const { lotId: l2 } = await s.masterdata.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, p);
    await s.masterdata.addIdentifier(lotId, id('cmo_batch', 'B1'), 'acme-cmo', p);
    await s.masterdata.addIdentifier(l2, id('cmo_batch', 'B2'), 'acme-cmo', p);
    const sub = await addSubmission(s, 'acme-cmo');
    const dev = { partnerRef: 'DEV-9', classification: 'major', status: 'open', openedAt: '2026-02-01T00:00:00Z' };
    expect(await s.apply.applyRecord(ACME, rec('deviation', dev, [id('cmo_batch', 'B1'), id('cmo_batch', 'B2')]), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId, l2] });
    expect((await s.readiness.loadLotFacts(l2)).deviations.map((d) => d.partnerRef)).toEqual(['DEV-9']);
    expect((await s.readiness.loadLotFacts(lotId)).deviations.map((d) => d.partnerRef)).toEqual(['DEV-9']);
    const bad = await s.apply.applyRecord(ACME, rec('deviation', { ...dev, partnerRef: 'DEV-10' }, [id('cmo_batch', 'B1'), id('cmo_batch', 'B2'), id('cmo_batch', 'B404')]), prov('acme-cmo', sub));
    expect(bad).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: 'B404' } });
    expect((await s.readiness.loadLotFacts(lotId)).deviations.map((d) => d.partnerRef)).toEqual(['DEV-9']);
  });

  it('test results follow the lab lifecycle whatever the arrival order', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'lab-one');
    const lab = { ...LAB };
    const key = { testCode: 'ASSAY', sampleId: 'S1', testedAt: '2026-02-03T08:00:00Z', lotNumber: 'L1' };
    const apply = (fields: Record<string, unknown>) => s.apply.applyRecord(lab, rec('test_result', { ...key, ...fields }), prov('lab-one', sub));
    await apply({ resultValue: 99, resultStatus: 'final' });
    await apply({ resultValue: 97, resultStatus: 'preliminary' }); // late preliminary: ignored
    expect((await s.readiness.loadLotFacts(lotId)).testResults).toMatchObject([{ resultValue: 99, resultStatus: 'final' }]);
    await apply({ resultValue: 99, resultStatus: 'retracted' });
    await apply({ resultValue: 99, resultStatus: 'final' }); // late final: the retraction stands
    expect((await s.readiness.loadLotFacts(lotId)).testResults).toMatchObject([{ resultValue: 99, resultStatus: 'retracted' }]);
    // A retest is another sample or time: a new result next to the retracted one.
    await s.apply.applyRecord(lab, rec('test_result', { ...key, testedAt: '2026-02-05T08:00:00Z', resultValue: 100 }), prov('lab-one', sub));
    expect((await s.readiness.loadLotFacts(lotId)).testResults.map((r) => r.resultStatus)).toEqual(['retracted', 'final']);
  });

  /** Both files applied in the given order on a fresh store; its counts and the lot's facts. */
  async function build(order: 'AB' | 'ABAB') {
    const s = await h.fresh({ now: () => new Date('2026-03-01T00:00:00Z') });
    const { lotId } = await seedErp(s);
    const a = await addSubmission(s, 'acme-cmo', 'a.csv');
    const b = await addSubmission(s, 'acme-cmo', 'b.csv');
    const run = async (which: 'A' | 'B', sub: number) => {
      for (const r of await applyAll(s, ACME, sub, which === 'A' ? fileA : fileB)) expect(r).toEqual({ lotIds: [lotId] });
    };
    await run('A', a);
    await run('B', b);
    if (order === 'ABAB') {
      // Replays of both files, as new submissions.
      await run('A', await addSubmission(s, 'acme-cmo', 'a.csv'));
      await run('B', await addSubmission(s, 'acme-cmo', 'b.csv'));
    }
    return { counts: await counts(s), facts: await s.readiness.loadLotFacts(lotId) };
  }

  it('applying the same files again changes nothing', async () => {
    const once = await build('AB');
    const twice = await build('ABAB');
    expect(twice.counts).toEqual(once.counts);
    expect(twice.facts).toEqual(once.facts);
    expect(once.counts).toMatchObject({ stage_events: 3, test_results: 1, documents: 2, deviations: 3, deviation_lots: 3, lot_identifiers: 1 });
  });

  it('B before A gives the same lot facts as A before B', async () => {
    // fileB's last row names the lot only through B1, learned in fileA: in BA order it is
    // unknown the first time round, so the partner resends it after A.
    const fAB = (await build('AB')).facts;
    const { s: ba, lotId } = await setup();
    const a = await addSubmission(ba, 'acme-cmo', 'a.csv');
    const b = await addSubmission(ba, 'acme-cmo', 'b.csv');
    const bRes = await applyAll(ba, ACME, b, fileB);
    expect(bRes.slice(0, -1).every((r) => 'lotIds' in r)).toBe(true);
    expect(bRes[bRes.length - 1]).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    await applyAll(ba, ACME, a, fileA);
    // The partner resends the rejected row after A taught B1 (same submission b, as a replay would).
    expect(await ba.apply.applyRecord(ACME, fileB[fileB.length - 1], prov('acme-cmo', b, 8))).toEqual({ lotIds: [lotId] });

    const fBA = await ba.readiness.loadLotFacts(lotId);
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

  it('a transaction over a file rolls back every area it wrote; committed, everything stays', async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    const sub = await addSubmission(s, 'erp');
    const before = await counts(s);
    const work = async (tx: OpenedStore | AsyncStore) => {
      await seedErp(tx);
      await tx.apply.applyRecord(ACME, rec('stage_event', { stage: 'filling', status: 'started', eventTime: '2026-02-01T00:00:00Z' }, [id('erp_lot', 'L1')]), prov('acme-cmo', sub));
      await tx.ledger.insertRejectedRow(sub, { line: 3, code: 'E_BAD_NUMBER', message: 'bad' });
      await tx.audit.appendAudit({ actor: 'x', action: 'job.run' });
      await tx.outbox.enqueueOutbox({ id: 'm1', topic: 't', key: 'k', payload: {} });
      await tx.ledger.updateSubmission(sub, { state: 'applied' });
    };
    class Undo extends Error {}
    await expect(
      s.transaction(async (tx) => {
        await work(tx);
        throw new Undo();
      }),
    ).rejects.toBeInstanceOf(Undo);
    expect(await counts(s)).toEqual(before);
    expect(await s.ledger.countRejectedRows(sub)).toBe(0);
    expect(await s.audit.listAudit()).toEqual([]);
    expect(await s.outbox.listOutbox()).toEqual([]);
    expect((await s.ledger.getSubmission(sub))?.state).toBe('received');

    await s.transaction((tx) => work(tx));
    expect(await counts(s)).toMatchObject({ lots: 1, stage_events: 1 });
    expect((await s.ledger.getSubmission(sub))?.state).toBe('applied');
  });

  it('transaction() is all-or-nothing and nests as a savepoint', async () => {
    const s = await h.fresh();
    await expect(
      s.transaction(async (tx) => {
        await seedErp(tx);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await s.readiness.listAllLotIds()).toEqual([]);
    const n = await s.transaction(async (tx) => {
      await seedErp(tx);
      await expect(
        tx.transaction(async (sp) => {
          await sp.masterdata.upsertLot('000123', 'L2', {}, prov('erp', null));
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      return (await tx.readiness.listAllLotIds()).length;
    });
    expect(n).toBe(1);
    expect(await s.readiness.listAllLotIds()).toHaveLength(1);
  });
});
