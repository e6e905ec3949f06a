// Signed review decisions: approving or rejecting a file held for review (partner in review
// mode) is signed like a disposition — the record (the submission's identity and the decision)
// is hashed, the signer re-authenticates, and the signature and its audit event carry the hash.

import { accessFor } from '../auth/permissions.js';
import type { AuthService } from '../auth/service.js';
import { canonicalJson } from '../store/canonical-json.js';
import type { Store } from '../store/store.js';
import { sha256Hex } from './record.js';
import { assertMaySign, manifest, SignError, type SignatureManifest } from './service.js';

export interface ReviewRecord {
  kind: 'submission_review';
  decision: 'approve' | 'reject';
  meaning: 'approval' | 'rejection';
  reason: string;
  submission: { id: number; partner: string; originalName: string; sha256: string; receivedAt: string; mappingName: string | null; mappingHash: string | null; rows: number; rejected: number };
}

export async function reviewRecord(store: Store, submissionId: number, decision: 'approve' | 'reject', reason: string): Promise<{ record: ReviewRecord; recordHash: string }> {
  const s = await store.ledger.getSubmission(submissionId);
  if (!s) throw new SignError('E_SIGN_NO_SUBMISSION', `no submission ${submissionId}`, 404);
  if (s.state !== 'pending_review') throw new SignError('E_SIGN_NOT_PENDING', `submission ${submissionId} is ${s.state}; only a file pending review can be approved or rejected`, 409);
  const record: ReviewRecord = {
    kind: 'submission_review',
    decision,
    meaning: decision === 'approve' ? 'approval' : 'rejection',
    reason,
    submission: { id: s.id, partner: s.partner, originalName: s.originalName, sha256: s.sha256, receivedAt: s.receivedAt, mappingName: s.mappingName, mappingHash: s.mappingHash, rows: s.rows, rejected: s.rejected },
  };
  return { record, recordHash: sha256Hex(canonicalJson(record)) };
}

/**
 * Re-authenticates `username` (password + TOTP), runs `decide` (the approval or rejection), and
 * when it changed the submission records the signature with its audit event.
 */
export async function signReview(
  deps: { store: Store; auth: AuthService; timeZone: string; now: () => Date },
  req: {
    username: string;
    submissionId: number;
    decision: 'approve' | 'reject';
    reason: string;
    password: string;
    totp?: string;
    /** The API's two steps: the record must still hash to what the challenge showed. */
    expectedRecordHash?: string;
    /** TOTP only with the first signature of a session (API); the CLI always asks. */
    needTotp?: boolean;
    ip?: string | null;
  },
  decide: (printedName: string) => Promise<{ changed: boolean }>,
): Promise<SignatureManifest | null> {
  const { store, auth } = deps;
  const p = await store.auth.getPrincipalByName(req.username);
  if (!p || p.disabledAt) throw new SignError('E_SIGN_SIGNER', `no active user "${req.username}"`, 404);
  const principal = await auth.principalOf(p);
  assertMaySign(principal);
  const access = accessFor(principal, 'submissions:review');
  if (access === null || !(await store.reads.getSubmissionScoped(access, req.submissionId))) {
    throw new SignError('E_SIGN_NOT_ALLOWED', `${req.username} may not sign review decisions on submission ${req.submissionId} (needs the qa role for its partner and lots)`, 403);
  }
  const { record, recordHash } = await reviewRecord(store, req.submissionId, req.decision, req.reason);
  if (req.expectedRecordHash !== undefined && req.expectedRecordHash !== recordHash) {
    throw new SignError('E_SIGN_RECORD_CHANGED', 'the submission changed since the challenge was issued: review it again and request a new challenge', 409);
  }
  await auth.reauthenticate(p.id, { password: req.password, totp: req.totp, needTotp: req.needTotp ?? true, ip: req.ip });
  const d = await decide(p.displayName);
  if (!d.changed) return null;
  const now = deps.now();
  const signedAt = now.toISOString();
  const { DateTime } = await import('luxon');
  const localTime = DateTime.fromJSDate(now).setZone(deps.timeZone).toFormat('yyyy-LL-dd HH:mm:ss ZZ');
  const id = await store.transaction(async (tx) => {
    const ev = await tx.audit.appendAudit({
      actor: `principal:${p.id}`,
      action: 'signature.applied',
      subject: `submission:${req.submissionId}`,
      at: signedAt,
      details: { kind: 'submission_review', printedName: p.displayName, signedAt, timeZone: deps.timeZone, localTime, meaning: record.meaning, decision: record.decision, recordHash, record },
    });
    return tx.auth.insertSignature({
      kind: 'submission_review',
      lotId: null,
      submissionId: req.submissionId,
      principalId: p.id,
      printedName: p.displayName,
      signedAt,
      timeZone: deps.timeZone,
      localTime,
      meaning: record.meaning,
      decision: record.decision,
      record: JSON.stringify(record),
      recordHash,
      evidenceHash: sha256Hex(canonicalJson(record.submission)),
      auditSeq: ev.seq,
    });
  });
  return manifest((await store.auth.listAllSignatures()).find((s) => s.id === id)!, p.username);
}
