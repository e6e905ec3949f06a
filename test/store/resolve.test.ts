import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store/store.js';
import { ACME, BETA, ERP, LAB, QMS, addSubmission, id, partner, prov, seedErp, tempStore } from './helpers.js';

describe('resolveLot', () => {
  let t: ReturnType<typeof tempStore>;
  let store: Store;
  let lotId: number;
  beforeEach(() => {
    t = tempStore();
    store = t.store;
    lotId = seedErp(store).lotId;
  });
  afterEach(() => t.cleanup());

  const identifiers = (lot: number) =>
    store
      .loadLotFacts(lot)
      .identifiers.map((i) => `${i.issuer}:${i.scheme}:${i.value}`)
      .sort();

  it("resolves the sponsor's lot number, as erp_lot id or lotNumber, with or without material", () => {
    expect(store.resolveLot(ACME, { ids: [id('erp_lot', 'L1')] })).toEqual({ lotId, learned: [] });
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L1', materialId: '000123' })).toEqual({ lotId, learned: [] });
    expect(store.resolveLot(QMS, { ids: [], lotNumber: ' L1 ' })).toEqual({ lotId, learned: [] });
    // Zero padding is part of the material id.
    expect(store.resolveLot(ERP, { ids: [], lotNumber: 'L1', materialId: '123' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('learns partner identifiers sent next to a resolving one, then resolves through them', () => {
    const sub = addSubmission(store, 'acme-cmo');
    const r = store.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-77'), id('cmo_batch', 'B-77')] }, prov('acme-cmo', sub, 4));
    expect(r).toEqual({ lotId, learned: [id('cmo_batch', 'B-77')] });
    expect(identifiers(lotId)).toEqual(['acme-cmo:cmo_batch:B-77']);
    expect(store.getLotDetailById(lotId)?.identifiers[0]).toMatchObject({ submissionId: sub });

    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-77')] })).toEqual({ lotId, learned: [] });
    // A second partner id alongside the known one is learned too.
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-77'), id('vendor_batch', 'V9')] })).toEqual({ lotId, learned: [id('vendor_batch', 'V9')] });
    expect(identifiers(lotId)).toEqual(['acme-cmo:cmo_batch:B-77', 'acme-cmo:vendor_batch:V9']);
  });

  it("fences partners: B can never resolve through A's identifiers", () => {
    store.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-77')] });
    const r = store.resolveLot(LAB, { ids: [id('cmo_batch', 'B-77')] });
    expect(r).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: 'B-77' } });
    if ('error' in r) expect(r.error.message).toContain('cmo_batch B-77');
    expect(store.resolveLot(ERP, { ids: [id('cmo_batch', 'B-77')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(store.resolveLot(BETA, { ids: [id('cmo_batch', 'B-77')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('refuses lots outside the partner scope', () => {
    // beta-cmo does not make L1.
    const r = store.resolveLot(BETA, { ids: [id('erp_lot', 'L1')] });
    expect(r).toMatchObject({ error: { code: 'E_PARTNER_SCOPE', value: 'L1' } });
    if ('error' in r) expect(r.error.message).toMatch(/made by acme-cmo/);
    // A lab with a product list only reaches those materials.
    const narrowLab = partner('lab-two', 'lab', ['999']);
    expect(store.resolveLot(narrowLab, { ids: [], lotNumber: 'L1' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    expect(store.resolveLot(partner('lab-three', 'lab', ['000123']), { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
    // Nothing was learned from refused references.
    store.resolveLot(BETA, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'X1')] });
    expect(identifiers(lotId)).toEqual([]);
  });

  it('a lot without vendor belongs to the CMO of its PO line', () => {
    const p = prov('erp', null);
    const { lotId: l2 } = store.upsertLot('000123', 'L2', {}, p);
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L2' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    store.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000123', vendor: 'acme-cmo', lotNumber: 'L2' }, p);
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L2' })).toEqual({ lotId: l2, learned: [] });
  });

  it('reports an ambiguous lot number across materials, and takes the material when given', () => {
    const p = prov('erp', null);
    const { lotId: other } = store.upsertLot('000456', 'L1', { vendor: 'beta-cmo' }, p);
    const r = store.resolveLot(ERP, { ids: [], lotNumber: 'L1' });
    expect(r).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT', value: 'L1' } });
    if ('error' in r) expect(r.error.message).toMatch(/000123, 000456/);
    expect(store.resolveLot(ERP, { ids: [], lotNumber: 'L1', materialId: '000456' })).toEqual({ lotId: other, learned: [] });
    // Scope narrows it: each CMO sees only its own L1.
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
    expect(store.resolveLot(BETA, { ids: [], lotNumber: 'L1' })).toEqual({ lotId: other, learned: [] });
    // The partner's own identifiers narrow it too.
    store.addIdentifier(other, id('gtin_lot', 'G1'), 'erp', p);
    expect(store.resolveLot(ERP, { ids: [id('erp_lot', 'L1'), id('gtin_lot', 'G1')] })).toEqual({ lotId: other, learned: [] });
  });

  it('creates the lot from an open PO line of this partner and records the ids as cross-references', () => {
    const p = prov('erp', null);
    store.upsertPurchaseOrder({ poNumber: '4500', poItem: '20', materialId: '000789', vendor: 'acme-cmo', plannedDate: '2026-05-01' }, p);
    const sub = addSubmission(store, 'acme-cmo');
    const r = store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-900'), id('lims_sample', 'S-1')], poNumber: '4500', poItem: '20' }, prov('acme-cmo', sub, 7));
    expect(r).toMatchObject({ learned: [id('cmo_batch', 'B-900'), id('lims_sample', 'S-1')], created: true });
    if ('error' in r) throw new Error('unexpected');
    const facts = store.loadLotFacts(r.lotId);
    expect(facts.lot).toMatchObject({ materialId: '000789', lotNumber: 'B-900', vendor: 'acme-cmo' });
    expect(facts.plannedReceipt).toMatchObject({ poNumber: '4500', poItem: '20', plannedDate: '2026-05-01' });
    expect(identifiers(r.lotId)).toEqual(['acme-cmo:cmo_batch:B-900', 'acme-cmo:lims_sample:S-1']);
    // From now on the batch number alone resolves.
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-900')] })).toEqual({ lotId: r.lotId, learned: [] });
  });

  it('uses the PO line lot number when the ERP already assigned one', () => {
    const p = prov('erp', null);
    store.upsertPurchaseOrder({ poNumber: '4600', poItem: '10', materialId: '000123', vendor: 'acme-cmo', lotNumber: 'L1' }, p);
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-5')], poNumber: '4600' })).toEqual({ lotId, learned: [id('cmo_batch', 'B-5')] });
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L9', poNumber: '4600' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
  });

  it("ignores PO lines of other vendors, closed lines, and asks for the item when several are open", () => {
    const p = prov('erp', null);
    store.upsertPurchaseOrder({ poNumber: '4700', poItem: '10', materialId: '000123', vendor: 'beta-cmo' }, p);
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4700' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    store.upsertPurchaseOrder({ poNumber: '4800', poItem: '10', materialId: '000123', vendor: 'acme-cmo', status: 'closed' }, p);
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4800' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    store.upsertPurchaseOrder({ poNumber: '4900', poItem: '10', materialId: '000123', vendor: 'acme-cmo' }, p);
    store.upsertPurchaseOrder({ poNumber: '4900', poItem: '20', materialId: '000123', vendor: 'acme-cmo' }, p);
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4900' })).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT' } });
    expect(store.resolveLot(ACME, { ids: [], poNumber: '4900', poItem: '10' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(store.listAllLotIds()).toEqual([lotId]);
  });

  it('E_UNKNOWN_LOT lists every identifier tried', () => {
    const r = store.resolveLot(ACME, { ids: [id('cmo_batch', 'NOPE'), id('lims_sample', 'S-404')], lotNumber: 'L404', materialId: '000123', poNumber: '1', poItem: '2' });
    expect(r).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    if ('error' in r) {
      for (const s of ['cmo_batch NOPE', 'lims_sample S-404', 'lot number L404', 'material 000123', 'PO 1/2']) expect(r.error.message).toContain(s);
    }
    expect(store.resolveLot(ACME, { ids: [] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('the sponsor number wins over a partner id that points elsewhere, recording the conflict', () => {
    const p = prov('erp', null);
    const { lotId: l2 } = store.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, p);
    store.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] });
    // The CMO now sends B-1 for L2: the row lands on L2 and both lots show the conflict.
    expect(store.resolveLot(ACME, { ids: [id('erp_lot', 'L2'), id('cmo_batch', 'B-1')] })).toEqual({ lotId: l2, learned: [id('cmo_batch', 'B-1')] });
    const conflict = { scheme: 'cmo_batch', value: 'B-1', issuer: 'acme-cmo', lotNumbers: ['L1', 'L2'] };
    expect(store.loadLotFacts(lotId).conflictingIdentifiers).toEqual([conflict]);
    expect(store.loadLotFacts(l2).conflictingIdentifiers).toEqual([conflict]);
    // B-1 alone no longer names one lot.
    const r = store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] });
    expect(r).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    if ('error' in r) expect(r.error.message).toMatch(/L1 \(000123\) and L2 \(000123\)/);
  });

  it('refuses references that contradict themselves', () => {
    expect(store.resolveLot(ERP, { ids: [id('erp_lot', 'L1')], lotNumber: 'L2' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    store.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] });
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')], lotNumber: 'L-unknown' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')], materialId: '000999' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
  });
});
