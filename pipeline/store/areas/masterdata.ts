// The masterdata area of the async store: materials, PO lines (planned receipts), lots, lot
// identifiers, and lot resolution (which lot a partner's reference means, DESIGN.md §3; the rules
// and their precedence: resolution.ts). One implementation for both dialects (db/db.ts).
//
// Master data carries no event time, so a later write wins for the values it sends and an absent
// value never erases a known one (a CMO's batch header with only an expiry date must not blank
// the quantity the ERP sent).
//
// Every lookup reads the database (no per-transaction cache: other connections write concurrently
// on PostgreSQL; a run of records resolved together prefetches its lookups once, resolution-reads.ts), and upsertLot and addIdentifier are written for concurrent writers (ON CONFLICT,
// never read-then-insert), so two processes creating the same lot both get its one id.

import type { ErrorCode } from '../../codes.js';
import type { IdRef, PartnerConfig, RowError } from '../../model/types.js';
import { chunks, rowMarks, type Db } from '../db/db.js';
import { provArgs, toLot, type LotDbRow, type LotKeyDbRow, type PurchaseOrderDbRow } from '../rows.js';
import { clean, dedupeIds, describeRef, ResolutionWrites, unique, type ResolveOptions, type ResolveResult } from './resolution.js';
import { dbReads, getPurchaseOrder, lotsWithNumber, plannedReceiptOf, type ResolutionReads } from './resolution-reads.js';
import type { LotFields, LotRef, MaterialFields, Prov, PurchaseOrderFields } from '../types.js';
import type { LotRow } from '../../model/types.js';

export interface MasterDataArea {
  upsertMaterial(f: MaterialFields, prov: Prov): Promise<void>;
  upsertPurchaseOrder(f: PurchaseOrderFields, prov: Prov): Promise<void>;
  getPurchaseOrder(poNumber: string, poItem: string): Promise<PurchaseOrderDbRow | undefined>;
  /** Open lines of a PO that belong to this vendor (all items, or the one named). */
  openPoLines(vendor: string, poNumber: string, poItem?: string): Promise<PurchaseOrderDbRow[]>;
  upsertLot(materialId: string, lotNumber: string, f: LotFields, prov: Prov): Promise<{ lotId: number; created: boolean }>;
  /** Attributes a partner reports about a lot it does not own the key of (no vendor change). */
  updateLotAttributes(lotId: number, f: LotFields, prov: Prov): Promise<void>;
  /** Links a lot to the PO line it fulfils, unless it is linked already. */
  linkLotToPo(lotId: number, poNumber: string, poItem: string): Promise<void>;
  getLot(lotId: number): Promise<LotDbRow | undefined>;
  /** The key columns of a lot (lotKeysByNumber's shape). */
  getLotKey(lotId: number): Promise<LotKeyDbRow | undefined>;
  /** The lot as the model shape. */
  getLotRow(lotId: number): Promise<LotRow | undefined>;
  /** Lots with this number (of this material when given), sorted by material. */
  lotsByNumber(lotNumber: string, materialId?: string): Promise<LotDbRow[]>;
  /** lotsByNumber, key columns only. */
  lotKeysByNumber(lotNumber: string, materialId?: string): Promise<LotKeyDbRow[]>;
  /** Lots an identifier of this issuer points at (usually one; more is a conflict). Ascending ids. */
  lotIdsByIdentifier(ref: IdRef, issuer: string): Promise<number[]>;
  /** Lot ids named by a partner identifier value (any scheme and issuer unless given). */
  findLotIdsByIdentifier(value: string, opts?: { scheme?: string; issuer?: string }): Promise<number[]>;
  /** Records scheme:value (issued by `issuer`) as naming this lot; false when already recorded. */
  addIdentifier(lotId: number, ref: IdRef, issuer: string, prov: Prov): Promise<boolean>;
  /** Lots whose key or PO link matches this PO line. Ascending ids. */
  lotIdsForPoLine(poNumber: string, poItem: string): Promise<number[]>;
  /** Lots of a material. Ascending ids. */
  lotIdsForMaterial(materialId: string): Promise<number[]>;
  /** The vendor of a lot: its own, else that of the PO line it fulfils. */
  effectiveVendor(lot: LotKeyDbRow): Promise<string | null>;
  /** The PO line a lot fulfils: its explicit link first, else a line naming its lot number. */
  plannedReceiptOf(lot: LotKeyDbRow): Promise<PurchaseOrderDbRow | undefined>;
  /**
   * Which lot a partner's record means (rules in resolution.ts). May write a lot created from an
   * open PO line and the identifiers learned; all or nothing: when it returns an error (or
   * throws) nothing it wrote stays. `readOnly`: see ResolveOptions (throws ResolutionWrites).
   */
  resolveLot(partner: PartnerConfig, ref: LotRef, prov?: Prov, opts?: ResolveOptions): Promise<ResolveResult>;
  /** Writes the identifiers a readOnly resolution returned as `learned`. */
  learnIdentifiers(lotId: number, learned: readonly IdRef[], partner: PartnerConfig, prov: Prov): Promise<void>;
  /**
   * learnIdentifiers for a run of records (apply-batch.ts), in a few multi-row statements: the
   * same rows and credit as calling it for each record in the given order.
   */
  learnIdentifierRows(rows: readonly LearnedIdentifier[], issuer: string): Promise<void>;
  /** May this partner report on this lot? */
  mayTouch(partner: PartnerConfig, lot: LotKeyDbRow): Promise<boolean>;
}

export function masterdataArea(db: Db): MasterDataArea {
  return {
    upsertMaterial: (f, prov) => upsertMaterial(db, f, prov),
    upsertPurchaseOrder: (f, prov) => upsertPurchaseOrder(db, f, prov),
    getPurchaseOrder: (poNumber, poItem) => getPurchaseOrder(db, poNumber, poItem),
    openPoLines: (vendor, poNumber, poItem) => openPoLines(db, vendor, poNumber, poItem),
    upsertLot: (materialId, lotNumber, f, prov) => upsertLot(db, materialId, lotNumber, f, prov),
    updateLotAttributes: (lotId, f, prov) => updateLotAttributes(db, lotId, f, prov),
    linkLotToPo: (lotId, poNumber, poItem) => linkLotToPo(db, lotId, poNumber, poItem),
    getLot: (lotId) => getLot(db, lotId),
    getLotKey: (lotId) => dbReads(db).getLotKey(lotId),
    getLotRow: async (lotId) => {
      const r = await getLot(db, lotId);
      return r && toLot(r);
    },
    lotsByNumber: (lotNumber, materialId) => lotsByNumber(db, lotNumber, materialId),
    lotKeysByNumber: (lotNumber, materialId) => dbReads(db).lotKeysByNumber(lotNumber, materialId),
    lotIdsByIdentifier: (ref, issuer) => dbReads(db).lotIdsByIdentifier(ref, issuer),
    findLotIdsByIdentifier: (value, opts) => findLotIdsByIdentifier(db, value, opts),
    addIdentifier: (lotId, ref, issuer, prov) => addIdentifier(db, lotId, ref, issuer, prov),
    lotIdsForPoLine: (poNumber, poItem) => lotIdsForPoLine(db, poNumber, poItem),
    lotIdsForMaterial: (materialId) => lotIdsForMaterial(db, materialId),
    effectiveVendor: (lot) => dbReads(db).effectiveVendor(lot),
    plannedReceiptOf: (lot) => plannedReceiptOf(db, lot),
    resolveLot: (partner, ref, prov, opts) => resolveLot(db, partner, ref, prov ?? { submissionId: null, partner: partner.id }, opts),
    learnIdentifiers: (lotId, learned, partner, prov) => learnIdentifiers(db, lotId, learned, partner, prov),
    learnIdentifierRows: (rows, issuer) => learnIdentifierRows(db, rows, issuer),
    mayTouch: (partner, lot) => mayTouch(dbReads(db), partner, lot),
  };
}

// ---------------------------------------------------------------- materials and PO lines

async function upsertMaterial(db: Db, f: MaterialFields, prov: Prov): Promise<void> {
  await db.run(
    `INSERT INTO materials (material_id, description, gtin, ndc, product_family, uom, updated_at, submission_id, line, mapping_hash, partner)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (material_id) DO UPDATE SET
       description = coalesce(excluded.description, materials.description),
       gtin = coalesce(excluded.gtin, materials.gtin),
       ndc = coalesce(excluded.ndc, materials.ndc),
       product_family = coalesce(excluded.product_family, materials.product_family),
       uom = coalesce(excluded.uom, materials.uom),
       updated_at = excluded.updated_at,
       submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner`,
    [f.materialId, f.description ?? null, f.gtin ?? null, f.ndc ?? null, f.productFamily ?? null, f.uom ?? null, db.now(), ...provArgs(prov)],
  );
}

async function upsertPurchaseOrder(db: Db, f: PurchaseOrderFields, prov: Prov): Promise<void> {
  // Column references qualified with the table: PostgreSQL finds a bare name in DO UPDATE
  // ambiguous between the target row and `excluded`.
  await db.run(
    `INSERT INTO purchase_orders (po_number, po_item, material_id, quantity, uom, vendor, planned_date, confirmed_date, lot_number, vendor_batch, status,
                                  updated_at, submission_id, line, mapping_hash, partner)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (po_number, po_item) DO UPDATE SET
       material_id = excluded.material_id,
       quantity = coalesce(excluded.quantity, purchase_orders.quantity),
       uom = coalesce(excluded.uom, purchase_orders.uom),
       vendor = coalesce(excluded.vendor, purchase_orders.vendor),
       planned_date = coalesce(excluded.planned_date, purchase_orders.planned_date),
       confirmed_date = coalesce(excluded.confirmed_date, purchase_orders.confirmed_date),
       lot_number = coalesce(excluded.lot_number, purchase_orders.lot_number),
       vendor_batch = coalesce(excluded.vendor_batch, purchase_orders.vendor_batch),
       status = coalesce(excluded.status, purchase_orders.status),
       updated_at = excluded.updated_at,
       submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner`,
    [
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
      db.now(),
      ...provArgs(prov),
    ],
  );
}

async function openPoLines(db: Db, vendor: string, poNumber: string, poItem?: string): Promise<PurchaseOrderDbRow[]> {
  // The item condition is added in JS, not as "(? IS NULL OR po_item = ?)", which PostgreSQL
  // cannot type.
  const where = ['po_number = ?', 'vendor = ?', "(status IS NULL OR status = 'open')"];
  const args: unknown[] = [poNumber, vendor];
  if (poItem !== undefined) {
    where.push('po_item = ?');
    args.push(poItem);
  }
  return db.all<PurchaseOrderDbRow>(`SELECT * FROM purchase_orders WHERE ${where.join(' AND ')} ORDER BY po_item`, args);
}

// ---------------------------------------------------------------- lots

const lotValues = (f: LotFields) => [
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

/** The later write wins for the values it sends; an absent value keeps the known one. */
async function updateLotByKey(db: Db, materialId: string, lotNumber: string, f: LotFields, prov: Prov): Promise<number | undefined> {
  const r = await db.run(
    `UPDATE lots SET
       expiry_date = coalesce(?, expiry_date), manufacture_date = coalesce(?, manufacture_date),
       quantity = coalesce(?, quantity), uom = coalesce(?, uom), site = coalesce(?, site),
       vendor = coalesce(?, vendor), quality_state = coalesce(?, quality_state),
       po_number = coalesce(?, po_number), po_item = coalesce(?, po_item),
       updated_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
     WHERE material_id = ? AND lot_number = ?
     RETURNING id`,
    [...lotValues(f), db.now(), ...provArgs(prov), materialId, lotNumber],
  );
  return r.rows.length ? Number(r.rows[0].id) : undefined;
}

async function upsertLot(db: Db, materialId: string, lotNumber: string, f: LotFields, prov: Prov): Promise<{ lotId: number; created: boolean }> {
  // Update first: most upserts name a known lot, and an INSERT … DO NOTHING that conflicts would
  // still use up an id on PostgreSQL. Then insert, DO NOTHING when another connection inserted
  // the same key meanwhile (PostgreSQL waits for that insert to commit), and update that row.
  const known = await updateLotByKey(db, materialId, lotNumber, f, prov);
  if (known !== undefined) return { lotId: known, created: false };
  const now = db.now();
  const inserted = await db.run(
    `INSERT INTO lots (material_id, lot_number, expiry_date, manufacture_date, quantity, uom, site, vendor, quality_state, po_number, po_item,
                       created_at, updated_at, submission_id, line, mapping_hash, partner)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (material_id, lot_number) DO NOTHING
     RETURNING id`,
    [materialId, lotNumber, ...lotValues(f), now, now, ...provArgs(prov)],
  );
  if (inserted.rows.length) return { lotId: Number(inserted.rows[0].id), created: true };
  const raced = await updateLotByKey(db, materialId, lotNumber, f, prov);
  // Lots are never deleted, so a key that conflicted exists; anything else is a broken store.
  if (raced === undefined) throw new Error(`upsertLot: lot ${materialId}/${lotNumber} conflicted on insert but is not there`);
  return { lotId: raced, created: false };
}

async function updateLotAttributes(db: Db, lotId: number, f: LotFields, prov: Prov): Promise<void> {
  await db.run(
    `UPDATE lots SET
       expiry_date = coalesce(?, expiry_date), manufacture_date = coalesce(?, manufacture_date),
       quantity = coalesce(?, quantity), uom = coalesce(?, uom), site = coalesce(?, site),
       quality_state = coalesce(?, quality_state),
       po_number = coalesce(po_number, ?), po_item = coalesce(po_item, ?),
       updated_at = ?, submission_id = ?, line = ?, mapping_hash = ?, partner = ?
     WHERE id = ?`,
    [
      f.expiryDate ?? null,
      f.manufactureDate ?? null,
      f.quantity ?? null,
      f.uom ?? null,
      f.site ?? null,
      f.qualityState ?? null,
      f.poNumber ?? null,
      f.poItem ?? null,
      db.now(),
      ...provArgs(prov),
      lotId,
    ],
  );
}

async function linkLotToPo(db: Db, lotId: number, poNumber: string, poItem: string): Promise<void> {
  await db.run('UPDATE lots SET po_number = ?, po_item = ? WHERE id = ? AND po_number IS NULL', [poNumber, poItem, lotId]);
}

async function getLot(db: Db, lotId: number): Promise<LotDbRow | undefined> {
  return db.get<LotDbRow>('SELECT * FROM lots WHERE id = ?', [lotId]);
}

async function lotsByNumber(db: Db, lotNumber: string, materialId?: string): Promise<LotDbRow[]> {
  return lotsWithNumber<LotDbRow>(db, '*', lotNumber, materialId);
}

async function lotIdsForPoLine(db: Db, poNumber: string, poItem: string): Promise<number[]> {
  // ORDER BY: SQLite's UNION happens to come out sorted, PostgreSQL's does not.
  const rows = await db.all<{ id: number }>(
    `SELECT l.id FROM lots l WHERE l.po_number = ? AND l.po_item = ?
     UNION
     SELECT l.id FROM lots l JOIN purchase_orders p ON p.material_id = l.material_id AND p.lot_number = l.lot_number
     WHERE p.po_number = ? AND p.po_item = ?
     ORDER BY id`,
    [poNumber, poItem, poNumber, poItem],
  );
  return rows.map((r) => r.id);
}

async function lotIdsForMaterial(db: Db, materialId: string): Promise<number[]> {
  return (await db.all<{ id: number }>('SELECT id FROM lots WHERE material_id = ? ORDER BY id', [materialId])).map((r) => r.id);
}

// ---------------------------------------------------------------- lot identifiers

async function findLotIdsByIdentifier(db: Db, value: string, opts: { scheme?: string; issuer?: string } = {}): Promise<number[]> {
  const where = ['value = ?'];
  const args: unknown[] = [value];
  if (opts.scheme !== undefined) {
    where.push('scheme = ?');
    args.push(opts.scheme);
  }
  if (opts.issuer !== undefined) {
    where.push('issuer = ?');
    args.push(opts.issuer);
  }
  const rows = await db.all<{ lot_id: number }>(`SELECT DISTINCT lot_id FROM lot_identifiers WHERE ${where.join(' AND ')} ORDER BY lot_id`, args);
  return rows.map((r) => r.lot_id);
}

async function addIdentifier(db: Db, lotId: number, ref: IdRef, issuer: string, prov: Prov): Promise<boolean> {
  // Insert first: usually the identifier is new, and then one statement does. DO NOTHING also
  // makes two connections recording the same identifier at once both succeed.
  const info = await db.run(
    `INSERT INTO lot_identifiers (lot_id, scheme, value, issuer, created_at, submission_id, line, mapping_hash, partner)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (scheme, value, issuer, lot_id) DO NOTHING`,
    [lotId, ref.scheme, ref.value, issuer, db.now(), ...provArgs(prov)],
  );
  if (info.changes === 1) return true;
  // Already recorded: credited to the earliest submission that sent it.
  if (prov.submissionId != null) {
    await db.run(
      `UPDATE lot_identifiers SET submission_id = ?, line = ?, mapping_hash = ?, partner = ?
       WHERE scheme = ? AND value = ? AND issuer = ? AND lot_id = ? AND (submission_id IS NULL OR submission_id > ?)`,
      [...provArgs(prov), ref.scheme, ref.value, issuer, lotId, prov.submissionId],
    );
  }
  return false;
}

/** An identifier a record of a run taught, for learnIdentifierRows. */
export interface LearnedIdentifier {
  lotId: number;
  ref: IdRef;
  prov: Prov;
}

async function learnIdentifierRows(db: Db, rows: readonly LearnedIdentifier[], issuer: string): Promise<void> {
  // One row per identifier and lot, the first to teach it: a later one of the same submission
  // would not take the credit (not earlier), and PostgreSQL refuses to update a row twice in one
  // statement. On conflict with a stored row, the credit moves to an earlier submission, as
  // addIdentifier does with its UPDATE.
  const seen = new Set<string>();
  const firsts = rows.filter((r) => {
    const k = JSON.stringify([r.ref.scheme, r.ref.value, r.lotId]);
    return !seen.has(k) && !!seen.add(k);
  });
  const now = db.now();
  for (const part of chunks(firsts)) {
    await db.run(
      `INSERT INTO lot_identifiers (lot_id, scheme, value, issuer, created_at, submission_id, line, mapping_hash, partner)
       VALUES ${rowMarks(part.length, 9)}
       ON CONFLICT (scheme, value, issuer, lot_id) DO UPDATE SET
         submission_id = excluded.submission_id, line = excluded.line, mapping_hash = excluded.mapping_hash, partner = excluded.partner
       WHERE excluded.submission_id IS NOT NULL AND (lot_identifiers.submission_id IS NULL OR lot_identifiers.submission_id > excluded.submission_id)`,
      part.flatMap((r) => [r.lotId, r.ref.scheme, r.ref.value, issuer, now, ...provArgs(r.prov)]),
    );
  }
}

// ---------------------------------------------------------------- resolution

async function learnIdentifiers(db: Db, lotId: number, learned: readonly IdRef[], partner: PartnerConfig, prov: Prov): Promise<void> {
  for (const id of learned) await addIdentifier(db, lotId, id, partner.id, prov);
}

async function mayTouch(reads: ResolutionReads, partner: PartnerConfig, lot: LotKeyDbRow): Promise<boolean> {
  if (partner.role === 'erp' || partner.role === 'qms') return true;
  if (partner.products.length > 0 && !partner.products.includes(lot.material_id)) return false;
  if (partner.role === 'cmo') return (await reads.effectiveVendor(lot)) === partner.id;
  return true;
}

/** Carries an error result out of the resolution's savepoint, so that the savepoint rolls back. */
class Rejected {
  constructor(readonly result: { error: RowError }) {}
}

async function resolveLot(db: Db, partner: PartnerConfig, ref: LotRef, prov: Prov, opts: ResolveOptions = {}): Promise<ResolveResult> {
  // readOnly writes nothing (a write it would need throws ResolutionWrites first): no savepoint.
  if (opts.readOnly) return resolveIn(db, dbReads(db), partner, ref, prov, opts);
  try {
    return await db.transaction(async (tx) => {
      const r = await resolveIn(tx, dbReads(tx), partner, ref, prov, opts);
      if ('error' in r) throw new Rejected(r);
      return r;
    });
  } catch (e) {
    if (e instanceof Rejected) return e.result;
    throw e;
  }
}

type Fail = (code: ErrorCode, message: string, value?: string) => { error: RowError };

/**
 * resolveLot without its savepoint (the caller gives it one); lookups through `reads` (one query
 * each, or a run's prefetched BatchReads), writes on `db`.
 */
export async function resolveIn(db: Db, reads: ResolutionReads, partner: PartnerConfig, ref: LotRef, prov: Prov, opts: ResolveOptions): Promise<ResolveResult> {
  const fail: Fail = (code, message, value) => {
    const error: RowError = { code, message };
    if (prov.line !== undefined) error.line = prov.line;
    if (value !== undefined) error.value = value;
    return { error };
  };

  const ids = dedupeIds(ref.ids);
  const sponsorNumbers = unique([clean(ref.lotNumber), ...ids.filter((i) => i.scheme === 'erp_lot').map((i) => i.value)]);
  const partnerIds = ids.filter((i) => i.scheme !== 'erp_lot');
  const material = clean(ref.materialId);
  const poNumber = clean(ref.poNumber);
  const poItem = clean(ref.poItem);
  const tried = describeRef(ids, clean(ref.lotNumber), material, poNumber, poItem);

  if (sponsorNumbers.length > 1) {
    return fail('E_ID_CONFLICT', `The record names different lot numbers: ${sponsorNumbers.join(', ')}.`, sponsorNumbers.join(','));
  }
  const sponsorNumber = sponsorNumbers[0];

  // Where each partner identifier points now (before anything is learned from this record).
  const hits: { id: IdRef; lotIds: number[] }[] = [];
  for (const id of partnerIds) hits.push({ id, lotIds: await reads.lotIdsByIdentifier(id, partner.id) });
  const hitLots = unique(hits.flatMap((h) => h.lotIds));

  let lot: LotKeyDbRow | undefined;
  let created = false;

  // 1. The sponsor's lot number.
  if (sponsorNumber) {
    const found = await reads.lotKeysByNumber(sponsorNumber, material);
    if (found.length > 0) {
      let inScope: LotKeyDbRow[] = [];
      for (const l of found) if (await mayTouch(reads, partner, l)) inScope.push(l);
      if (inScope.length === 0) return scopeError(reads, fail, partner, found[0]);
      // The partner's own identifiers may say which material is meant.
      if (inScope.length > 1) {
        const narrowed = inScope.filter((l) => hitLots.includes(l.id));
        if (narrowed.length === 1) inScope = narrowed;
      }
      if (inScope.length > 1) {
        return fail(
          'E_AMBIGUOUS_LOT',
          `Lot number ${sponsorNumber} exists for several materials (${inScope.map((l) => l.material_id).join(', ')}); send the material id too.`,
          sponsorNumber,
        );
      }
      lot = inScope[0];
    }
  }

  // 2. The partner's identifiers.
  if (!lot && hitLots.length > 0) {
    if (hitLots.length > 1) {
      const parts: string[] = [];
      for (const h of hits) {
        if (h.lotIds.length === 0) continue;
        const labels: string[] = [];
        for (const id of h.lotIds) labels.push(await lotLabel(reads, id));
        parts.push(`${h.id.scheme} ${h.id.value} → ${labels.join(' and ')}`);
      }
      return fail('E_ID_CONFLICT', `The identifiers point at different lots: ${parts.join('; ')}.`, partnerIds[0]?.value);
    }
    const candidate = (await reads.getLotKey(hitLots[0]))!;
    if (sponsorNumber && candidate.lot_number !== sponsorNumber) {
      return fail(
        'E_ID_CONFLICT',
        `Lot number ${sponsorNumber} is unknown, and the identifiers sent belong to lot ${candidate.lot_number} (material ${candidate.material_id}).`,
        sponsorNumber,
      );
    }
    if (material && candidate.material_id !== material) {
      return fail(
        'E_ID_CONFLICT',
        `The identifiers sent belong to lot ${candidate.lot_number} of material ${candidate.material_id}, not material ${material}.`,
        material,
      );
    }
    if (!(await mayTouch(reads, partner, candidate))) return scopeError(reads, fail, partner, candidate);
    lot = candidate;
  }

  // 3. An open PO line of this partner.
  if (!lot && poNumber) {
    const lines = (await openPoLines(db, partner.id, poNumber, poItem)).filter((l) => !material || l.material_id === material);
    if (lines.length > 1) {
      return fail('E_AMBIGUOUS_LOT', `PO ${poNumber} has several open items for ${partner.id} (${lines.map((l) => l.po_item).join(', ')}); send the PO item too.`, poNumber);
    }
    if (lines.length === 1) {
      const po = lines[0];
      if (po.lot_number && sponsorNumber && po.lot_number !== sponsorNumber) {
        return fail('E_ID_CONFLICT', `PO ${po.po_number}/${po.po_item} is for lot ${po.lot_number}, not lot ${sponsorNumber}.`, sponsorNumber);
      }
      const lotNumber = po.lot_number ?? sponsorNumber ?? partnerIds[0]?.value;
      if (!lotNumber) {
        return fail('E_UNKNOWN_LOT', `PO ${po.po_number}/${po.po_item} names no lot number and the record sent no identifier to number the lot by.`, poNumber);
      }
      const existing = (await reads.lotKeysByNumber(lotNumber, po.material_id))[0];
      if (existing) {
        if (!(await mayTouch(reads, partner, existing))) return scopeError(reads, fail, partner, existing);
        if (opts.readOnly) throw new ResolutionWrites();
        await linkLotToPo(db, existing.id, po.po_number, po.po_item);
        lot = existing;
      } else {
        if (partner.products.length > 0 && !partner.products.includes(po.material_id)) {
          return fail('E_PARTNER_SCOPE', `Partner ${partner.id} may not report on material ${po.material_id} (PO ${po.po_number}/${po.po_item}).`, po.material_id);
        }
        if (opts.readOnly) throw new ResolutionWrites();
        const made = await upsertLot(db, po.material_id, lotNumber, { vendor: po.vendor, poNumber: po.po_number, poItem: po.po_item }, prov);
        lot = (await dbReads(db).getLotKey(made.lotId))!;
        // made.created, not true: another connection may have created the same lot meanwhile.
        created = made.created;
      }
    }
  }

  if (!lot) {
    return fail('E_UNKNOWN_LOT', `No known lot or open PO line matches ${tried || 'this record (it names no lot)'}.`, ids[0]?.value ?? sponsorNumber ?? poNumber);
  }

  const lotId = lot.id;
  const learned = hits.filter((h) => !h.lotIds.includes(lotId)).map((h) => h.id);
  if (!opts.readOnly) await learnIdentifiers(db, lotId, learned, partner, prov);
  return created ? { lotId, learned, created } : { lotId, learned };
}

async function scopeError(reads: ResolutionReads, fail: Fail, partner: PartnerConfig, lot: LotKeyDbRow): Promise<{ error: RowError }> {
  const vendor = await reads.effectiveVendor(lot);
  const why =
    partner.products.length > 0 && !partner.products.includes(lot.material_id)
      ? `material ${lot.material_id} is not among its products`
      : `the lot is made by ${vendor ?? 'an unknown vendor'}`;
  return fail('E_PARTNER_SCOPE', `Partner ${partner.id} may not report on lot ${lot.lot_number} (material ${lot.material_id}): ${why}.`, lot.lot_number);
}

async function lotLabel(reads: ResolutionReads, lotId: number): Promise<string> {
  const l = await reads.getLotKey(lotId);
  return l ? `${l.lot_number} (${l.material_id})` : `#${lotId}`;
}
