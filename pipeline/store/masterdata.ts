// Materials, PO lines (planned receipts), lots and lot identifiers.
// Master data carries no event time, so a later write wins for the values it sends and an
// absent value never erases a known one (a CMO's batch header with only an expiry date must
// not blank the quantity the ERP sent).

import type { IdRef } from '../model/types.js';
import { toLot, type LotDbRow, type PurchaseOrderDbRow } from './rows.js';
import type { Sql } from './sql.js';
import type { LotFields, MaterialFields, Prov, PurchaseOrderFields } from './types.js';

const provArgs = (p: Prov) => [p.submissionId, p.line ?? null, p.mappingHash ?? null, p.partner] as const;

export function upsertMaterial(sql: Sql, f: MaterialFields, prov: Prov): void {
  sql
    .q(
      `INSERT INTO materials (material_id, description, gtin, ndc, product_family, uom, updated_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (material_id) DO UPDATE SET
         description = coalesce(excluded.description, description),
         gtin = coalesce(excluded.gtin, gtin),
         ndc = coalesce(excluded.ndc, ndc),
         product_family = coalesce(excluded.product_family, product_family),
         uom = coalesce(excluded.uom, uom),
         updated_at = excluded.updated_at,
         submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner`,
    )
    .run(f.materialId, f.description ?? null, f.gtin ?? null, f.ndc ?? null, f.productFamily ?? null, f.uom ?? null, sql.now(), ...provArgs(prov));
}

export function upsertPurchaseOrder(sql: Sql, f: PurchaseOrderFields, prov: Prov): void {
  sql
    .q(
      `INSERT INTO purchase_orders (po_number, po_item, material_id, quantity, uom, vendor, planned_date, confirmed_date, lot_number, vendor_batch, status,
                                    updated_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (po_number, po_item) DO UPDATE SET
         material_id = excluded.material_id,
         quantity = coalesce(excluded.quantity, quantity),
         uom = coalesce(excluded.uom, uom),
         vendor = coalesce(excluded.vendor, vendor),
         planned_date = coalesce(excluded.planned_date, planned_date),
         confirmed_date = coalesce(excluded.confirmed_date, confirmed_date),
         lot_number = coalesce(excluded.lot_number, lot_number),
         vendor_batch = coalesce(excluded.vendor_batch, vendor_batch),
         status = coalesce(excluded.status, status),
         updated_at = excluded.updated_at,
         submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner`,
    )
    .run(
      f.poNumber,
      f.poItem,
      f.materialId,
      f.quantity ?? null,
      f.uom ?? null,
      f.vendor ?? null,
      f.plannedDate ?? null,
      f.confirmedDate ?? null,
      f.lotNumber ?? null,
      f.vendorBatch ?? null,
      f.status ?? null,
      sql.now(),
      ...provArgs(prov),
    );
}

export function getPurchaseOrder(sql: Sql, poNumber: string, poItem: string): PurchaseOrderDbRow | undefined {
  return sql.q('SELECT * FROM purchase_orders WHERE po_number = ? AND po_item = ?').get(poNumber, poItem) as PurchaseOrderDbRow | undefined;
}

/** Open lines of a PO that belong to this vendor (all items, or the one named). */
export function openPoLines(sql: Sql, vendor: string, poNumber: string, poItem?: string): PurchaseOrderDbRow[] {
  return sql
    .q(
      `SELECT * FROM purchase_orders
       WHERE po_number = ? AND (? IS NULL OR po_item = ?) AND vendor = ? AND (status IS NULL OR status = 'open')
       ORDER BY po_item`,
    )
    .all(poNumber, poItem ?? null, poItem ?? null, vendor) as PurchaseOrderDbRow[];
}

export function upsertLot(sql: Sql, materialId: string, lotNumber: string, f: LotFields, prov: Prov): { lotId: number; created: boolean } {
  const existing = sql.q('SELECT id FROM lots WHERE material_id = ? AND lot_number = ?').get(materialId, lotNumber) as { id: number } | undefined;
  const now = sql.now();
  const values = [
    f.expiryDate ?? null,
    f.manufactureDate ?? null,
    f.quantity ?? null,
    f.uom ?? null,
    f.site ?? null,
    f.vendor ?? null,
    f.qualityState ?? null,
    f.poNumber ?? null,
    f.poItem ?? null,
  ];
  if (existing) {
    sql
      .q(
        `UPDATE lots SET
           expiry_date = coalesce(?, expiry_date), manufacture_date = coalesce(?, manufacture_date),
           quantity = coalesce(?, quantity), uom = coalesce(?, uom), site = coalesce(?, site),
           vendor = coalesce(?, vendor), quality_state = coalesce(?, quality_state),
           po_number = coalesce(?, po_number), po_item = coalesce(?, po_item),
           updated_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
         WHERE id = ?`,
      )
      .run(...values, now, ...provArgs(prov), existing.id);
    return { lotId: existing.id, created: false };
  }
  const info = sql
    .q(
      `INSERT INTO lots (material_id, lot_number, expiry_date, manufacture_date, quantity, uom, site, vendor, quality_state, po_number, po_item,
                         created_at, updated_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(materialId, lotNumber, ...values, now, now, ...provArgs(prov));
  return { lotId: Number(info.lastInsertRowid), created: true };
}

/** Attributes a partner reports about a lot it does not own the key of (no vendor change). */
export function updateLotAttributes(sql: Sql, lotId: number, f: LotFields, prov: Prov): void {
  sql
    .q(
      `UPDATE lots SET
         expiry_date = coalesce(?, expiry_date), manufacture_date = coalesce(?, manufacture_date),
         quantity = coalesce(?, quantity), uom = coalesce(?, uom), site = coalesce(?, site),
         quality_state = coalesce(?, quality_state),
         po_number = coalesce(po_number, ?), po_item = coalesce(po_item, ?),
         updated_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
       WHERE id = ?`,
    )
    .run(
      f.expiryDate ?? null,
      f.manufactureDate ?? null,
      f.quantity ?? null,
      f.uom ?? null,
      f.site ?? null,
      f.qualityState ?? null,
      f.poNumber ?? null,
      f.poItem ?? null,
      sql.now(),
      ...provArgs(prov),
      lotId,
    );
}

/** Links a lot to the PO line it fulfils, unless it is linked already. */
export function linkLotToPo(sql: Sql, lotId: number, poNumber: string, poItem: string): void {
  sql.q('UPDATE lots SET po_number = ?, po_item = ? WHERE id = ? AND po_number IS NULL').run(poNumber, poItem, lotId);
}

export function getLot(sql: Sql, lotId: number): LotDbRow | undefined {
  return sql.q('SELECT * FROM lots WHERE id = ?').get(lotId) as LotDbRow | undefined;
}

export function getLotRow(sql: Sql, lotId: number) {
  const r = getLot(sql, lotId);
  return r && toLot(r);
}

export function lotsByNumber(sql: Sql, lotNumber: string, materialId?: string): LotDbRow[] {
  // Two statements rather than "(? IS NULL OR …)": this is on the per-row path, and each one
  // is a plain index search.
  if (materialId !== undefined) {
    const lot = sql.q('SELECT * FROM lots WHERE material_id = ? AND lot_number = ?').get(materialId, lotNumber) as LotDbRow | undefined;
    return lot ? [lot] : [];
  }
  // Sorted here, not by ORDER BY: the index is on lot_number alone and the result is tiny.
  const lots = sql.q('SELECT * FROM lots WHERE lot_number = ?').all(lotNumber) as LotDbRow[];
  return lots.length > 1 ? lots.sort((a, b) => (a.material_id < b.material_id ? -1 : a.material_id > b.material_id ? 1 : 0)) : lots;
}

/** Lots an identifier of this issuer points at (usually one; more is a conflict). */
export function lotIdsByIdentifier(sql: Sql, ref: IdRef, issuer: string): number[] {
  return (sql.q('SELECT lot_id FROM lot_identifiers WHERE scheme = ? AND value = ? AND issuer = ? ORDER BY lot_id').all(ref.scheme, ref.value, issuer) as { lot_id: number }[]).map(
    (r) => r.lot_id,
  );
}

/**
 * Records scheme:value (issued by `issuer`) as naming this lot. Returns false when already
 * recorded (then it is only credited to the earliest submission that sent it).
 */
export function addIdentifier(sql: Sql, lotId: number, ref: IdRef, issuer: string, prov: Prov): boolean {
  const known = sql.q('SELECT 1 FROM lot_identifiers WHERE scheme = ? AND value = ? AND issuer = ? AND lot_id = ?').get(ref.scheme, ref.value, issuer, lotId);
  sql
    .q(
      `INSERT INTO lot_identifiers (lot_id, scheme, value, issuer, created_at, submission_id, line, mapping_hash, partner)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scheme, value, issuer, lot_id) DO UPDATE SET
         submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner
       WHERE excluded.submission_id IS NOT NULL AND (lot_identifiers.submission_id IS NULL OR lot_identifiers.submission_id > excluded.submission_id)`,
    )
    .run(lotId, ref.scheme, ref.value, issuer, sql.now(), ...provArgs(prov));
  return !known;
}

/** Lots whose key or PO link matches this PO line: their planned receipt just changed. */
export function lotIdsForPoLine(sql: Sql, poNumber: string, poItem: string): number[] {
  return (
    sql
      .q(
        `SELECT l.id FROM lots l WHERE l.po_number = ? AND l.po_item = ?
         UNION
         SELECT l.id FROM lots l JOIN purchase_orders p ON p.material_id = l.material_id AND p.lot_number = l.lot_number
         WHERE p.po_number = ? AND p.po_item = ?`,
      )
      .all(poNumber, poItem, poNumber, poItem) as { id: number }[]
  ).map((r) => r.id);
}

/** Lots of a material (a material master change may change their rule set). */
export function lotIdsForMaterial(sql: Sql, materialId: string): number[] {
  return (sql.q('SELECT id FROM lots WHERE material_id = ? ORDER BY id').all(materialId) as { id: number }[]).map((r) => r.id);
}

/** The vendor of a lot: its own, else that of the PO line it fulfils. */
export function effectiveVendor(sql: Sql, lot: LotDbRow): string | null {
  if (lot.vendor) return lot.vendor;
  const po = plannedReceiptOf(sql, lot);
  return po?.vendor ?? null;
}

/** The PO line a lot fulfils: its explicit link first, else a line naming its lot number. */
export function plannedReceiptOf(sql: Sql, lot: LotDbRow): PurchaseOrderDbRow | undefined {
  if (lot.po_number && lot.po_item) {
    const linked = getPurchaseOrder(sql, lot.po_number, lot.po_item);
    if (linked) return linked;
  }
  return sql
    .q(
      `SELECT * FROM purchase_orders WHERE material_id = ? AND lot_number = ?
       ORDER BY (coalesce(status, 'open') = 'open') DESC, po_number, po_item LIMIT 1`,
    )
    .get(lot.material_id, lot.lot_number) as PurchaseOrderDbRow | undefined;
}
