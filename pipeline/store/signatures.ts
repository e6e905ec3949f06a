// Electronic signatures and their single-use challenges (rows only; pipeline/sign decides).

import type { Sql } from './sql.js';

export interface SignatureRow {
  id: number;
  kind: 'lot_disposition' | 'submission_review';
  lotId: number | null;
  submissionId: number | null;
  principalId: number;
  printedName: string;
  signedAt: string;
  timeZone: string;
  localTime: string;
  meaning: string;
  decision: string;
  record: string;
  recordHash: string;
  evidenceHash: string;
  auditSeq: number | null;
  invalidatedAt: string | null;
  invalidatedBySubmission: number | null;
  invalidatedReason: string | null;
}

export interface Db {
  id: number;
  kind: SignatureRow['kind'];
  lot_id: number | null;
  submission_id: number | null;
  principal_id: number;
  printed_name: string;
  signed_at: string;
  time_zone: string;
  local_time: string;
  meaning: string;
  decision: string;
  record: string;
  record_hash: string;
  evidence_hash: string;
  audit_seq: number | null;
  invalidated_at: string | null;
  invalidated_by_submission: number | null;
  invalidated_reason: string | null;
}

export const toRow = (r: Db): SignatureRow => ({
  id: r.id,
  kind: r.kind,
  lotId: r.lot_id,
  submissionId: r.submission_id,
  principalId: r.principal_id,
  printedName: r.printed_name,
  signedAt: r.signed_at,
  timeZone: r.time_zone,
  localTime: r.local_time,
  meaning: r.meaning,
  decision: r.decision,
  record: r.record,
  recordHash: r.record_hash,
  evidenceHash: r.evidence_hash,
  auditSeq: r.audit_seq,
  invalidatedAt: r.invalidated_at,
  invalidatedBySubmission: r.invalidated_by_submission,
  invalidatedReason: r.invalidated_reason,
});

export function insertSignature(sql: Sql, s: Omit<SignatureRow, 'id' | 'invalidatedAt' | 'invalidatedBySubmission' | 'invalidatedReason'>): number {
  return Number(
    sql
      .q(
        `INSERT INTO signatures (kind, lot_id, submission_id, principal_id, printed_name, signed_at, time_zone, local_time, meaning, decision, record, record_hash, evidence_hash, audit_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.kind, s.lotId, s.submissionId, s.principalId, s.printedName, s.signedAt, s.timeZone, s.localTime, s.meaning, s.decision, s.record, s.recordHash, s.evidenceHash, s.auditSeq).lastInsertRowid,
  );
}

export function listLotSignatures(sql: Sql, lotId: number): SignatureRow[] {
  return (sql.q('SELECT * FROM signatures WHERE lot_id = ? ORDER BY signed_at, id').all(lotId) as Db[]).map(toRow);
}

export function listAllSignatures(sql: Sql): SignatureRow[] {
  return (sql.q('SELECT * FROM signatures ORDER BY id').all() as Db[]).map(toRow);
}

export function listValidLotSignatures(sql: Sql, lotId: number): SignatureRow[] {
  return (sql.q('SELECT * FROM signatures WHERE lot_id = ? AND invalidated_at IS NULL ORDER BY id').all(lotId) as Db[]).map(toRow);
}

export function invalidateSignature(sql: Sql, id: number, submissionId: number | null, reason: string): boolean {
  return sql.q('UPDATE signatures SET invalidated_at = ?, invalidated_by_submission = ?, invalidated_reason = ? WHERE id = ? AND invalidated_at IS NULL').run(sql.now(), submissionId, reason, id).changes === 1;
}

export function insertChallenge(sql: Sql, c: { id: string; principalId: number; subject: string; recordHash: string; decision: string; meaning: string; expiresAt: string }): void {
  sql
    .q('INSERT INTO signing_challenges (id, principal_id, subject, record_hash, decision, meaning, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(c.id, c.principalId, c.subject, c.recordHash, c.decision, c.meaning, sql.now(), c.expiresAt);
}

/** Takes the challenge (single use); undefined when unknown, used, expired or someone else's. */
export function takeChallenge(sql: Sql, id: string, principalId: number, now: string): { subject: string; recordHash: string; decision: string; meaning: string } | undefined {
  const r = sql
    .q('UPDATE signing_challenges SET used_at = ? WHERE id = ? AND principal_id = ? AND used_at IS NULL AND expires_at > ? RETURNING subject, record_hash, decision, meaning')
    .get(now, id, principalId, now) as { subject: string; record_hash: string; decision: string; meaning: string } | undefined;
  return r && { subject: r.subject, recordHash: r.record_hash, decision: r.decision, meaning: r.meaning };
}

export function noteSessionSigned(sql: Sql, sessionHash: string, at: string): void {
  sql.q('UPDATE sessions SET last_signed_at = ? WHERE id_hash = ?').run(at, sessionHash);
}

export function sessionHasSigned(sql: Sql, sessionHash: string): boolean {
  return (sql.q('SELECT last_signed_at FROM sessions WHERE id_hash = ?').get(sessionHash) as { last_signed_at: string | null } | undefined)?.last_signed_at != null;
}

/** sha256 of each submission (evidence lists name the source file's hash). */
export function submissionShas(sql: Sql, ids: number[]): Map<number, string> {
  const out = new Map<number, string>();
  if (!ids.length) return out;
  for (const r of sql.q('SELECT id, sha256 FROM submissions WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify(ids)) as { id: number; sha256: string }[]) out.set(r.id, r.sha256);
  return out;
}
