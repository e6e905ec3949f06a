// What a lot-disposition signature covers (21 CFR 11.70: the signature is linked to its record):
// the decision and its meaning, the lot's identity, the readiness result with every rule's
// reasons and evidence, and every fact of the lot with the sha256 of the file it came from.
// The record hash is the sha256 of its canonical JSON; the evidence hash covers the facts only,
// so a later change of any fact (and only that) invalidates the signature.

import { createHash } from 'node:crypto';
import { canonicalJson } from '../store/canonical-json.js';
import type { Store } from '../store/store.js';

export const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

export type Decision = 'released' | 'rejected' | 'quarantine';
export const DECISIONS: Decision[] = ['released', 'rejected', 'quarantine'];
export const MEANINGS = ['release', 'rejection', 'quarantine', 'approval', 'review', 'responsibility'] as const;

export interface LotRecord {
  kind: 'lot_disposition';
  decision: string;
  meaning: string;
  lot: { materialId: string; lotNumber: string };
  readiness: { state: string; late: boolean; reasons: unknown[] } | null;
  evidence: Record<string, unknown>[];
}

/** The lot's facts as evidence items, each with its source file's sha256 (null for hand-entered facts). */
export async function lotEvidence(store: Store, lotId: number): Promise<Record<string, unknown>[] | undefined> {
  const d = await store.reads.getLotDetailById(lotId);
  if (!d) return undefined;
  const items: Record<string, unknown>[] = [{ kind: 'lot', ...d.lot }];
  if (d.material) items.push({ kind: 'material', ...d.material });
  if (d.plannedReceipt) items.push({ kind: 'planned_receipt', ...d.plannedReceipt });
  const withSub = (kind: string, rows: { submissionId?: number | null }[]) => rows.map((r) => ({ kind, ...r }));
  items.push(...withSub('identifier', d.identifiers), ...withSub('stage_event', d.stageEvents), ...withSub('test_result', d.tests), ...withSub('document', d.documents), ...withSub('deviation', d.deviations));
  // Decisions recorded in lotgate by a signature are not evidence for the next one; decisions partners sent are.
  const signed = new Set((await store.auth.listLotSignatures(lotId)).map((x) => x.signedAt));
  items.push(...d.dispositions.filter((x) => !signed.has(x.decidedAt)).map((x) => ({ kind: 'disposition', ...x })));
  const shas = await store.auth.submissionShas([...new Set(items.map((i) => i.submissionId).filter((x): x is number => typeof x === 'number'))]);
  return items.map((i) => ({ ...i, sha256: typeof i.submissionId === 'number' ? (shas.get(i.submissionId) ?? null) : null }));
}

export async function lotRecord(store: Store, lotId: number, decision: string, meaning: string): Promise<{ record: LotRecord; recordHash: string; evidenceHash: string } | undefined> {
  const evidence = await lotEvidence(store, lotId);
  const lot = await store.masterdata.getLotRow(lotId);
  if (!evidence || !lot) return undefined;
  const r = await store.readiness.getReadiness(lotId);
  const record: LotRecord = {
    kind: 'lot_disposition',
    decision,
    meaning,
    lot: { materialId: lot.materialId, lotNumber: lot.lotNumber },
    readiness: r ? { state: r.state, late: r.late, reasons: r.reasons } : null,
    evidence,
  };
  return { record, recordHash: sha256Hex(canonicalJson(record)), evidenceHash: sha256Hex(canonicalJson(evidence)) };
}
