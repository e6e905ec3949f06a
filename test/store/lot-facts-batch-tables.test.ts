// loadLotFactsBatch reads the lot rows, identifiers, deviations and PO lines of a whole batch with
// one statement each: every lot's facts must equal what the per-lot reads (masterdata.ts
// getLot / plannedReceiptOf, lot-facts.ts currentDeviations / listIdentifiers /
// conflictingIdentifiers) give for that lot alone.

import { afterEach, describe, expect, it } from 'vitest';
import { getLot, plannedReceiptOf } from '../../pipeline/store/masterdata.js';
import { conflictingIdentifiers, currentDeviations, listIdentifiers } from '../../pipeline/store/lot-facts.js';
import { toLot, toPlannedReceipt } from '../../pipeline/store/rows.js';
import type { Sql } from '../../pipeline/store/sql.js';
import { addSubmission, prov, tempStore } from './helpers.js';

describe('loadLotFactsBatch: lots, identifiers, deviations, PO lines', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t.cleanup());

  it('gives each lot what the per-lot reads give', () => {
    t = tempStore();
    const { store } = t;
    const sql = (store as unknown as { sql: Sql }).sql;
    const erp = prov('erp', addSubmission(store, 'erp'));
    store.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, erp);
    store.upsertMaterial({ materialId: 'M2', description: 'Vial' }, erp);
    // L1: linked PO line; L2: two lines naming its lot number (a closed one sorts after the open);
    // L3: a linked line that does not exist (falls back to the lot number); L4 (M2): none.
    store.upsertPurchaseOrder({ poNumber: 'PO1', poItem: '10', materialId: 'M1', lotNumber: 'OTHER', plannedDate: '2026-04-01', status: 'open' }, erp);
    store.upsertPurchaseOrder({ poNumber: 'PO0', poItem: '10', materialId: 'M1', lotNumber: 'L2', plannedDate: '2026-04-02', status: 'closed' }, erp);
    store.upsertPurchaseOrder({ poNumber: 'PO9', poItem: '20', materialId: 'M1', lotNumber: 'L2', plannedDate: '2026-04-03', status: 'open' }, erp);
    store.upsertPurchaseOrder({ poNumber: 'PO5', poItem: '10', materialId: 'M1', lotNumber: 'L3', plannedDate: '2026-04-04' }, erp);
    const l1 = store.upsertLot('M1', 'L1', { vendor: 'acme-cmo', expiryDate: '2028-01-31', poNumber: 'PO1', poItem: '10' }, erp).lotId;
    const l2 = store.upsertLot('M1', 'L2', { vendor: 'acme-cmo', quantity: 5, uom: 'kg' }, erp).lotId;
    const l3 = store.upsertLot('M1', 'L3', { vendor: 'beta-cmo', poNumber: 'PO7', poItem: '99' }, erp).lotId;
    const l4 = store.upsertLot('M2', 'L4', { site: 'S1' }, erp).lotId;
    // Identifiers: L1 and L3 share a batch number (a conflict); L2 has two of its own.
    store.addIdentifier(l1, { scheme: 'cmo_batch', value: 'B-1' }, 'acme-cmo', erp);
    store.addIdentifier(l3, { scheme: 'cmo_batch', value: 'B-1' }, 'acme-cmo', erp);
    store.addIdentifier(l2, { scheme: 'lims_sample', value: 'S-9' }, 'lab-one', erp);
    store.addIdentifier(l2, { scheme: 'cmo_batch', value: 'B-2' }, 'acme-cmo', erp);
    // Deviations: D1 names L1 and L2 and has a later version naming only L2; D2 names L1.
    store.upsertDeviation([l1, l2], { partnerRef: 'D1', classification: 'major', status: 'open', openedAt: '2026-02-01T00:00:00Z' }, 'acme-cmo', erp);
    store.upsertDeviation([l2], { partnerRef: 'D1', classification: 'major', status: 'closed', openedAt: '2026-02-01T00:00:00Z', closedAt: '2026-02-05T00:00:00Z' }, 'acme-cmo', erp);
    store.upsertDeviation([l1], { partnerRef: 'D2', classification: 'minor', status: 'open', openedAt: '2026-02-03T00:00:00Z' }, 'qms', erp);

    const order = [l4, l2, l1, l3];
    const batch = store.loadLotFactsBatch(order);
    order.forEach((lotId, i) => {
      const f = batch[i];
      const lotRow = getLot(sql, lotId)!;
      expect(f.lot, `lot ${lotId}`).toEqual(toLot(lotRow));
      const po = plannedReceiptOf(sql, lotRow);
      expect(f.plannedReceipt, `PO of lot ${lotId}`).toEqual(po ? toPlannedReceipt(po) : null);
      expect(f.deviations, `deviations of lot ${lotId}`).toEqual(currentDeviations(sql, lotId));
      expect(f.identifiers, `identifiers of lot ${lotId}`).toEqual(listIdentifiers(sql, lotId).map(({ scheme, value, issuer }) => ({ scheme, value, issuer })));
      expect(f.conflictingIdentifiers, `conflicts of lot ${lotId}`).toEqual(conflictingIdentifiers(sql, lotId));
    });
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
