// The board as CSV (GET /api/v1/lots?format=csv, exports): one row per lot.

import { toCsv } from './csv.js';
import type { LotListItem } from './lots.js';

export const LOT_CSV_HEADER = ['lot_number', 'material_id', 'material_description', 'site', 'vendor', 'po_number', 'expiry_date', 'readiness', 'late', 'reasons', 'computed_at', 'signature'];

/** The latest signature of a lot as one cell (Part 11 manifestation in exports), or ''. */
export type SignatureCell = (lotId: number) => string;

export function lotsCsv(items: LotListItem[], signature: SignatureCell = () => ''): string {
  return toCsv(
    LOT_CSV_HEADER,
    items.map((l) => [
      l.lotNumber,
      l.materialId,
      l.materialDescription,
      l.site,
      l.vendor,
      l.poNumber,
      l.expiryDate,
      l.readiness?.state ?? '',
      l.readiness ? (l.readiness.late ? 'yes' : 'no') : '',
      [...new Set(l.readiness?.reasons.map((r) => r.code) ?? [])].join(' '),
      l.readiness?.computedAt ?? '',
      signature(l.lotId),
    ]),
  );
}
