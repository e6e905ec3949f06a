// The board's extra columns for a page of lots: last evidence received, deviations, documents
// have / need, push status per connector, the latest signed disposition. Lots outside `access`
// are left out, exactly as if they did not exist.

import type { LotgateConfig } from '../config/config.js';
import { resolveRuleSet } from '../readiness/rule-set.js';
import type { Access, LotPush, Store } from '../store/store.js';

export interface LotExtras {
  lotId: number;
  lastEvidenceAt: string | null;
  /** The PO line the lot fulfils and its confirmed (else planned) receipt date: the due date. */
  po: { poNumber: string; poItem: string; dueDate: string | null } | null;
  deviations: { open: number; total: number };
  documents: { have: string[]; need: string[] };
  pushes: Omit<LotPush, 'key'>[];
  signature: { decision: string; meaning: string; printedName: string; signedAt: string; valid: boolean } | null;
}

export async function lotExtras(store: Store, config: Pick<LotgateConfig, 'readiness'>, access: Access, ids: number[]): Promise<LotExtras[]> {
  const received = new Map<number, string | null>();
  const receivedAt = async (id: number) => {
    if (!received.has(id)) received.set(id, (await store.ledger.getSubmission(id))?.receivedAt ?? null);
    return received.get(id)!;
  };
  const out: (LotExtras & { key: string })[] = [];
  for (const id of [...new Set(ids)]) {
    if ((await store.reads.lotIdInScope(access, id)) === undefined) continue;
    const d = await store.reads.getLotDetailById(id);
    if (!d) continue;
    const rules = resolveRuleSet(config.readiness, d.material ?? { materialId: d.lot.materialId });
    const subs = new Set<number>();
    for (const r of [...d.stageEvents, ...d.tests, ...d.documents, ...d.deviations, ...d.identifiers] as { submissionId?: number | null }[]) {
      if (typeof r.submissionId === 'number') subs.add(r.submissionId);
    }
    let last: string | null = null;
    for (const s of subs) {
      const at = await receivedAt(s);
      if (at && (!last || at > last)) last = at;
    }
    const sigs = await store.auth.listLotSignatures(id);
    const sig = sigs[sigs.length - 1];
    out.push({
      key: `${d.lot.materialId}/${d.lot.lotNumber}`,
      lotId: id,
      lastEvidenceAt: last,
      po: d.plannedReceipt ? { poNumber: d.plannedReceipt.poNumber, poItem: d.plannedReceipt.poItem, dueDate: d.plannedReceipt.confirmedDate ?? d.plannedReceipt.plannedDate ?? null } : null,
      deviations: { open: d.deviations.filter((x) => x.status === 'open' || x.status === 'investigation').length, total: d.deviations.length },
      documents: { have: [...new Set(d.documents.map((x) => x.type))].sort(), need: [...rules.requiredDocuments] },
      pushes: [],
      signature: sig ? { decision: sig.decision, meaning: sig.meaning, printedName: sig.printedName, signedAt: sig.signedAt, valid: sig.invalidatedAt === null } : null,
    });
  }
  const pushes = await store.board.latestPushes(out.map((x) => x.key));
  return out.map(({ key, ...x }) => ({ ...x, pushes: (pushes.get(key) ?? []).map(({ key: _k, ...p }) => p) }));
}
