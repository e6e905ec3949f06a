// Readiness persistence and the lot reads, on both dialects (ported from the sync Store's
// test/store/readiness-reads.test.ts): when a saved readiness counts as changed, the lot list and
// its filters, one lot in full, the current deviation versions, planned receipts, open lots by
// their latest disposition, material master data.

import { expect, it } from 'vitest';
import type { ReasonCode } from '../../../pipeline/codes.js';
import type { Readiness } from '../../../pipeline/model/types.js';
import { ERP, QMS, ACME, addSubmission, id, prov, rec, seedErp } from '../helpers.js';
import { describeStore } from './harness.js';

const reason = (code: ReasonCode, severity: 'BLOCKED' | 'NOT_READY' | 'CONDITIONAL' = 'NOT_READY') => ({ code, message: code, severity, evidence: [] });

describeStore('readiness persistence and lot reads', (h) => {
  const setup = async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    const { lotId } = await seedErp(s);
    return { s, lotId };
  };

  it('saves readiness and reports a change only when state, late or reason codes change', async () => {
    const { s, lotId } = await setup();
    expect(await s.readiness.getReadiness(lotId)).toBeNull();
    const r1: Readiness = { state: 'NOT_READY', late: false, reasons: [reason('R_STAGE_INCOMPLETE'), reason('R_COA_MISSING')] };
    expect(await s.readiness.saveReadiness(lotId, r1, '2026-03-01T00:00:00.000Z')).toEqual({ changed: true, previous: null });
    expect(await s.readiness.getReadiness(lotId)).toEqual({ ...r1, computedAt: '2026-03-01T00:00:00.000Z' });

    // Same codes in another order, new messages: no change, but the new computation is kept.
    const r1b: Readiness = { state: 'NOT_READY', late: false, reasons: [{ ...reason('R_COA_MISSING'), message: 'still no CoA' }, reason('R_STAGE_INCOMPLETE')] };
    expect(await s.readiness.saveReadiness(lotId, r1b, '2026-03-02T00:00:00.000Z')).toEqual({ changed: false, previous: r1 });
    expect((await s.readiness.getReadiness(lotId))?.computedAt).toBe('2026-03-02T00:00:00.000Z');

    const late: Readiness = { ...r1b, late: true, lateStages: [{ stage: 'filling', dueDate: '2026-02-20' }] };
    expect((await s.readiness.saveReadiness(lotId, late, '2026-03-03T00:00:00.000Z')).changed).toBe(true);
    const fewer: Readiness = { ...late, reasons: [reason('R_COA_MISSING')] };
    expect((await s.readiness.saveReadiness(lotId, fewer, '2026-03-04T00:00:00.000Z')).changed).toBe(true);
    const blocked: Readiness = { ...fewer, state: 'BLOCKED' };
    const res = await s.readiness.saveReadiness(lotId, blocked, '2026-03-05T00:00:00.000Z');
    expect(res).toEqual({ changed: true, previous: fewer });

    expect(await s.reads.listLots()).toEqual([
      { lotId, lotNumber: 'L1', materialId: '000123', vendor: 'acme-cmo', expiryDate: '2028-01-31', readiness: 'BLOCKED', late: true, reasonCodes: ['R_COA_MISSING'], computedAt: '2026-03-05T00:00:00.000Z' },
    ]);
    expect(await s.reads.listLots({ readiness: 'READY' })).toEqual([]);
    expect(await s.reads.listLots({ readiness: 'BLOCKED' })).toHaveLength(1);
  });

  it('lists lots with filters, unassessed ones without readiness', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    const { lotId: l2 } = await s.masterdata.upsertLot('000456', 'A-7', { vendor: 'beta-cmo' }, p);
    await s.readiness.saveReadiness(lotId, { state: 'READY', late: false, reasons: [] }, '2026-03-01T00:00:00.000Z');
    expect((await s.reads.listLots()).map((l) => l.lotNumber)).toEqual(['A-7', 'L1']);
    expect(await s.reads.listLots({ unassessed: true })).toEqual([
      { lotId: l2, lotNumber: 'A-7', materialId: '000456', vendor: 'beta-cmo', expiryDate: null, readiness: null, late: false, reasonCodes: [], computedAt: null },
    ]);
    expect((await s.reads.listLots({ vendor: 'acme-cmo' })).map((l) => l.lotId)).toEqual([lotId]);
    expect((await s.reads.listLots({ materialId: '000456' })).map((l) => l.lotId)).toEqual([l2]);
    expect((await s.reads.listLots({ limit: 1, offset: 1 })).map((l) => l.lotId)).toEqual([lotId]);
  });
  it('getLotDetail: one lot in full, all matches when ambiguous, undefined when unknown', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'acme-cmo');
    const L1 = [id('erp_lot', 'L1'), id('cmo_batch', 'B1')];
    const events = [
      ['compounding', 'started', '2026-02-01T06:00:00Z'],
      ['compounding', 'completed', '2026-02-01T18:00:00Z'],
      ['filling', 'started', '2026-02-02T06:00:00Z'],
      ['filling', 'on_hold', '2026-02-02T09:00:00Z'],
      ['filling', 'started', '2026-02-02T09:00:00Z'],
    ];
    for (const [i, [stage, status, eventTime]] of events.entries()) {
      expect(await s.apply.applyRecord(ACME, rec('stage_event', { stage, status, eventTime }, L1, i + 2), prov('acme-cmo', sub))).toEqual({ lotIds: [lotId] });
    }
    await s.apply.applyRecord(ACME, rec('test_result', { testCode: 'ASSAY', resultValue: 99 }, L1), prov('acme-cmo', sub));
    await s.readiness.saveReadiness(lotId, { state: 'NOT_READY', late: false, reasons: [reason('R_STAGE_INCOMPLETE')] }, '2026-03-01T00:00:00.000Z');

    const d = await s.reads.getLotDetail('L1');
    if (!d || Array.isArray(d)) throw new Error('expected one lot');
    expect(d.lot).toMatchObject({ id: lotId, lotNumber: 'L1', materialId: '000123' });
    expect(d.material).toMatchObject({ productFamily: 'oral-solid' });
    expect(d.identifiers).toEqual([{ scheme: 'cmo_batch', value: 'B1', issuer: 'acme-cmo', submissionId: sub, createdAt: '2026-03-01T12:00:00.000Z' }]);
    // Latest per stage; at equal times the more telling status wins.
    expect(d.stages).toEqual([
      { stage: 'compounding', status: 'completed', eventTime: '2026-02-01T18:00:00.000Z', site: null },
      { stage: 'filling', status: 'on_hold', eventTime: '2026-02-02T09:00:00.000Z', site: null },
    ]);
    expect(d.stageEvents).toHaveLength(5);
    expect(d.tests[0]).toMatchObject({ testCode: 'ASSAY', resultValue: 99 });
    expect(typeof d.tests[0].id).toBe('number');
    expect(d.readiness).toMatchObject({ state: 'NOT_READY', computedAt: '2026-03-01T00:00:00.000Z' });
    expect(d.plannedReceipt).toBeNull();

    await s.masterdata.upsertLot('000999', 'L1', {}, prov('erp', null));
    const both = await s.reads.getLotDetail('L1');
    expect(Array.isArray(both) && both.map((x) => x.lot.materialId)).toEqual(['000123', '000999']);
    expect((await s.reads.getLotDetail('L1', '000999') as { lot: { materialId: string } }).lot.materialId).toBe('000999');
    expect(await s.reads.getLotDetail('NOPE')).toBeUndefined();
    expect(await s.masterdata.findLotIdsByIdentifier('B1')).toEqual([lotId]);
    expect(await s.masterdata.findLotIdsByIdentifier('B1', { issuer: 'beta-cmo' })).toEqual([]);
  });

  it('deviations: the latest version counts, even when it no longer repeats the lot', async () => {
    const { s, lotId } = await setup();
    const p = prov('acme-cmo', await addSubmission(s, 'acme-cmo'));
    const { lotId: l2 } = await s.masterdata.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, prov('erp', null));
    await s.facts.upsertDeviation([lotId], { partnerRef: 'D1', classification: 'major', status: 'open', openedAt: '2026-02-01T00:00:00Z' }, 'acme-cmo', p);
    await s.facts.upsertDeviation([l2], { partnerRef: 'D1', classification: 'major', status: 'closed', openedAt: '2026-02-01T00:00:00Z', closedAt: '2026-02-05T00:00:00Z' }, 'acme-cmo', p);
    // Same partner ref from another issuer is another deviation.
    await s.facts.upsertDeviation([lotId], { partnerRef: 'D1', classification: 'minor', status: 'open', openedAt: '2026-02-03T00:00:00Z' }, 'qms', p);
    const devs = (await s.readiness.loadLotFacts(lotId)).deviations;
    expect(devs.map((d) => [d.issuer, d.status])).toEqual([
      ['acme-cmo', 'closed'],
      ['qms', 'open'],
    ]);
    expect((await s.readiness.loadLotFacts(l2)).deviations.map((d) => [d.issuer, d.status])).toEqual([['acme-cmo', 'closed']]);
  });

  it('planned receipt by lot number, and open lots by their latest disposition', async () => {
    const { s, lotId } = await setup();
    const erp = prov('erp', null);
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000123', vendor: 'acme-cmo', lotNumber: 'L1', plannedDate: '2026-04-01', quantity: 100 }, erp);
    expect((await s.readiness.loadLotFacts(lotId)).plannedReceipt).toMatchObject({ poNumber: '4500', plannedDate: '2026-04-01', quantity: 100, vendor: 'acme-cmo' });
    const { lotId: l2 } = await s.masterdata.upsertLot('000123', 'L2', {}, erp);
    const { lotId: l3 } = await s.masterdata.upsertLot('000123', 'L3', {}, erp);
    const q = prov('qms', await addSubmission(s, 'qms'));
    const decide = async (lot: string, decision: string, decidedAt: string) =>
      expect(await s.apply.applyRecord(QMS, rec('disposition', { decision, decidedAt, lotNumber: lot }), q)).toHaveProperty('lotIds');
    await decide('L1', 'quarantine', '2026-03-01T00:00:00Z');
    await decide('L2', 'quarantine', '2026-03-01T00:00:00Z');
    await decide('L2', 'released', '2026-03-02T00:00:00Z');
    await decide('L3', 'rejected', '2026-03-01T00:00:00Z');
    await decide('L3', 'quarantine', '2026-03-03T00:00:00Z');
    expect(await s.readiness.listOpenLotIds()).toEqual([lotId, l3]);
    expect(await s.readiness.listAllLotIds()).toEqual([lotId, l2, l3]);
    // Two decisions at the same instant: the more restrictive stands, in either order.
    await decide('L2', 'rejected', '2026-03-02T00:00:00Z');
    await decide('L2', 'released', '2026-03-02T00:00:00Z');
    expect((await s.readiness.loadLotFacts(l2)).dispositions.map((d) => d.decision)).toEqual(['quarantine', 'rejected']);
  });

  it('material master data: later values win, absent values keep what is known', async () => {
    const { s, lotId } = await setup();
    const erp = prov('erp', null);
    await s.masterdata.upsertMaterial({ materialId: '000123', description: 'Tablet 10 mg (new)' }, erp);
    expect((await s.readiness.loadLotFacts(lotId)).material).toEqual({ materialId: '000123', description: 'Tablet 10 mg (new)', productFamily: 'oral-solid', gtin: null, ndc: null });
    expect(await s.apply.applyRecord(ERP, rec('lot', { lotNumber: 'L1', materialId: '000123', quantity: 5 }), erp)).toEqual({ lotIds: [lotId] });
    expect((await s.readiness.loadLotFacts(lotId)).lot).toMatchObject({ quantity: 5, vendor: 'acme-cmo', expiryDate: '2028-01-31' });
  });
});
