// `audit verify` for signatures: each `signature.applied` event's record hash is recomputed from
// the record it carries (canonical JSON, sha256), and must equal the signature row's hash.

import { canonicalJson } from '../store/canonical-json.js';
import type { Store } from '../store/store.js';
import { sha256Hex } from './record.js';

export interface SignatureVerification {
  checked: number;
  bad: { seq: number; reason: string }[];
}

export async function verifySignatures(store: Store): Promise<SignatureVerification> {
  const events = await store.audit.listAudit({ action: 'signature.applied', limit: 1_000_000 });
  const bad: SignatureVerification['bad'] = [];
  const bySeq = new Map<number, string>();
  for (const e of events) {
    const d = e.details as { record?: unknown; recordHash?: string };
    const recomputed = sha256Hex(canonicalJson(d.record ?? null));
    if (recomputed !== d.recordHash) bad.push({ seq: e.seq, reason: `record hash ${d.recordHash} does not match its record (${recomputed})` });
    bySeq.set(e.seq, recomputed);
  }
  for (const s of await store.auth.listAllSignatures()) {
    if (s.auditSeq === null) continue;
    const h = bySeq.get(s.auditSeq);
    if (h === undefined) bad.push({ seq: s.auditSeq, reason: `signature ${s.id} names audit event ${s.auditSeq}, which is not a signature event` });
    else if (h !== s.recordHash) bad.push({ seq: s.auditSeq, reason: `signature ${s.id} has record hash ${s.recordHash}, its audit event ${h}` });
  }
  return { checked: events.length, bad };
}
