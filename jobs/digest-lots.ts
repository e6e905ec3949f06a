// The daily digest's input (pure): the open lots, which recipient groups follow each, and which
// changed since the last digest (from the audit trail's readiness changes).

import type { ReadinessState } from '../pipeline/model/types.js';
import type { LotSummary } from '../pipeline/outbound/notify/digest.js';
import type { AuditRow, BoardLot } from '../pipeline/store/store.js';
import { parseLotSubject, type Links } from '../pipeline/outbound/notify/links.js';

/** A recipient group of the digest and the lots it follows (no filter = every lot). */
export interface DigestGroup {
  name: string;
  /** Notification channel names. */
  to: string[];
  vendors?: string[];
  families?: string[];
  materials?: string[];
  sites?: string[];
}

export function follows(g: DigestGroup, lot: Pick<BoardLot, 'vendor' | 'productFamily' | 'materialId' | 'site'>): boolean {
  const ok = (list: string[] | undefined, v: string | null) => !list || list.length === 0 || (v !== null && list.includes(v));
  return ok(g.vendors, lot.vendor) && ok(g.families, lot.productFamily) && ok(g.materials, lot.materialId) && ok(g.sites, lot.site);
}

/** Per lot key (`materialId/lotNumber`): the state before the first change in the window and when it last changed. */
export function changesByLot(rows: AuditRow[]): Map<string, { previousState: ReadinessState | null; changedAt: string }> {
  const out = new Map<string, { previousState: ReadinessState | null; changedAt: string }>();
  for (const r of rows) {
    if (r.action !== 'lot.readiness_changed') continue;
    const lot = parseLotSubject(r.subject);
    if (!lot) continue;
    const k = `${lot.materialId}/${lot.lotNumber}`;
    const from = (r.details as { from?: { state?: ReadinessState } | null } | null)?.from?.state ?? null;
    const prev = out.get(k);
    out.set(k, { previousState: prev ? prev.previousState : from, changedAt: r.at });
  }
  return out;
}

export function digestLots(board: BoardLot[], changes: Map<string, { previousState: ReadinessState | null; changedAt: string }>, groups: DigestGroup[], links: Links): LotSummary[] {
  return board.map((l) => {
    const c = changes.get(`${l.materialId}/${l.lotNumber}`);
    return {
      materialId: l.materialId,
      lotNumber: l.lotNumber,
      description: l.description,
      vendor: l.vendor,
      state: l.state,
      // A lot that changed and came back to where it started did not change for the reader.
      previousState: c ? c.previousState : l.state,
      changedAt: c?.changedAt ?? null,
      late: l.late,
      lateStages: l.readiness.lateStages ?? [],
      reasons: l.readiness.reasons.map((r) => ({ code: r.code, message: r.message })),
      link: links.lot(l.materialId, l.lotNumber),
      groups: groups.filter((g) => follows(g, l)).map((g) => g.name),
    };
  });
}
