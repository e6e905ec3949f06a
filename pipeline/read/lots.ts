// The board: one shape for `lotgate lots --json`, GET /api/v1/lots and its CSV export. Filters
// and scope run in the store; this module shapes rows and encodes the page cursor.

import type { ReadinessState } from '../model/types.js';
import type { Access, LotFilters, ScopedLotRow, Store } from '../store/store.js';

export const READINESS_STATES: ReadinessState[] = ['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED'];

export interface LotListItem {
  lotId: number;
  lotNumber: string;
  materialId: string;
  materialDescription: string | null;
  site: string | null;
  vendor: string | null;
  poNumber: string | null;
  expiryDate: string | null;
  readiness: { state: ReadinessState; late: boolean; reasons: { code: string; severity: string; message: string }[]; computedAt: string | null } | null;
  /** New facts arrived and the readiness is being recomputed: `readiness` is the previous one. */
  recomputing: boolean;
}

export interface LotPage {
  items: LotListItem[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
  /** Lots matching the filters within the caller's scope (all pages). */
  total: number;
}

export function lotListItem(l: ScopedLotRow): LotListItem {
  return {
    lotId: l.lotId,
    lotNumber: l.lotNumber,
    materialId: l.materialId,
    materialDescription: l.materialDescription,
    site: l.site,
    vendor: l.vendor,
    poNumber: l.poNumber,
    expiryDate: l.expiryDate,
    readiness: l.readiness
      ? { state: l.readiness, late: l.late, reasons: l.reasons.map((r) => ({ code: r.code, severity: r.severity, message: r.message })), computedAt: l.computedAt }
      : null,
    recomputing: l.recomputing,
  };
}

export class CursorError extends Error {
  readonly code = 'E_API_CURSOR';
}

function encodeCursor(l: ScopedLotRow): string {
  return Buffer.from(JSON.stringify([l.lotNumber, l.materialId, l.lotId])).toString('base64url');
}

function decodeCursor(c: string): { lotNumber: string; materialId: string; id: number } {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'string' && Number.isInteger(v[2])) return { lotNumber: v[0], materialId: v[1], id: v[2] };
  } catch {
    // reported below
  }
  throw new CursorError('cursor is not one this server handed out: pass the nextCursor of the previous page unchanged, or omit it for the first page');
}

/** One page of lots within `access`. */
export async function listLotPage(store: Store, access: Access, filters: LotFilters, page: { limit: number; cursor?: string }): Promise<LotPage> {
  const after = page.cursor ? decodeCursor(page.cursor) : undefined;
  const rows = await store.reads.listLotsScoped(access, filters, { limit: page.limit + 1, after });
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  return {
    items: items.map(lotListItem),
    nextCursor: more ? encodeCursor(items[items.length - 1]) : null,
    total: await store.reads.countLotsScoped(access, filters),
  };
}

/** Every lot matching the filters (exports, the CLI), fetched in pages. */
export async function listAllLots(store: Store, access: Access, filters: LotFilters, max = 1_000_000): Promise<LotListItem[]> {
  const out: LotListItem[] = [];
  let after: { lotNumber: string; materialId: string; id: number } | undefined;
  for (;;) {
    const want = Math.min(5000, max - out.length);
    if (want <= 0) break;
    const rows = await store.reads.listLotsScoped(access, filters, { limit: want, after });
    out.push(...rows.map(lotListItem));
    if (rows.length < want) break;
    const last = rows[rows.length - 1];
    after = { lotNumber: last.lotNumber, materialId: last.materialId, id: last.lotId };
  }
  return out;
}
