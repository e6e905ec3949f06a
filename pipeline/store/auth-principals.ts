// Principals, their role bindings and recovery codes. Hashing and checks live in pipeline/auth;
// these functions only read and write rows.

import { parseJson, type Sql } from './sql.js';
import type { Scope, ScopeDim } from './scope.js';

export type PrincipalKind = 'user' | 'partner_user' | 'service';

export interface PrincipalRow {
  id: number;
  kind: PrincipalKind;
  username: string;
  displayName: string;
  email: string | null;
  partner: string | null;
  passwordHash: string | null;
  passwordSetAt: string | null;
  resetCodeHash: string | null;
  resetExpiresAt: string | null;
  totpSecret: string | null;
  totpEnrolledAt: string | null;
  totpLastStep: number | null;
  failedLogins: number;
  lockedUntil: string | null;
  disabledAt: string | null;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface RoleBindingRow {
  id: number;
  principalId: number;
  role: string;
  scope: Scope;
  createdAt: string;
  createdBy: string;
}

export interface PrincipalDb {
  id: number;
  kind: PrincipalKind;
  username: string;
  display_name: string;
  email: string | null;
  partner: string | null;
  password_hash: string | null;
  password_set_at: string | null;
  reset_code_hash: string | null;
  reset_expires_at: string | null;
  totp_secret: string | null;
  totp_enrolled_at: string | null;
  totp_last_step: number | null;
  failed_logins: number;
  locked_until: string | null;
  disabled_at: string | null;
  last_login_at: string | null;
  created_at: string;
}

export function toPrincipal(r: PrincipalDb): PrincipalRow {
  return {
    id: r.id,
    kind: r.kind,
    username: r.username,
    displayName: r.display_name,
    email: r.email,
    partner: r.partner,
    passwordHash: r.password_hash,
    passwordSetAt: r.password_set_at,
    resetCodeHash: r.reset_code_hash,
    resetExpiresAt: r.reset_expires_at,
    totpSecret: r.totp_secret,
    totpEnrolledAt: r.totp_enrolled_at,
    totpLastStep: r.totp_last_step,
    failedLogins: r.failed_logins,
    lockedUntil: r.locked_until,
    disabledAt: r.disabled_at,
    lastLoginAt: r.last_login_at,
    createdAt: r.created_at,
  };
}

export function insertPrincipal(
  sql: Sql,
  p: { kind: PrincipalKind; username: string; displayName: string; email?: string | null; partner?: string | null; passwordHash?: string | null },
): number {
  const now = sql.now();
  return Number(
    sql
      .q(`INSERT INTO principals (kind, username, display_name, email, partner, password_hash, password_set_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(p.kind, p.username, p.displayName, p.email ?? null, p.partner ?? null, p.passwordHash ?? null, p.passwordHash ? now : null, now).lastInsertRowid,
  );
}

export function getPrincipal(sql: Sql, id: number): PrincipalRow | undefined {
  const r = sql.q('SELECT * FROM principals WHERE id = ?').get(id) as PrincipalDb | undefined;
  return r && toPrincipal(r);
}

export function getPrincipalByName(sql: Sql, username: string): PrincipalRow | undefined {
  const r = sql.q('SELECT * FROM principals WHERE username = ?').get(username) as PrincipalDb | undefined;
  return r && toPrincipal(r);
}

export function listPrincipals(sql: Sql): PrincipalRow[] {
  return (sql.q('SELECT * FROM principals ORDER BY username').all() as PrincipalDb[]).map(toPrincipal);
}

export const COLUMNS: Record<string, string> = {
  displayName: 'display_name',
  email: 'email',
  passwordHash: 'password_hash',
  passwordSetAt: 'password_set_at',
  resetCodeHash: 'reset_code_hash',
  resetExpiresAt: 'reset_expires_at',
  totpSecret: 'totp_secret',
  totpEnrolledAt: 'totp_enrolled_at',
  totpLastStep: 'totp_last_step',
  failedLogins: 'failed_logins',
  lockedUntil: 'locked_until',
  disabledAt: 'disabled_at',
  lastLoginAt: 'last_login_at',
};

export function updatePrincipal(sql: Sql, id: number, patch: Partial<PrincipalRow>): void {
  const keys = Object.keys(patch).filter((k) => k in COLUMNS);
  if (!keys.length) return;
  sql.q(`UPDATE principals SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`).run(...keys.map((k) => (patch as Record<string, unknown>)[k] ?? null), id);
}

/** Counts a failed login; returns the new count (atomic across processes). */
export function noteLoginFailure(sql: Sql, id: number): number {
  return (sql.q('UPDATE principals SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins').get(id) as { failed_logins: number }).failed_logins;
}

/**
 * Accepts TOTP time step `step` for the principal only if it is newer than the last accepted
 * one. The compare-and-set is one UPDATE, so two processes cannot both accept the same code.
 */
export function acceptTotpStep(sql: Sql, id: number, step: number): boolean {
  return sql.q('UPDATE principals SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)').run(step, id, step).changes === 1;
}

export const dimText = (d: ScopeDim) => JSON.stringify(d === '*' || d.includes('*') ? '*' : [...d].sort());

export function addRoleBinding(sql: Sql, b: { principalId: number; role: string; scope: Scope; createdBy: string }): number | null {
  const r = sql
    .q(`INSERT INTO role_bindings (principal_id, role, sites, materials, partners, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
    .run(b.principalId, b.role, dimText(b.scope.sites), dimText(b.scope.materials), dimText(b.scope.partners), sql.now(), b.createdBy);
  return r.changes ? Number(r.lastInsertRowid) : null;
}

export function removeRoleBinding(sql: Sql, principalId: number, role: string): number {
  return sql.q('DELETE FROM role_bindings WHERE principal_id = ? AND role = ?').run(principalId, role).changes;
}

export interface BindingDb {
  id: number;
  principal_id: number;
  role: string;
  sites: string;
  materials: string;
  partners: string;
  created_at: string;
  created_by: string;
}

export function listRoleBindings(sql: Sql, principalId?: number): RoleBindingRow[] {
  const rows = (
    principalId === undefined ? sql.q('SELECT * FROM role_bindings ORDER BY principal_id, id').all() : sql.q('SELECT * FROM role_bindings WHERE principal_id = ? ORDER BY id').all(principalId)
  ) as BindingDb[];
  return rows.map(toBinding);
}

export const toBinding = (r: BindingDb): RoleBindingRow => ({
  id: r.id,
  principalId: r.principal_id,
  role: r.role,
  scope: { sites: parseJson<ScopeDim>(r.sites, []), materials: parseJson<ScopeDim>(r.materials, []), partners: parseJson<ScopeDim>(r.partners, []) },
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export function replaceRecoveryCodes(sql: Sql, principalId: number, hashes: string[]): void {
  sql.q('DELETE FROM recovery_codes WHERE principal_id = ?').run(principalId);
  const now = sql.now();
  for (const h of hashes) sql.q('INSERT INTO recovery_codes (principal_id, code_hash, created_at) VALUES (?, ?, ?)').run(principalId, h, now);
}

/** Marks the unused recovery code with this hash used; false when there is none (used or wrong). */
export function useRecoveryCode(sql: Sql, principalId: number, hash: string): boolean {
  return sql.q('UPDATE recovery_codes SET used_at = ? WHERE principal_id = ? AND code_hash = ? AND used_at IS NULL').run(sql.now(), principalId, hash).changes === 1;
}

export function countRecoveryCodesLeft(sql: Sql, principalId: number): number {
  return (sql.q('SELECT count(*) AS n FROM recovery_codes WHERE principal_id = ? AND used_at IS NULL').get(principalId) as { n: number }).n;
}
