// A signed lot whose facts change afterwards: the signature no longer covers what is on record,
// so it is marked invalidated (naming the submission that changed it) and the lot goes back to
// QA's queue (its lot view shows `awaitingSignature`). Runs inside the caller's transaction.

import { canonicalJson } from '../store/canonical-json.js';
import type { Store } from '../store/store.js';
import { lotEvidence, sha256Hex } from './record.js';

export async function invalidateChangedSignatures(store: Store, lotId: number, submissionId: number | null, actor: string): Promise<number> {
  const valid = await store.auth.listValidLotSignatures(lotId);
  if (!valid.length) return 0;
  const evidence = await lotEvidence(store, lotId);
  const hash = evidence ? sha256Hex(canonicalJson(evidence)) : null;
  let n = 0;
  for (const s of valid) {
    if (s.evidenceHash === hash) continue;
    const reason = submissionId !== null ? `a fact of the lot changed (submission ${submissionId})` : 'a fact of the lot changed';
    if (!(await store.auth.invalidateSignature(s.id, submissionId, reason))) continue;
    n++;
    const lot = await store.masterdata.getLotRow(lotId);
    await store.audit.appendAudit({
      actor,
      action: 'signature.invalidated',
      subject: lot ? `lot:${lot.materialId}/${lot.lotNumber}` : `lot-id:${lotId}`,
      details: { signatureId: s.id, signedBy: s.printedName, decision: s.decision, recordHash: s.recordHash, submissionId, reason, alert: true },
    });
  }
  return n;
}
