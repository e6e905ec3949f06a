// The rows of the auth area (auth.ts) and their mappers: principals and role bindings (hashing and
// checks live in pipeline/auth; the store only reads and writes rows), server-side sessions and
// service tokens (looked up by the sha256 of the secret the client holds; the secret itself is
// never stored), and electronic signatures (pipeline/sign decides).

import type { Scope, ScopeDim } from '../scope.js';
import { parseJson } from '../values.js';

// ---------------------------------------------------------------- principals and role bindings

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

/** camelCase field → column: the whitelist of what updatePrincipal may change. */
export const PRINCIPAL_COLUMNS: Record<string, string> = {
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

/** A scope dimension as stored: `"*"` or the sorted list. */
export const dimText = (d: ScopeDim) => JSON.stringify(d === '*' || d.includes('*') ? '*' : [...d].sort());

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

export const toBinding = (r: BindingDb): RoleBindingRow => ({
  id: r.id,
  principalId: r.principal_id,
  role: r.role,
  scope: { sites: parseJson<ScopeDim>(r.sites, []), materials: parseJson<ScopeDim>(r.materials, []), partners: parseJson<ScopeDim>(r.partners, []) },
  createdAt: r.created_at,
  createdBy: r.created_by,
});

// ---------------------------------------------------------------- sessions and service tokens

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

// ---------------------------------------------------------------- signatures

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

export interface SignatureDb {
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

export const toSignature = (r: SignatureDb): SignatureRow => ({
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
