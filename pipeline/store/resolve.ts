// Identifier resolution (DESIGN.md §3): which of the sponsor's lots a partner's record means.
//
// Precedence, and why:
// 1. The sponsor's own lot number (`lotNumber` / `erp_lot` ids), with materialId when sent —
//    it is the key, so it wins. Partner identifiers sent alongside that point nowhere yet are
//    learned; ones that point at another lot are recorded too, which makes a conflict the
//    readiness identity rule reports (BLOCKED) instead of a silently dropped row.
// 2. The partner's identifiers, looked up only among identifiers that partner issued:
//    partners are fenced, A can never reach a lot through B's numbers.
// 3. An open PO line of this partner (vendor = partner id): the lot it names, or a new lot
//    numbered by the PO line, else by the first identifier sent.
// Then scope: a CMO only touches lots it makes, a partner with a product list only those
// materials; ERP and QMS touch any lot.

import type { IdRef, PartnerConfig, RowError } from '../model/types.js';
import { addIdentifier, effectiveVendor, getLotKey, linkLotToPo, lotIdsByIdentifier, lotKeysByNumber, openPoLines, upsertLot } from './masterdata.js';
import type { Sql } from './sql.js';
import type { LotKeyDbRow } from './tx-cache.js';
import type { LotRef, Prov } from './types.js';
import type { ErrorCode } from '../codes.js';

export type ResolveResult = { lotId: number; learned: IdRef[]; created?: boolean } | { error: RowError };

/**
 * Thrown by resolveLot in `readOnly` mode where resolution would have to write (a lot created
 * from, or linked to, an open PO line) before the caller's fact: nothing has been written yet,
 * and the caller applies the record the careful way (in a savepoint) instead.
 */
export class ResolutionWrites {
  readonly reason = 'resolution writes before the fact';
}

export interface ResolveOptions {
  /**
   * Write nothing: identifiers to learn come back in `learned` (the caller writes them after its
   * fact, with learnIdentifiers), and a PO-line lot creation or link throws ResolutionWrites.
   */
  readOnly?: boolean;
}

/** Writes the identifiers a readOnly resolution returned as `learned`. */
export function learnIdentifiers(sql: Sql, lotId: number, learned: readonly IdRef[], partner: PartnerConfig, prov: Prov): void {
  for (const id of learned) addIdentifier(sql, lotId, id, partner.id, prov);
}

export function resolveLot(sql: Sql, partner: PartnerConfig, ref: LotRef, prov: Prov, opts: ResolveOptions = {}): ResolveResult {
  const fail = (code: ErrorCode, message: string, value?: string): { error: RowError } => {
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
  const hits = partnerIds.map((id) => ({ id, lotIds: lotIdsByIdentifier(sql, id, partner.id) }));
  const hitLots = unique(hits.flatMap((h) => h.lotIds));

  let lot: LotKeyDbRow | undefined;
  let created = false;

  // 1. The sponsor's lot number.
  if (sponsorNumber) {
    const found = lotKeysByNumber(sql, sponsorNumber, material);
    if (found.length > 0) {
      let inScope = found.filter((l) => mayTouch(sql, partner, l));
      if (inScope.length === 0) return scopeError(fail, partner, found[0], sql);
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
      const detail = hits
        .filter((h) => h.lotIds.length > 0)
        .map((h) => `${h.id.scheme} ${h.id.value} → ${h.lotIds.map((id) => lotLabel(sql, id)).join(' and ')}`)
        .join('; ');
      return fail('E_ID_CONFLICT', `The identifiers point at different lots: ${detail}.`, partnerIds[0]?.value);
    }
    const candidate = getLotKey(sql, hitLots[0])!;
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
    if (!mayTouch(sql, partner, candidate)) return scopeError(fail, partner, candidate, sql);
    lot = candidate;
  }

  // 3. An open PO line of this partner.
  if (!lot && poNumber) {
    const lines = openPoLines(sql, partner.id, poNumber, poItem).filter((l) => !material || l.material_id === material);
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
      const existing = lotKeysByNumber(sql, lotNumber, po.material_id)[0];
      if (existing) {
        if (!mayTouch(sql, partner, existing)) return scopeError(fail, partner, existing, sql);
        if (opts.readOnly) throw new ResolutionWrites();
        linkLotToPo(sql, existing.id, po.po_number, po.po_item);
        lot = existing;
      } else {
        if (partner.products.length > 0 && !partner.products.includes(po.material_id)) {
          return fail('E_PARTNER_SCOPE', `Partner ${partner.id} may not report on material ${po.material_id} (PO ${po.po_number}/${po.po_item}).`, po.material_id);
        }
        if (opts.readOnly) throw new ResolutionWrites();
        const made = upsertLot(sql, po.material_id, lotNumber, { vendor: po.vendor, poNumber: po.po_number, poItem: po.po_item }, prov);
        lot = getLotKey(sql, made.lotId)!;
        created = true;
      }
    }
  }

  if (!lot) {
    return fail('E_UNKNOWN_LOT', `No known lot or open PO line matches ${tried || 'this record (it names no lot)'}.`, ids[0]?.value ?? sponsorNumber ?? poNumber);
  }

  const lotId = lot.id;
  const learned = hits.filter((h) => !h.lotIds.includes(lotId)).map((h) => h.id);
  if (!opts.readOnly) learnIdentifiers(sql, lotId, learned, partner, prov);
  return created ? { lotId, learned, created } : { lotId, learned };
}

/** May this partner report on this lot? */
export function mayTouch(sql: Sql, partner: PartnerConfig, lot: LotKeyDbRow): boolean {
  if (partner.role === 'erp' || partner.role === 'qms') return true;
  if (partner.products.length > 0 && !partner.products.includes(lot.material_id)) return false;
  if (partner.role === 'cmo') return effectiveVendor(sql, lot) === partner.id;
  return true;
}

function scopeError(fail: (code: ErrorCode, message: string, value?: string) => { error: RowError }, partner: PartnerConfig, lot: LotKeyDbRow, sql: Sql) {
  const vendor = effectiveVendor(sql, lot);
  const why =
    partner.products.length > 0 && !partner.products.includes(lot.material_id)
      ? `material ${lot.material_id} is not among its products`
      : `the lot is made by ${vendor ?? 'an unknown vendor'}`;
  return fail('E_PARTNER_SCOPE', `Partner ${partner.id} may not report on lot ${lot.lot_number} (material ${lot.material_id}): ${why}.`, lot.lot_number);
}

function lotLabel(sql: Sql, lotId: number): string {
  const l = getLotKey(sql, lotId);
  return l ? `${l.lot_number} (${l.material_id})` : `#${lotId}`;
}

export function describeRef(ids: IdRef[], lotNumber?: string, material?: string, poNumber?: string, poItem?: string): string {
  const parts = ids.map((i) => `${i.scheme} ${i.value}`);
  if (lotNumber) parts.push(`lot number ${lotNumber}`);
  if (material) parts.push(`material ${material}`);
  if (poNumber) parts.push(`PO ${poNumber}${poItem ? `/${poItem}` : ''}`);
  return parts.join(', ');
}

export function clean(v: string | undefined | null): string | undefined {
  if (v == null) return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

export function dedupeIds(ids: IdRef[]): IdRef[] {
  const seen = new Set<string>();
  const out: IdRef[] = [];
  for (const id of ids) {
    const value = clean(id.value);
    if (!value) continue;
    const k = `${id.scheme}\u0000${value}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ scheme: id.scheme, value });
  }
  return out;
}

export function unique<T>(xs: (T | undefined)[]): T[] {
  return [...new Set(xs.filter((x): x is T => x !== undefined))];
}
