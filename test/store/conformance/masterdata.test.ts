// The masterdata area on both dialects: upserts where the later write wins for the values it
// sends (and carries the provenance), lot identifiers, the lookups resolution uses, lot
// resolution with its error codes and its all-or-nothing savepoint, and two connections writing
// the same lot or identifier at once.

import { expect, it } from 'vitest';
import type { IdScheme } from '../../../pipeline/model/types.js';
import type { Db } from '../../../pipeline/store/db/db.js';
import { ResolutionWrites } from '../../../pipeline/store/areas/resolution.js';
import type { Prov } from '../../../pipeline/store/types.js';
import { ACME, BETA, ERP, LAB, QMS, id, partner, prov } from '../helpers.js';
import { describeStore, type OpenedStore } from './harness.js';

/** A submission row for provenance columns to point at (ledger-area-free, plain SQL). */
let shaCounter = 0;
async function addSubmission(db: Db, partnerId: string): Promise<number> {
  const sha = (++shaCounter).toString(16).padStart(64, '0');
  const r = await db.run(
    `INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [partnerId, 'file.csv', 10, sha, '2026-03-01T08:00:00.000Z', 'cli', `/archive/${sha}`],
  );
  return Number(r.rows[0].id);
}

const ERP_PROV = prov('erp', null);

/** Material 000123 and its lot L1 made by acme-cmo, as most resolution tests start. */
async function seedErp(s: OpenedStore): Promise<number> {
  await s.masterdata.upsertMaterial({ materialId: '000123', description: 'Tablet 10 mg' }, ERP_PROV);
  return (await s.masterdata.upsertLot('000123', 'L1', { vendor: 'acme-cmo', expiryDate: '2028-01-31' }, ERP_PROV)).lotId;
}

async function identifiers(s: OpenedStore): Promise<string[]> {
  const rows = await s.db.all<{ lot_id: number; issuer: string; scheme: string; value: string }>(
    'SELECT lot_id, issuer, scheme, value FROM lot_identifiers ORDER BY lot_id, issuer, scheme, value',
  );
  return rows.map((r) => `${r.lot_id}:${r.issuer}:${r.scheme}:${r.value}`);
}

const count = async (db: Db, table: string) => (await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;

/** Waits (bounded) until some PostgreSQL session waits for a lock: the racing statement is parked. */
async function untilSomeoneWaits(db: Db): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await db.get<{ n: number }>('SELECT count(*) AS n FROM pg_locks WHERE NOT granted'))!.n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no session ever waited for a lock');
}

describeStore('masterdata', (h) => {
  it('upsertMaterial, upsertPurchaseOrder: the later write wins for what it sends, keeps what it omits, carries its provenance; open PO lines', async () => {
    let clock = new Date('2026-03-01T10:00:00.000Z');
    const s = await h.fresh({ now: () => clock });
    const sub1 = await addSubmission(s.db, 'erp');
    const sub2 = await addSubmission(s.db, 'erp');
    await s.masterdata.upsertMaterial({ materialId: '000123', description: 'Tablet', gtin: '0001', uom: 'EA' }, prov('erp', sub1, 2));
    clock = new Date('2026-03-02T10:00:00.000Z');
    await s.masterdata.upsertMaterial({ materialId: '000123', description: 'Tablet 10 mg', gtin: null }, { submissionId: sub2, line: 9, partner: 'qms' });
    expect(await s.db.all('SELECT * FROM materials')).toEqual([
      {
        material_id: '000123',
        description: 'Tablet 10 mg',
        gtin: '0001',
        ndc: null,
        product_family: null,
        uom: 'EA',
        updated_at: '2026-03-02T10:00:00.000Z',
        submission_id: sub2,
        line: 9,
        mapping_hash: null,
        partner: 'qms',
      },
    ]);

    // PO lines the same way, and the lookups of open lines.
    const sub = await addSubmission(s.db, 'erp');
    const md = s.masterdata;
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000123', vendor: 'acme-cmo', quantity: 100, plannedDate: '2026-05-01' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000124', confirmedDate: '2026-05-03', quantity: 2.5 }, prov('erp', sub, 4));
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '20', materialId: '000123', vendor: 'acme-cmo', status: 'closed' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '30', materialId: '000123', vendor: 'acme-cmo', status: 'open' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '40', materialId: '000123', vendor: 'beta-cmo' }, ERP_PROV);
    expect(await md.getPurchaseOrder('4500', '10')).toMatchObject({
      material_id: '000124',
      vendor: 'acme-cmo',
      quantity: 2.5,
      planned_date: '2026-05-01',
      confirmed_date: '2026-05-03',
      status: null,
      submission_id: sub,
      line: 4,
      mapping_hash: 'h1',
    });
    expect(await md.getPurchaseOrder('4500', '99')).toBeUndefined();
    expect((await md.openPoLines('acme-cmo', '4500')).map((l) => l.po_item)).toEqual(['10', '30']);
    expect((await md.openPoLines('acme-cmo', '4500', '30')).map((l) => l.po_item)).toEqual(['30']);
    expect(await md.openPoLines('acme-cmo', '4500', '20')).toEqual([]);
    expect((await md.openPoLines('beta-cmo', '4500')).map((l) => l.po_item)).toEqual(['40']);
  });

  it('upsertLot: creates once, then the later write wins for what it sends; updateLotAttributes and linkLotToPo', async () => {
    let clock = new Date('2026-03-01T10:00:00.000Z');
    const s = await h.fresh({ now: () => clock });
    const md = s.masterdata;
    const sub = await addSubmission(s.db, 'erp');
    const made = await md.upsertLot('000123', 'L1', { vendor: 'acme-cmo', quantity: 10, uom: 'kg' }, prov('erp', sub, 3));
    expect(made).toEqual({ lotId: expect.any(Number), created: true });
    clock = new Date('2026-03-02T10:00:00.000Z');
    expect(await md.upsertLot('000123', 'L1', { expiryDate: '2028-01-31', quantity: 12 }, ERP_PROV)).toEqual({ lotId: made.lotId, created: false });
    expect(await md.getLot(made.lotId)).toMatchObject({
      material_id: '000123',
      lot_number: 'L1',
      vendor: 'acme-cmo',
      quantity: 12,
      uom: 'kg',
      expiry_date: '2028-01-31',
      created_at: '2026-03-01T10:00:00.000Z',
      updated_at: '2026-03-02T10:00:00.000Z',
      submission_id: null,
      line: null,
      mapping_hash: 'h1',
      partner: 'erp',
    });
    expect(await md.getLotRow(made.lotId)).toMatchObject({ id: made.lotId, materialId: '000123', lotNumber: 'L1', quantity: 12, expiryDate: '2028-01-31' });
    expect(await md.getLotRow(made.lotId + 100)).toBeUndefined();

    // A partner's attributes: never the vendor, and an existing PO link stays.
    await md.linkLotToPo(made.lotId, '4500', '10');
    await md.updateLotAttributes(made.lotId, { vendor: 'beta-cmo', site: 'S1', poNumber: '9999', poItem: '99' }, prov('acme-cmo', null));
    await md.linkLotToPo(made.lotId, '4600', '20');
    expect(await md.getLotKey(made.lotId)).toEqual({ id: made.lotId, material_id: '000123', lot_number: 'L1', vendor: 'acme-cmo', po_number: '4500', po_item: '10' });
    expect(await md.getLot(made.lotId)).toMatchObject({ site: 'S1', partner: 'acme-cmo' });
  });

  it('lots by number sorted by material, lots of a PO line or material, the planned receipt and the effective vendor', async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    const b = (await md.upsertLot('000456', 'L1', {}, ERP_PROV)).lotId;
    const a = (await md.upsertLot('000123', 'L1', { vendor: 'acme-cmo' }, ERP_PROV)).lotId;
    const c = (await md.upsertLot('000123', 'L2', { poNumber: '4500', poItem: '10' }, ERP_PROV)).lotId;
    expect((await md.lotsByNumber('L1')).map((l) => l.id)).toEqual([a, b]);
    expect((await md.lotKeysByNumber('L1')).map((l) => l.material_id)).toEqual(['000123', '000456']);
    expect((await md.lotsByNumber('L1', '000456')).map((l) => l.id)).toEqual([b]);
    expect(await md.lotKeysByNumber('L1', '000999')).toEqual([]);
    expect(await md.lotIdsForMaterial('000123')).toEqual([a, c]);

    // L1/000456 is named by a closed and an open line, L2 is linked to 4500/10.
    await md.upsertPurchaseOrder({ poNumber: '4400', poItem: '10', materialId: '000456', vendor: 'old-cmo', lotNumber: 'L1', status: 'closed' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4700', poItem: '10', materialId: '000456', vendor: 'beta-cmo', lotNumber: 'L1' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000123', vendor: 'gamma-cmo', lotNumber: 'L1' }, ERP_PROV);
    expect(await md.lotIdsForPoLine('4500', '10')).toEqual([a, c]);
    expect(await md.lotIdsForPoLine('4700', '10')).toEqual([b]);
    const keyB = (await md.getLotKey(b))!;
    expect((await md.plannedReceiptOf(keyB))?.po_number).toBe('4700');
    expect(await md.effectiveVendor(keyB)).toBe('beta-cmo');
    expect(await md.effectiveVendor((await md.getLotKey(a))!)).toBe('acme-cmo');
    expect(await md.effectiveVendor((await md.getLotKey(c))!)).toBe('gamma-cmo');
  });

  it('addIdentifier records once, credits the earliest submission; the identifier lookups', async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    const l1 = (await md.upsertLot('000123', 'L1', {}, ERP_PROV)).lotId;
    const l2 = (await md.upsertLot('000123', 'L2', {}, ERP_PROV)).lotId;
    const early = await addSubmission(s.db, 'acme-cmo');
    const late = await addSubmission(s.db, 'acme-cmo');
    expect(await md.addIdentifier(l1, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', late, 5))).toBe(true);
    expect(await md.addIdentifier(l1, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', early, 2))).toBe(false);
    expect(await md.addIdentifier(l1, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', late, 7))).toBe(false);
    expect(await s.db.get('SELECT submission_id, line FROM lot_identifiers WHERE lot_id = ?', [l1])).toEqual({ submission_id: early, line: 2 });
    await md.addIdentifier(l2, id('cmo_batch', 'B-1'), 'acme-cmo', ERP_PROV);
    await md.addIdentifier(l2, id('lims_sample', 'B-1'), 'lab-one', ERP_PROV);
    expect(await md.lotIdsByIdentifier(id('cmo_batch', 'B-1'), 'acme-cmo')).toEqual([l1, l2]);
    expect(await md.lotIdsByIdentifier(id('cmo_batch', 'B-1'), 'beta-cmo')).toEqual([]);
    expect(await md.findLotIdsByIdentifier('B-1')).toEqual([l1, l2]);
    expect(await md.findLotIdsByIdentifier('B-1', { scheme: 'lims_sample' })).toEqual([l2]);
    expect(await md.findLotIdsByIdentifier('B-1', { issuer: 'acme-cmo', scheme: 'cmo_batch' })).toEqual([l1, l2]);
    expect(await md.findLotIdsByIdentifier('B-1', { issuer: 'nobody' })).toEqual([]);
  });

  it("resolveLot: the sponsor's lot number, learned identifiers, fenced partners, scope", async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    const lotId = await seedErp(s);
    expect(await md.resolveLot(ACME, { ids: [id('erp_lot', 'L1')] })).toEqual({ lotId, learned: [] });
    expect(await md.resolveLot(QMS, { ids: [], lotNumber: ' L1 ', materialId: '000123' })).toEqual({ lotId, learned: [] });
    const sub = await addSubmission(s.db, 'acme-cmo');
    expect(await md.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-77'), id('cmo_batch', 'B-77')] }, prov('acme-cmo', sub, 4))).toEqual({
      lotId,
      learned: [id('cmo_batch', 'B-77')],
    });
    expect(await s.db.get('SELECT submission_id, line, partner FROM lot_identifiers')).toEqual({ submission_id: sub, line: 4, partner: 'acme-cmo' });
    expect(await md.resolveLot(ACME, { ids: [id('cmo_batch', 'B-77')] })).toEqual({ lotId, learned: [] });
    // Only identifiers the partner issued itself resolve for it.
    expect(await md.resolveLot(LAB, { ids: [id('cmo_batch', 'B-77')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: 'B-77' } });
    const refused = await md.resolveLot(BETA, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'X1')] });
    expect(refused).toMatchObject({ error: { code: 'E_PARTNER_SCOPE', value: 'L1' } });
    if ('error' in refused) expect(refused.error.message).toMatch(/made by acme-cmo/);
    expect(await md.resolveLot(partner('lab-two', 'lab', ['999']), { ids: [], lotNumber: 'L1' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    expect(await identifiers(s)).toEqual([`${lotId}:acme-cmo:cmo_batch:B-77`]);
  });

  it('resolveLot: ambiguous, unknown and conflicting references give their codes', async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    const lotId = await seedErp(s);
    const other = (await md.upsertLot('000456', 'L1', { vendor: 'beta-cmo' }, ERP_PROV)).lotId;
    const amb = await md.resolveLot(ERP, { ids: [], lotNumber: 'L1' }, prov('erp', null, 12));
    expect(amb).toEqual({ error: { code: 'E_AMBIGUOUS_LOT', line: 12, value: 'L1', message: expect.stringMatching(/000123, 000456/) } });
    expect(await md.resolveLot(ERP, { ids: [], lotNumber: 'L1', materialId: '000456' })).toEqual({ lotId: other, learned: [] });
    expect(await md.resolveLot(BETA, { ids: [], lotNumber: 'L1' })).toEqual({ lotId: other, learned: [] });
    await md.addIdentifier(other, id('gtin_lot', 'G1'), 'erp', ERP_PROV);
    expect(await md.resolveLot(ERP, { ids: [id('erp_lot', 'L1'), id('gtin_lot', 'G1')] })).toEqual({ lotId: other, learned: [] });

    await md.upsertPurchaseOrder({ poNumber: '4900', poItem: '10', materialId: '000123', vendor: 'acme-cmo' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4900', poItem: '20', materialId: '000123', vendor: 'acme-cmo' }, ERP_PROV);
    expect(await md.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4900' })).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT', value: '4900' } });
    expect(await md.resolveLot(ACME, { ids: [], poNumber: '4900', poItem: '10' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: '4900' } });

    const unknown = await md.resolveLot(ACME, { ids: [id('cmo_batch', 'NOPE'), id('lims_sample', 'S-404')], lotNumber: 'L404', materialId: '000123', poNumber: '1', poItem: '2' });
    expect(unknown).toMatchObject({ error: { code: 'E_UNKNOWN_LOT', value: 'NOPE' } });
    if ('error' in unknown) for (const part of ['cmo_batch NOPE', 'lims_sample S-404', 'lot number L404', 'material 000123', 'PO 1/2']) expect(unknown.error.message).toContain(part);
    expect(await md.resolveLot(ERP, { ids: [], lotNumber: 'L1', materialId: '123' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(await md.resolveLot(ERP, { ids: [id('erp_lot', 'L1')], lotNumber: 'L2' })).toMatchObject({ error: { code: 'E_ID_CONFLICT', value: 'L2,L1' } });
    expect(await s.db.all('SELECT id FROM lots ORDER BY id')).toEqual([{ id: lotId }, { id: other }]);
    expect(await count(s.db, 'lot_identifiers')).toBe(1);

    // A partner id pointing at two lots is a conflict named by lot.
    const l2 = (await md.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, ERP_PROV)).lotId;
    await md.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] });
    // The sponsor number wins and records the second pointer.
    expect(await md.resolveLot(ACME, { ids: [id('erp_lot', 'L2'), id('cmo_batch', 'B-1')] })).toEqual({ lotId: l2, learned: [id('cmo_batch', 'B-1')] });
    const r = await md.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] });
    expect(r).toMatchObject({ error: { code: 'E_ID_CONFLICT', value: 'B-1' } });
    if ('error' in r) expect(r.error.message).toMatch(/L1 \(000123\) and L2 \(000123\)/);
  });

  it('resolveLot: creates the lot from an open PO line of this partner and learns the identifiers sent', async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '20', materialId: '000789', vendor: 'acme-cmo', plannedDate: '2026-05-01' }, ERP_PROV);
    // Another vendor's line and a closed line are not this partner's to use.
    await md.upsertPurchaseOrder({ poNumber: '4700', poItem: '10', materialId: '000123', vendor: 'beta-cmo' }, ERP_PROV);
    await md.upsertPurchaseOrder({ poNumber: '4800', poItem: '10', materialId: '000123', vendor: 'acme-cmo', status: 'closed' }, ERP_PROV);
    expect(await md.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4700' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(await md.resolveLot(ACME, { ids: [id('cmo_batch', 'Q1')], poNumber: '4800' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });

    const r = await md.resolveLot(ACME, { ids: [id('cmo_batch', 'B-900'), id('lims_sample', 'S-1')], poNumber: '4500', poItem: '20' });
    expect(r).toEqual({ lotId: expect.any(Number), learned: [id('cmo_batch', 'B-900'), id('lims_sample', 'S-1')], created: true });
    if ('error' in r) throw new Error('unexpected');
    expect(await md.getLotKey(r.lotId)).toEqual({ id: r.lotId, material_id: '000789', lot_number: 'B-900', vendor: 'acme-cmo', po_number: '4500', po_item: '20' });
    expect(await identifiers(s)).toEqual([`${r.lotId}:acme-cmo:cmo_batch:B-900`, `${r.lotId}:acme-cmo:lims_sample:S-1`]);
    expect(await md.resolveLot(ACME, { ids: [id('cmo_batch', 'B-900')] })).toEqual({ lotId: r.lotId, learned: [] });

    // A line that names a lot the ERP already created links it instead.
    const l1 = await seedErp(s);
    await md.upsertPurchaseOrder({ poNumber: '4600', poItem: '10', materialId: '000123', vendor: 'acme-cmo', lotNumber: 'L1' }, ERP_PROV);
    expect(await md.resolveLot(ACME, { ids: [id('cmo_batch', 'B-5')], poNumber: '4600' })).toEqual({ lotId: l1, learned: [id('cmo_batch', 'B-5')] });
    expect(await md.getLotKey(l1)).toMatchObject({ po_number: '4600', po_item: '10' });
    expect(await md.resolveLot(ACME, { ids: [], lotNumber: 'L9', poNumber: '4600' })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
  });

  it('resolveLot is all or nothing: a failure after it created a lot leaves nothing, and only its savepoint is undone', async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000789', vendor: 'acme-cmo', lotNumber: 'L7' }, ERP_PROV);
    // The second identifier's scheme is one the schema refuses: the lot and the first identifier
    // are written before it fails.
    const ref = { ids: [id('cmo_batch', 'B-1'), { scheme: 'bogus' as IdScheme, value: 'X' }], poNumber: '4500' };
    await expect(md.resolveLot(ACME, ref)).rejects.toThrow();
    expect(await count(s.db, 'lots')).toBe(0);
    expect(await count(s.db, 'lot_identifiers')).toBe(0);

    // Inside a caller's transaction the caller's own writes stay.
    await s.transaction(async (tx) => {
      await tx.masterdata.upsertMaterial({ materialId: '000789', description: 'kept' }, ERP_PROV);
      await expect(tx.masterdata.resolveLot(ACME, ref)).rejects.toThrow();
      expect(await tx.masterdata.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')], poNumber: '4500' })).toMatchObject({ created: true });
    });
    expect(await s.db.all('SELECT material_id, description FROM materials')).toEqual([{ material_id: '000789', description: 'kept' }]);
    expect((await s.db.all<{ lot_number: string }>('SELECT lot_number FROM lots')).map((l) => l.lot_number)).toEqual(['L7']);
    expect(await count(s.db, 'lot_identifiers')).toBe(1);
  });

  it('resolveLot readOnly writes nothing: learned ids come back, a PO-line write throws ResolutionWrites', async () => {
    const s = await h.fresh();
    const md = s.masterdata;
    const lotId = await seedErp(s);
    expect(await md.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-2')] }, undefined, { readOnly: true })).toEqual({
      lotId,
      learned: [id('cmo_batch', 'B-2')],
    });
    expect(await count(s.db, 'lot_identifiers')).toBe(0);
    await md.learnIdentifiers(lotId, [id('cmo_batch', 'B-2')], ACME, ERP_PROV);
    expect(await identifiers(s)).toEqual([`${lotId}:acme-cmo:cmo_batch:B-2`]);
    await md.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000789', vendor: 'acme-cmo' }, ERP_PROV);
    await expect(md.resolveLot(ACME, { ids: [id('cmo_batch', 'B-3')], poNumber: '4500' }, undefined, { readOnly: true })).rejects.toBeInstanceOf(ResolutionWrites);
    expect(await count(s.db, 'lots')).toBe(1);
  });

  it('two connections upserting the same lots and identifiers at once: one row each, both get its id', async () => {
    const a = await h.fresh();
    const b = await h.another();
    const numbers = Array.from({ length: 20 }, (_, i) => `L${i}`);
    const p: Prov = { submissionId: null, partner: 'erp' };
    const results = await Promise.all(
      numbers.flatMap((n) => [a.masterdata.upsertLot('000123', n, { quantity: 5 }, p), b.masterdata.upsertLot('000123', n, { uom: 'kg' }, p)]),
    );
    expect(await count(a.db, 'lots')).toBe(numbers.length);
    for (let i = 0; i < numbers.length; i++) {
      const [ra, rb] = [results[2 * i], results[2 * i + 1]];
      expect(ra.lotId).toBe(rb.lotId);
      expect([ra.created, rb.created].filter(Boolean)).toHaveLength(1);
      // Neither write erased the other's value.
      expect(await a.masterdata.getLot(ra.lotId)).toMatchObject({ lot_number: numbers[i], quantity: 5, uom: 'kg' });
    }

    // The same identifier recorded by both at once: one row each, one of them reports it new.
    const lotId = results[0].lotId;
    const values = Array.from({ length: 20 }, (_, i) => `B-${i}`);
    const added = await Promise.all(
      values.flatMap((v) => [a.masterdata.addIdentifier(lotId, id('cmo_batch', v), 'acme-cmo', ERP_PROV), b.masterdata.addIdentifier(lotId, id('cmo_batch', v), 'acme-cmo', ERP_PROV)]),
    );
    expect(await count(a.db, 'lot_identifiers')).toBe(values.length);
    expect(added.filter(Boolean)).toHaveLength(values.length);
  });

  // A SQLite connection holding a write transaction across awaits shuts the second connection of
  // the same process out (its busy wait blocks the event loop), so the parked-insert race below
  // exists on PostgreSQL only; on SQLite, writers are serialised by the file lock.
  it.runIf(h.dialect === 'postgres')('an insert parked behind another connection’s uncommitted lot resolves to that lot once it commits', async () => {
    const a = await h.fresh();
    const b = await h.another();
    await a.masterdata.upsertPurchaseOrder({ poNumber: '4500', poItem: '10', materialId: '000789', vendor: 'acme-cmo', lotNumber: 'L7' }, ERP_PROV);
    const ref = { ids: [id('cmo_batch', 'B-1')], poNumber: '4500' };
    let fromB: Promise<unknown> | undefined;
    const fromA = await a.transaction(async (tx) => {
      const r = await tx.masterdata.resolveLot(ACME, ref);
      fromB = b.masterdata.resolveLot(ACME, ref);
      await untilSomeoneWaits(a.db);
      return r;
    });
    expect(fromA).toEqual({ lotId: expect.any(Number), learned: [id('cmo_batch', 'B-1')], created: true });
    if ('error' in fromA) throw new Error('unexpected');
    // B saw no lot before A committed, so it learned B-1 too (a no-op write), but created nothing.
    expect(await fromB).toEqual({ lotId: fromA.lotId, learned: [id('cmo_batch', 'B-1')] });
    expect(await count(a.db, 'lots')).toBe(1);
    expect(await count(a.db, 'lot_identifiers')).toBe(1);
  });
});
