// Server-side sessions and service tokens. Both are looked up by the sha256 of the secret the
// client holds; the secret itself is never stored.

import type { Sql } from './sql.js';

export interface SessionRow {
  idHash: string;
  principalId: number;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  mfaAt: string | null;
  stage: 'full' | 'enrol';
  csrfToken: string;
  ip: string | null;
  userAgent: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
}

export interface SessionDb {
  id_hash: string;
  principal_id: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  mfa_at: string | null;
  stage: 'full' | 'enrol';
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export const toSession = (r: SessionDb): SessionRow => ({
  idHash: r.id_hash,
  principalId: r.principal_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  mfaAt: r.mfa_at,
  stage: r.stage,
  csrfToken: r.csrf_token,
  ip: r.ip,
  userAgent: r.user_agent,
  revokedAt: r.revoked_at,
  revokedReason: r.revoked_reason,
});

export function insertSession(sql: Sql, s: Omit<SessionRow, 'revokedAt' | 'revokedReason' | 'lastSeenAt'>): void {
  sql
    .q(`INSERT INTO sessions (id_hash, principal_id, created_at, last_seen_at, expires_at, mfa_at, stage, csrf_token, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(s.idHash, s.principalId, s.createdAt, s.createdAt, s.expiresAt, s.mfaAt, s.stage, s.csrfToken, s.ip, s.userAgent);
}

export function getSession(sql: Sql, idHash: string): SessionRow | undefined {
  const r = sql.q('SELECT * FROM sessions WHERE id_hash = ?').get(idHash) as SessionDb | undefined;
  return r && toSession(r);
}

export function touchSession(sql: Sql, idHash: string, at: string): void {
  sql.q('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(at, idHash);
}

export function updateSessionStage(sql: Sql, idHash: string, stage: 'full' | 'enrol', mfaAt: string | null): void {
  sql.q('UPDATE sessions SET stage = ?, mfa_at = coalesce(?, mfa_at) WHERE id_hash = ?').run(stage, mfaAt, idHash);
}

export function revokeSession(sql: Sql, idHash: string, reason: string): boolean {
  return sql.q('UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id_hash = ? AND revoked_at IS NULL').run(sql.now(), reason, idHash).changes === 1;
}

export function revokeSessionsOf(sql: Sql, principalId: number, reason: string): number {
  const now = sql.now();
  return sql.q('UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE principal_id = ? AND revoked_at IS NULL AND expires_at > ?').run(now, reason, principalId, now).changes;
}

export function listSessionsOf(sql: Sql, principalId: number): SessionRow[] {
  return (sql.q('SELECT * FROM sessions WHERE principal_id = ? ORDER BY created_at DESC').all(principalId) as SessionDb[]).map(toSession);
}

export interface ServiceTokenRow {
  id: number;
  principalId: number;
  name: string;
  prefix: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
  lastUsedAt: string | null;
  lastIp: string | null;
  revokedAt: string | null;
}

export interface TokenDb {
  id: number;
  principal_id: number;
  name: string;
  prefix: string;
  created_at: string;
  created_by: string;
  expires_at: string;
  last_used_at: string | null;
  last_ip: string | null;
  revoked_at: string | null;
}

export const toToken = (r: TokenDb): ServiceTokenRow => ({
  id: r.id,
  principalId: r.principal_id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  lastIp: r.last_ip,
  revokedAt: r.revoked_at,
});

export function insertServiceToken(sql: Sql, t: { principalId: number; name: string; prefix: string; tokenHash: string; createdBy: string; expiresAt: string }): number {
  return Number(
    sql
      .q('INSERT INTO service_tokens (principal_id, name, prefix, token_hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(t.principalId, t.name, t.prefix, t.tokenHash, sql.now(), t.createdBy, t.expiresAt).lastInsertRowid,
  );
}

export function getServiceTokenByHash(sql: Sql, hash: string): ServiceTokenRow | undefined {
  const r = sql.q('SELECT * FROM service_tokens WHERE token_hash = ?').get(hash) as TokenDb | undefined;
  return r && toToken(r);
}

export function getServiceToken(sql: Sql, id: number): ServiceTokenRow | undefined {
  const r = sql.q('SELECT * FROM service_tokens WHERE id = ?').get(id) as TokenDb | undefined;
  return r && toToken(r);
}

export function noteTokenUse(sql: Sql, id: number, at: string, ip: string | null): void {
  sql.q('UPDATE service_tokens SET last_used_at = ?, last_ip = ? WHERE id = ?').run(at, ip, id);
}

export function revokeServiceToken(sql: Sql, id: number): boolean {
  return sql.q('UPDATE service_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(sql.now(), id).changes === 1;
}

export function listServiceTokens(sql: Sql, principalId?: number): ServiceTokenRow[] {
  return (
    (principalId === undefined ? sql.q('SELECT * FROM service_tokens ORDER BY id').all() : sql.q('SELECT * FROM service_tokens WHERE principal_id = ? ORDER BY id').all(principalId)) as TokenDb[]
  ).map(toToken);
}

export function findApiSubmission(sql: Sql, principalId: number, key: string): number | undefined {
  const r = sql.q('SELECT submission_id FROM api_submissions WHERE principal_id = ? AND idempotency_key = ?').get(principalId, key) as { submission_id: number } | undefined;
  return r?.submission_id;
}

export function insertApiSubmission(sql: Sql, submissionId: number, principalId: number, key: string | null): void {
  sql.q('INSERT INTO api_submissions (submission_id, principal_id, idempotency_key, created_at) VALUES (?, ?, ?, ?)').run(submissionId, principalId, key, sql.now());
}

export function apiSubmissionOwner(sql: Sql, submissionId: number): number | undefined {
  return (sql.q('SELECT principal_id FROM api_submissions WHERE submission_id = ?').get(submissionId) as { principal_id: number } | undefined)?.principal_id;
}
