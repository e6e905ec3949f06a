// loadLotFactsBatch on both dialects (ported from the sync Store's test/store/lot-facts-batch*.test.ts):
// each fact table is read once for a batch of lots and grouped by lot; every lot's facts must be
// exactly what loading that lot alone gives, in the order asked, and the lot row and planned
// receipt what the per-lot reads give.

import { expect, it } from 'vitest';
import { toLot, toPlannedReceipt } from '../../../pipeline/store/rows.js';
import { ACME, LAB, addSubmission, id, prov, rec } from '../helpers.js';
import { describeStore } from './harness.js';

describeStore('loadLotFactsBatch', (h) => {
  it('gives each lot exactly its own facts, as loading it alone does', async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    const erp = prov('erp', await addSubmission(s, 'erp'));
    await s.masterdata.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, erp);
    const lots: number[] = [];
    for (const n of ['L1', 'L2', 'L3', 'L4', 'L5']) lots.push((await s.masterdata.upsertLot('M1', n, { vendor: 'acme-cmo', expiryDate: '2028-01-31' }, erp)).lotId);
    const lab = await addSubmission(s, 'lab-one');
    const cmo = await addSubmission(s, 'acme-cmo');
    let line = 2;
    // Lots get different amounts of every fact, in shuffled order; L5 gets nothing.
    for (const [i, n] of ['L3', 'L1', 'L2', 'L1', 'L3', 'L1'].entries()) {
      for (const test of ['ASSAY', 'DISSO', 'CU'].slice(0, 1 + (i % 3))) {
        await s.apply.applyRecord(LAB, rec('test_result', { lotNumber: n, testCode: test, sampleId: `S${i}`, resultValue: 99 + i, replicate: i % 2 ? 'r2' : null }, [id('lims_sample', `X${n}`)], line), prov('lab-one', lab, line++));
      }
      await s.apply.applyRecord(ACME, rec('stage_event', { lotNumber: n, stage: ['filling', 'packaging'][i % 2], status: 'completed', eventTime: `2026-02-0${i + 1}T08:00:00Z` }, [], line), prov('acme-cmo', cmo, line++));
      await s.apply.applyRecord(ACME, rec('document', { lotNumber: n, type: 'coa', docId: `COA-${i}` }, [], line), prov('acme-cmo', cmo, line++));
    }
    await s.facts.insertDisposition(lots[1], { decision: 'quarantine', decidedAt: '2026-02-10T00:00:00Z' }, erp);
    await s.facts.insertDisposition(lots[0], { decision: 'released', decidedAt: '2026-02-11T00:00:00Z' }, erp);
    const order = [lots[2], lots[4], lots[0], lots[3], lots[1]];
    const batch = await s.readiness.loadLotFactsBatch(order);
    expect(batch.map((f) => f.lot.lotNumber)).toEqual(['L3', 'L5', 'L1', 'L4', 'L2']);
    for (const [i, lotId] of order.entries()) expect(batch[i], `lot ${lotId}`).toEqual(await s.readiness.loadLotFacts(lotId));
    expect(batch[2].testResults.length).toBeGreaterThan(0);
    expect(batch[2].stageEvents.length).toBeGreaterThan(0);
    expect(batch[1].testResults).toEqual([]);
    expect(batch[4].dispositions).toHaveLength(1);
    expect(await s.readiness.loadLotFactsBatch([])).toEqual([]);
  });

  it('gives each lot what the per-lot reads give', async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    const erp = prov('erp', await addSubmission(s, 'erp'));
    await s.masterdata.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, erp);
    await s.masterdata.upsertMaterial({ materialId: 'M2', description: 'Vial' }, erp);
    // L1: linked PO line; L2: two lines naming its lot number (a closed one sorts after the open);
    // L3: a linked line that does not exist (falls back to the lot number); L4 (M2): none.
    await s.masterdata.upsertPurchaseOrder({ poNumber: 'PO1', poItem: '10', materialId: 'M1', lotNumber: 'OTHER', plannedDate: '2026-04-01', status: 'open' }, erp);
    await s.masterdata.upsertPurchaseOrder({ poNumber: 'PO0', poItem: '10', materialId: 'M1', lotNumber: 'L2', plannedDate: '2026-04-02', status: 'closed' }, erp);
    await s.masterdata.upsertPurchaseOrder({ poNumber: 'PO9', poItem: '20', materialId: 'M1', lotNumber: 'L2', plannedDate: '2026-04-03', status: 'open' }, erp);
    await s.masterdata.upsertPurchaseOrder({ poNumber: 'PO5', poItem: '10', materialId: 'M1', lotNumber: 'L3', plannedDate: '2026-04-04' }, erp);
    const l1 = (await s.masterdata.upsertLot('M1', 'L1', { vendor: 'acme-cmo', expiryDate: '2028-01-31', poNumber: 'PO1', poItem: '10' }, erp)).lotId;
    const l2 = (await s.masterdata.upsertLot('M1', 'L2', { vendor: 'acme-cmo', quantity: 5, uom: 'kg' }, erp)).lotId;
    const l3 = (await s.masterdata.upsertLot('M1', 'L3', { vendor: 'beta-cmo', poNumber: 'PO7', poItem: '99' }, erp)).lotId;
    const l4 = (await s.masterdata.upsertLot('M2', 'L4', { site: 'S1' }, erp)).lotId;
    // Identifiers: L1 and L3 share a batch number (a conflict); L2 has two of its own.
    await s.masterdata.addIdentifier(l1, { scheme: 'cmo_batch', value: 'B-1' }, 'acme-cmo', erp);
    await s.masterdata.addIdentifier(l3, { scheme: 'cmo_batch', value: 'B-1' }, 'acme-cmo', erp);
    await s.masterdata.addIdentifier(l2, { scheme: 'lims_sample', value: 'S-9' }, 'lab-one', erp);
    await s.masterdata.addIdentifier(l2, { scheme: 'cmo_batch', value: 'B-2' }, 'acme-cmo', erp);
    // Deviations: D1 names L1 and L2 and has a later version naming only L2; D2 names L1.
    await s.facts.upsertDeviation([l1, l2], { partnerRef: 'D1', classification: 'major', status: 'open', openedAt: '2026-02-01T00:00:00Z' }, 'acme-cmo', erp);
    await s.facts.upsertDeviation([l2], { partnerRef: 'D1', classification: 'major', status: 'closed', openedAt: '2026-02-01T00:00:00Z', closedAt: '2026-02-05T00:00:00Z' }, 'acme-cmo', erp);
    await s.facts.upsertDeviation([l1], { partnerRef: 'D2', classification: 'minor', status: 'open', openedAt: '2026-02-03T00:00:00Z' }, 'qms', erp);

    const order = [l4, l2, l1, l3];
    const batch = await s.readiness.loadLotFactsBatch(order);
    for (const [i, lotId] of order.entries()) {
      const f = batch[i];
      const lotRow = (await s.masterdata.getLot(lotId))!;
      expect(f.lot, `lot ${lotId}`).toEqual(toLot(lotRow));
      const po = await s.masterdata.plannedReceiptOf((await s.masterdata.getLotKey(lotId))!);
      expect(f.plannedReceipt, `PO of lot ${lotId}`).toEqual(po ? toPlannedReceipt(po) : null);
    }
    // Identifiers, conflicts and the current deviation versions, lot by lot.
    expect(batch.map((f) => f.identifiers.map((i) => `${i.issuer}:${i.scheme}:${i.value}`).sort())).toEqual([[], ['acme-cmo:cmo_batch:B-2', 'lab-one:lims_sample:S-9'], ['acme-cmo:cmo_batch:B-1'], ['acme-cmo:cmo_batch:B-1']]);
    expect(batch[3].conflictingIdentifiers).toEqual([{ scheme: 'cmo_batch', value: 'B-1', issuer: 'acme-cmo', lotNumbers: ['L1', 'L3'] }]);
    expect(batch[1].conflictingIdentifiers).toEqual([]);
    expect(batch[2].deviations.map((d) => [d.issuer, d.partnerRef, d.status])).toEqual([['acme-cmo', 'D1', 'closed'], ['qms', 'D2', 'open']]);
    // The cases above are really exercised.
    expect(batch[2].plannedReceipt?.poNumber).toBe('PO1');
    expect(batch[1].plannedReceipt?.poNumber).toBe('PO9');
    expect(batch[3].plannedReceipt?.poNumber).toBe('PO5');
    expect(batch[0].plannedReceipt).toBeNull();
    expect(batch[2].conflictingIdentifiers).toHaveLength(1);
    expect(batch[1].deviations.map((d) => d.status)).toEqual(['closed']);
    expect(batch[2].deviations).toHaveLength(2);
    expect(batch[0].deviations).toEqual([]);
  });
});
