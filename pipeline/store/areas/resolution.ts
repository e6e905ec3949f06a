// Identifier resolution (DESIGN.md §3): which of the sponsor's lots a partner's record means.
// resolveLot itself is the masterdata area's (masterdata.ts); here are its results, its options
// and the cleaning of a reference.
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

import type { IdRef, RowError } from '../../model/types.js';

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
