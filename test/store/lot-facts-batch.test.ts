// loadLotFactsBatch reads each fact table once for a batch of lots and groups the rows by lot:
// every lot's facts must be exactly what loading that lot alone gives, in the same order.

import { afterEach, describe, expect, it } from 'vitest';
import { ACME, LAB, addSubmission, id, prov, rec, tempStore } from './helpers.js';

describe('loadLotFactsBatch', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t.cleanup());

  it('gives each lot exactly its own facts, as loading it alone does', () => {
    t = tempStore();
    const { store } = t;
    const erp = prov('erp', addSubmission(store, 'erp'));
    store.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, erp);
    const lots = ['L1', 'L2', 'L3', 'L4', 'L5'].map((n) => store.upsertLot('M1', n, { vendor: 'acme-cmo', expiryDate: '2028-01-31' }, erp).lotId);
    const lab = addSubmission(store, 'lab-one');
    const cmo = addSubmission(store, 'acme-cmo');
    let line = 2;
    // Lots get different amounts of every fact, in shuffled order; L5 gets nothing.
    for (const [i, n] of ['L3', 'L1', 'L2', 'L1', 'L3', 'L1'].entries()) {
      for (const test of ['ASSAY', 'DISSO', 'CU'].slice(0, 1 + (i % 3))) {
        store.applyRecord(LAB, rec('test_result', { lotNumber: n, testCode: test, sampleId: `S${i}`, resultValue: 99 + i, replicate: i % 2 ? 'r2' : null }, [id('lims_sample', `X${n}`)], line), prov('lab-one', lab, line++));
      }
      store.applyRecord(ACME, rec('stage_event', { lotNumber: n, stage: ['filling', 'packaging'][i % 2], status: 'completed', eventTime: `2026-02-0${i + 1}T08:00:00Z` }, [], line), prov('acme-cmo', cmo, line++));
      store.applyRecord(ACME, rec('document', { lotNumber: n, type: 'coa', docId: `COA-${i}` }, [], line), prov('acme-cmo', cmo, line++));
    }
    store.insertDisposition(lots[1], { decision: 'quarantine', decidedAt: '2026-02-10T00:00:00Z' }, erp);
    store.insertDisposition(lots[0], { decision: 'released', decidedAt: '2026-02-11T00:00:00Z' }, erp);
    const order = [lots[2], lots[4], lots[0], lots[3], lots[1]];
    const batch = store.loadLotFactsBatch(order);
    expect(batch.map((f) => f.lot.lotNumber)).toEqual(['L3', 'L5', 'L1', 'L4', 'L2']);
    order.forEach((lotId, i) => expect(batch[i], `lot ${lotId}`).toEqual(store.loadLotFactsBatch([lotId])[0]));
    expect(batch[2].testResults.length).toBeGreaterThan(0);
    expect(batch[2].stageEvents.length).toBeGreaterThan(0);
    expect(batch[1].testResults).toEqual([]);
    expect(batch[4].dispositions).toHaveLength(1);
    expect(store.loadLotFactsBatch([])).toEqual([]);
  });
});
