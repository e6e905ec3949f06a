// Lot resolution on both dialects (ported from the sync Store's test/store/resolve.test.ts): the
// sponsor's lot number, learned partner identifiers, fenced partners, partner scope, PO lines,
// ambiguity, conflicts, and references that contradict themselves.

import { expect, it } from 'vitest';
import type { OpenedStore } from './harness.js';
import { ACME, BETA, ERP, LAB, QMS, addSubmission, id, partner, prov, seedErp } from '../helpers.js';
import { describeStore } from './harness.js';

describeStore('resolveLot', (h) => {
  const setup = async () => {
    const s = await h.fresh({ now: () => new Date('2026-03-01T12:00:00Z') });
    const { lotId } = await seedErp(s);
    return { s, lotId };
  };

  const identifiers = async (s: OpenedStore, lot: number) => (await s.readiness.loadLotFacts(lot)).identifiers.map((i) => `${i.issuer}:${i.scheme}:${i.value}`).sort();

  it("resolves the sponsor's lot number, as erp_lot id or lotNumber, with or without material", async () => {
    const { s, lotId } = await setup();
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L1')] })).toEqual({ lotId, learned: [] });
    expect(await s.masterdata.resolveLot(ACME, { ids: [], lotNumber: 'L1', materialId: '000123' })).toEqual({ lotId, learned: [] });
    expect(await s.masterdata.resolveLot(QMS, { ids: [], lotNumber: ' L1 ' })).toEqual({ lotId, learned: [] });
    // Zero padding is part of the material id.
    expect(await s.masterdata.resolveLot(ERP, { ids: [], lotNumber: 'L1', materialId: '123' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('learns partner identifiers sent next to a resolving one, then resolves through them', async () => {
    const { s, lotId } = await setup();
    const sub = await addSubmission(s, 'acme-cmo');
    const r = await s.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-77'), id('cmo_batch', 'B-77')] }, prov('acme-cmo', sub, 4));
    expect(r).toEqual({ lotId, learned: [id('cmo_batch', 'B-77')] });
    expect(await identifiers(s, lotId)).toEqual(['acme-cmo:cmo_batch:B-77']);
    expect((await s.reads.getLotDetailById(lotId))?.identifiers[0]).toMatchObject({ submissionId: sub });

    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-77')] })).toEqual({ lotId, learned: [] });
    // A second partner id alongside the known one is learned too.
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-77'), id('vendor_batch', 'V9')] })).toEqual({ lotId, learned: [id('vendor_batch', 'V9')] });
    expect(await identifiers(s, lotId)).toEqual(['acme-cmo:cmo_batch:B-77', 'acme-cmo:vendor_batch:V9']);
  });

  it("fences partners: B can never resolve through A's identifiers", async () => {
    const { s, lotId } = await setup();
    await s.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-77')] });
    const r = await s.masterdata.resolveLot(LAB, { ids: [id('cmo_batch', 'B-77')] });
    expect(r).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: 'B-77' } });
    if ('error' in r) expect(r.error.message).toContain('cmo_batch B-77');
    expect(await s.masterdata.resolveLot(ERP, { ids: [id('cmo_batch', 'B-77')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(await s.masterdata.resolveLot(BETA, { ids: [id('cmo_batch', 'B-77')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('refuses lots outside the partner scope', async () => {
    const { s, lotId } = await setup();
    // beta-cmo does not make L1.
    const r = await s.masterdata.resolveLot(BETA, { ids: [id('erp_lot', 'L1')] });
    expect(r).toMatchObject({ error: { code: 'E_PARTNER_SCOPE', value: 'L1' } });
    if ('error' in r) expect(r.error.message).toMatch(/made by acme-cmo/);
    // A lab with a product list only reaches those materials.
    const narrowLab = partner('lab-two', 'lab', ['999']);
    expect(await s.masterdata.resolveLot(narrowLab, { ids: [], lotNumber: 'L1' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    expect(await s.masterdata.resolveLot(partner('lab-three', 'lab', ['000123']), { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
    // Nothing was learned from refused references.
    await s.masterdata.resolveLot(BETA, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'X1')] });
    expect(await identifiers(s, lotId)).toEqual([]);
  });

  it('a lot without vendor belongs to the CMO of its PO line', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    const { lotId: l2 } = await s.masterdata.upsertLot('000123', 'L2', {}, p);
    expect(await s.masterdata.resolveLot(ACME, { ids: [], lotNumber: 'L2' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000123', vendor: 'acme-cmo', lotNumber: 'L2' }, p);
    expect(await s.masterdata.resolveLot(ACME, { ids: [], lotNumber: 'L2' })).toEqual({ lotId: l2, learned: [] });
  });

  it('reports an ambiguous lot number across materials, and takes the material when given', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    const { lotId: other } = await s.masterdata.upsertLot('000456', 'L1', { vendor: 'beta-cmo' }, p);
    const r = await s.masterdata.resolveLot(ERP, { ids: [], lotNumber: 'L1' });
    expect(r).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT', value: 'L1' } });
    if ('error' in r) expect(r.error.message).toMatch(/000123, 000456/);
    expect(await s.masterdata.resolveLot(ERP, { ids: [], lotNumber: 'L1', materialId: '000456' })).toEqual({ lotId: other, learned: [] });
    // Scope narrows it: each CMO sees only its own L1.
    expect(await s.masterdata.resolveLot(ACME, { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
    expect(await s.masterdata.resolveLot(BETA, { ids: [], lotNumber: 'L1' })).toEqual({ lotId: other, learned: [] });
    // The partner's own identifiers narrow it too.
    await s.masterdata.addIdentifier(other, id('gtin_lot', 'G1'), 'erp', p);
    expect(await s.masterdata.resolveLot(ERP, { ids: [id('erp_lot', 'L1'), id('gtin_lot', 'G1')] })).toEqual({ lotId: other, learned: [] });
  });

  it('creates the lot from an open PO line of this partner and records the ids as cross-references', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4500', poItem: '20', materialId: '000789', vendor: 'acme-cmo', plannedDate: '2026-05-01' }, p);
    const sub = await addSubmission(s, 'acme-cmo');
    const r = await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-900'), id('lims_sample', 'S-1')], poNumber: '4500', poItem: '20' }, prov('acme-cmo', sub, 7));
    expect(r).toMatchObject({ learned: [id('cmo_batch', 'B-900'), id('lims_sample', 'S-1')], created: true });
    if ('error' in r) throw new Error('unexpected');
    const facts = await s.readiness.loadLotFacts(r.lotId);
    expect(facts.lot).toMatchObject({ materialId: '000789', lotNumber: 'B-900', vendor: 'acme-cmo' });
    expect(facts.plannedReceipt).toMatchObject({ poNumber: '4500', poItem: '20', plannedDate: '2026-05-01' });
    expect(await identifiers(s, r.lotId)).toEqual(['acme-cmo:cmo_batch:B-900', 'acme-cmo:lims_sample:S-1']);
    // From now on the batch number alone resolves.
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-900')] })).toEqual({ lotId: r.lotId, learned: [] });
  });

  it('uses the PO line lot number when the ERP already assigned one', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4600', poItem: '10', materialId: '000123', vendor: 'acme-cmo', lotNumber: 'L1' }, p);
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-5')], poNumber: '4600' })).toEqual({ lotId, learned: [id('cmo_batch', 'B-5')] });
    expect(await s.masterdata.resolveLot(ACME, { ids: [], lotNumber: 'L9', poNumber: '4600' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
  });

  it("ignores PO lines of other vendors, closed lines, and asks for the item when several are open", async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4700', poItem: '10', materialId: '000123', vendor: 'beta-cmo' }, p);
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4700' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4800', poItem: '10', materialId: '000123', vendor: 'acme-cmo', status: 'closed' }, p);
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4800' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4900', poItem: '10', materialId: '000123', vendor: 'acme-cmo' }, p);
    await s.masterdata.upsertPurchaseOrder({ poNumber: '4900', poItem: '20', materialId: '000123', vendor: 'acme-cmo' }, p);
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4900' })).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT' } });
    expect(await s.masterdata.resolveLot(ACME, { ids: [], poNumber: '4900', poItem: '10' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(await s.readiness.listAllLotIds()).toEqual([lotId]);
  });

  it('E_UNKNOWN_LOT lists every identifier tried', async () => {
    const { s, lotId } = await setup();
    const r = await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'NOPE'), id('lims_sample', 'S-404')], lotNumber: 'L404', materialId: '000123', poNumber: '1', poItem: '2' });
    expect(r).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    if ('error' in r) {
      for (const s of ['cmo_batch NOPE', 'lims_sample S-404', 'lot number L404', 'material 000123', 'PO 1/2']) expect(r.error.message).toContain(s);
    }
    expect(await s.masterdata.resolveLot(ACME, { ids: [] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
  });

  it('the sponsor number wins over a partner id that points elsewhere, recording the conflict', async () => {
    const { s, lotId } = await setup();
    const p = prov('erp', null);
    const { lotId: l2 } = await s.masterdata.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, p);
    await s.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] });
    // The CMO now sends B-1 for L2: the row lands on L2 and both lots show the conflict.
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L2'), id('cmo_batch', 'B-1')] })).toEqual({ lotId: l2, learned: [id('cmo_batch', 'B-1')] });
    const conflict = { scheme: 'cmo_batch', value: 'B-1', issuer: 'acme-cmo', lotNumbers: ['L1', 'L2'] };
    expect((await s.readiness.loadLotFacts(lotId)).conflictingIdentifiers).toEqual([conflict]);
    expect((await s.readiness.loadLotFacts(l2)).conflictingIdentifiers).toEqual([conflict]);
    // B-1 alone no longer names one lot.
    const r = await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] });
    expect(r).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    if ('error' in r) expect(r.error.message).toMatch(/L1 \(000123\) and L2 \(000123\)/);
  });

  it('refuses references that contradict themselves', async () => {
    const { s, lotId } = await setup();
    expect(await s.masterdata.resolveLot(ERP, { ids: [id('erp_lot', 'L1')], lotNumber: 'L2' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    await s.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] });
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')], lotNumber: 'L-unknown' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    expect(await s.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')], materialId: '000999' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
  });

  // What a transaction resolves must follow its own writes and forget a rolled-back savepoint's.
  it('inside a transaction: follows its own writes, forgets a rolled-back savepoint, keeps the audit chain whole', async () => {
    const { s, lotId } = await setup();
    await s.transaction(async (tx) => {
      expect(await tx.masterdata.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [id('cmo_batch', 'B-1')] });
      expect(await tx.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [] });
      const l2 = (await tx.masterdata.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, prov('erp', null))).lotId;
      await expect(
        tx.transaction(async (sp) => {
          await sp.masterdata.addIdentifier(l2, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', null));
          await sp.masterdata.upsertLot('000999', 'L1', {}, prov('erp', null)); // L1 ambiguous without a material
          expect(await sp.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
          expect(await sp.masterdata.resolveLot(LAB, { ids: [], lotNumber: 'L1' })).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT' } });
          await sp.audit.appendAudit({ actor: 'a', action: 'outbox.retry' });
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await tx.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [] });
      expect(await tx.masterdata.resolveLot(LAB, { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
      // A vendor change reaches the scope check of the next row.
      await tx.masterdata.upsertLot('000123', 'L1', { vendor: 'beta-cmo' }, prov('erp', null));
      expect(await tx.masterdata.resolveLot(ACME, { ids: [], lotNumber: 'L1', materialId: '000123' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
      // A material master change reaches the facts the readiness reads.
      await tx.masterdata.upsertMaterial({ materialId: '000123', description: 'Tablet 20 mg' }, prov('erp', null));
      expect((await tx.readiness.loadLotFacts(lotId)).material?.description).toBe('Tablet 20 mg');
      await tx.audit.appendAudit({ actor: 'a', action: 'outbox.hold' });
    });
    expect((await s.audit.listAudit()).map((e) => [e.seq, e.action])).toEqual([[1, 'outbox.hold']]);
    expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 1 });
    expect((await s.readiness.loadLotFacts(lotId)).material?.description).toBe('Tablet 20 mg');
  });
});
