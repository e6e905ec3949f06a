// The auth area of the async store: principals, role bindings, recovery codes, sessions, service
// tokens, API submissions (Idempotency-Key) and Part 11 signatures with their signing challenges.
// One implementation for both dialects (db/db.ts); the rows and their mappers are auth-rows.ts.
//
// Every single-use or counting write is ONE conditional statement (compare-and-set in the WHERE,
// or `x = x + 1 … RETURNING`), never a read followed by a write: that is what keeps a TOTP step,
// a recovery code or a signing challenge single-use, and the failed-login count exact, when
// several processes on several machines share the database. On PostgreSQL (READ COMMITTED) a
// second UPDATE of the same row waits for the first and re-checks its WHERE on the new row.

import { chunks, marks, rowMarks, type Db } from '../db/db.js';
import {
  dimText,
  PRINCIPAL_COLUMNS,
  toBinding,
  toPrincipal,
  type BindingDb,
  type PrincipalDb,
  type PrincipalKind,
  type PrincipalRow,
  type RoleBindingRow,
  toSession,
  toSignature,
  toToken,
  type ServiceTokenRow,
  type SessionDb,
  type SessionRow,
  type SignatureDb,
  type SignatureRow,
  type TokenDb,
} from './auth-rows.js';
import type { Scope } from '../scope.js';

export type { PrincipalKind, PrincipalRow, RoleBindingRow, ServiceTokenRow, SessionRow, SignatureRow };

/** What a signing challenge binds the ceremony to (takeChallenge's answer). */
export interface TakenChallenge {
  subject: string;
  recordHash: string;
  decision: string;
  meaning: string;
}

export interface AuthArea {
  /** The store's clock, as the one instant string form. */
  now(): string;

  // ---- principals, role bindings, recovery codes
  insertPrincipal(p: { kind: PrincipalKind; username: string; displayName: string; email?: string | null; partner?: string | null; passwordHash?: string | null }): Promise<number>;
  getPrincipal(id: number): Promise<PrincipalRow | undefined>;
  getPrincipalByName(username: string): Promise<PrincipalRow | undefined>;
  listPrincipals(): Promise<PrincipalRow[]>;
  updatePrincipal(id: number, patch: Partial<PrincipalRow>): Promise<void>;
  /** Counts a failed login; returns the new count (exact under concurrent failures). */
  noteLoginFailure(id: number): Promise<number>;
  /** Accepts TOTP time step `step` only if newer than the last accepted one (once, across processes). */
  acceptTotpStep(id: number, step: number): Promise<boolean>;
  /** The new binding's id; null when the same binding exists already. */
  addRoleBinding(b: { principalId: number; role: string; scope: Scope; createdBy: string }): Promise<number | null>;
  removeRoleBinding(principalId: number, role: string): Promise<number>;
  listRoleBindings(principalId?: number): Promise<RoleBindingRow[]>;
  replaceRecoveryCodes(principalId: number, hashes: string[]): Promise<void>;
  /** Marks the unused recovery code with this hash used; false when there is none (used or wrong). */
  useRecoveryCode(principalId: number, hash: string): Promise<boolean>;
  countRecoveryCodesLeft(principalId: number): Promise<number>;

  // ---- sessions, service tokens, API submissions
  insertSession(s: Omit<SessionRow, 'revokedAt' | 'revokedReason' | 'lastSeenAt'>): Promise<void>;
  getSession(idHash: string): Promise<SessionRow | undefined>;
  touchSession(idHash: string, at: string): Promise<void>;
  updateSessionStage(idHash: string, stage: 'full' | 'enrol', mfaAt: string | null): Promise<void>;
  /** True when this call revoked it (false: unknown or revoked already). */
  revokeSession(idHash: string, reason: string): Promise<boolean>;
  /** Revokes the principal's live sessions; returns how many. */
  revokeSessionsOf(principalId: number, reason: string): Promise<number>;
  listSessionsOf(principalId: number): Promise<SessionRow[]>;
  insertServiceToken(t: { principalId: number; name: string; prefix: string; tokenHash: string; createdBy: string; expiresAt: string }): Promise<number>;
  getServiceTokenByHash(hash: string): Promise<ServiceTokenRow | undefined>;
  getServiceToken(id: number): Promise<ServiceTokenRow | undefined>;
  noteTokenUse(id: number, at: string, ip: string | null): Promise<void>;
  /** True when this call revoked it (false: unknown or revoked already). */
  revokeServiceToken(id: number): Promise<boolean>;
  listServiceTokens(principalId?: number): Promise<ServiceTokenRow[]>;
  findApiSubmission(principalId: number, key: string): Promise<number | undefined>;
  /** Rejects when the principal's Idempotency-Key is taken already (the unique index decides). */
  insertApiSubmission(submissionId: number, principalId: number, key: string | null): Promise<void>;

  // ---- electronic signatures and signing challenges
  insertSignature(s: Omit<SignatureRow, 'id' | 'invalidatedAt' | 'invalidatedBySubmission' | 'invalidatedReason'>): Promise<number>;
  listLotSignatures(lotId: number): Promise<SignatureRow[]>;
  listAllSignatures(): Promise<SignatureRow[]>;
  listValidLotSignatures(lotId: number): Promise<SignatureRow[]>;
  /** Which of these lots have any signature (valid or invalidated). */
  signedLots(lotIds: readonly number[]): Promise<Set<number>>;
  /** True when this call invalidated it (false: unknown or invalidated already). */
  invalidateSignature(id: number, submissionId: number | null, reason: string): Promise<boolean>;
  insertChallenge(c: { id: string; principalId: number; subject: string; recordHash: string; decision: string; meaning: string; expiresAt: string }): Promise<void>;
  /** Takes the challenge (single use); undefined when unknown, used, expired or someone else's. */
  takeChallenge(id: string, principalId: number, now: string): Promise<TakenChallenge | undefined>;
  noteSessionSigned(sessionHash: string, at: string): Promise<void>;
  sessionHasSigned(sessionHash: string): Promise<boolean>;
  /** sha256 of each submission (evidence lists name the source file's hash). */
  submissionShas(ids: number[]): Promise<Map<number, string>>;
}


/** The id of the row an INSERT … RETURNING id wrote. */
function insertedId(rows: Record<string, unknown>[]): number {
  return Number(rows[0]!.id);
}

function principalsPart(db: Db): Pick<AuthArea, 'insertPrincipal' | 'getPrincipal' | 'getPrincipalByName' | 'listPrincipals' | 'updatePrincipal' | 'noteLoginFailure' | 'acceptTotpStep'> {
  return {
    async insertPrincipal(p) {
      const now = db.now();
      const r = await db.run(
        'INSERT INTO principals (kind, username, display_name, email, partner, password_hash, password_set_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
        [p.kind, p.username, p.displayName, p.email ?? null, p.partner ?? null, p.passwordHash ?? null, p.passwordHash ? now : null, now],
      );
      return insertedId(r.rows);
    },

    async getPrincipal(id) {
      const r = await db.get<PrincipalDb>('SELECT * FROM principals WHERE id = ?', [id]);
      return r && toPrincipal(r);
    },

    async getPrincipalByName(username) {
      const r = await db.get<PrincipalDb>('SELECT * FROM principals WHERE username = ?', [username]);
      return r && toPrincipal(r);
    },

    async listPrincipals() {
      // username is unique: the order is complete.
      return (await db.all<PrincipalDb>('SELECT * FROM principals ORDER BY username')).map(toPrincipal);
    },

    async updatePrincipal(id, patch) {
      // Only known columns are written (PRINCIPAL_COLUMNS is the whitelist), so the SQL text never carries input.
      const keys = Object.keys(patch).filter((k) => k in PRINCIPAL_COLUMNS);
      if (!keys.length) return;
      const values = keys.map((k) => (patch as Record<string, unknown>)[k] ?? null);
      await db.run(`UPDATE principals SET ${keys.map((k) => `${PRINCIPAL_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`, [...values, id]);
    },

    async noteLoginFailure(id) {
      // One statement: concurrent failures each see their own count, none is lost.
      const r = await db.run('UPDATE principals SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins', [id]);
      if (!r.rows.length) throw new Error(`no principal ${id}`);
      return Number(r.rows[0]!.failed_logins);
    },

    async acceptTotpStep(id, step) {
      const r = await db.run('UPDATE principals SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)', [step, id, step]);
      return r.changes === 1;
    },
  };
}

function bindingsPart(db: Db): Pick<AuthArea, 'addRoleBinding' | 'removeRoleBinding' | 'listRoleBindings' | 'replaceRecoveryCodes' | 'useRecoveryCode' | 'countRecoveryCodesLeft'> {
  return {
    async addRoleBinding(b) {
      const r = await db.run(
        'INSERT INTO role_bindings (principal_id, role, sites, materials, partners, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
        [b.principalId, b.role, dimText(b.scope.sites), dimText(b.scope.materials), dimText(b.scope.partners), db.now(), b.createdBy],
      );
      return r.rows.length ? insertedId(r.rows) : null;
    },

    async removeRoleBinding(principalId, role) {
      return (await db.run('DELETE FROM role_bindings WHERE principal_id = ? AND role = ?', [principalId, role])).changes;
    },

    async listRoleBindings(principalId) {
      const rows =
        principalId === undefined
          ? await db.all<BindingDb>('SELECT * FROM role_bindings ORDER BY principal_id, id')
          : await db.all<BindingDb>('SELECT * FROM role_bindings WHERE principal_id = ? ORDER BY id', [principalId]);
      return rows.map(toBinding);
    },

    async replaceRecoveryCodes(principalId, hashes) {
      // Its own transaction (a savepoint inside the caller's): never a principal with half a set.
      await db.transaction(async (tx) => {
        await tx.run('DELETE FROM recovery_codes WHERE principal_id = ?', [principalId]);
        const now = tx.now();
        for (const part of chunks(hashes)) {
          await tx.run(
            `INSERT INTO recovery_codes (principal_id, code_hash, created_at) VALUES ${rowMarks(part.length, 3)}`,
            part.flatMap((h) => [principalId, h, now]),
          );
        }
      });
    },

    async useRecoveryCode(principalId, hash) {
      // Compare-and-set on used_at: of two racing uses, one changes the row, the other finds it used.
      const r = await db.run('UPDATE recovery_codes SET used_at = ? WHERE principal_id = ? AND code_hash = ? AND used_at IS NULL', [db.now(), principalId, hash]);
      return r.changes === 1;
    },

    async countRecoveryCodesLeft(principalId) {
      const r = await db.get<{ n: number }>('SELECT count(*) AS n FROM recovery_codes WHERE principal_id = ? AND used_at IS NULL', [principalId]);
      return Number(r?.n ?? 0);
    },
  };
}

function sessionsPart(db: Db): Pick<AuthArea, 'insertSession' | 'getSession' | 'touchSession' | 'updateSessionStage' | 'revokeSession' | 'revokeSessionsOf' | 'listSessionsOf'> {
  return {
    async insertSession(s) {
      await db.run(
        'INSERT INTO sessions (id_hash, principal_id, created_at, last_seen_at, expires_at, mfa_at, stage, csrf_token, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [s.idHash, s.principalId, s.createdAt, s.createdAt, s.expiresAt, s.mfaAt, s.stage, s.csrfToken, s.ip, s.userAgent],
      );
    },

    async getSession(idHash) {
      const r = await db.get<SessionDb>('SELECT * FROM sessions WHERE id_hash = ?', [idHash]);
      return r && toSession(r);
    },

    async touchSession(idHash, at) {
      await db.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [at, idHash]);
    },

    async updateSessionStage(idHash, stage, mfaAt) {
      // Branch in JS rather than coalesce(?, mfa_at): no untyped NULL parameter for PostgreSQL.
      if (mfaAt === null) await db.run('UPDATE sessions SET stage = ? WHERE id_hash = ?', [stage, idHash]);
      else await db.run('UPDATE sessions SET stage = ?, mfa_at = ? WHERE id_hash = ?', [stage, mfaAt, idHash]);
    },

    async revokeSession(idHash, reason) {
      const r = await db.run('UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id_hash = ? AND revoked_at IS NULL', [db.now(), reason, idHash]);
      return r.changes === 1;
    },

    async revokeSessionsOf(principalId, reason) {
      const now = db.now();
      const r = await db.run('UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE principal_id = ? AND revoked_at IS NULL AND expires_at > ?', [now, reason, principalId, now]);
      return r.changes;
    },

    async listSessionsOf(principalId) {
      // id_hash breaks ties of created_at: PostgreSQL has no implicit order.
      return (await db.all<SessionDb>('SELECT * FROM sessions WHERE principal_id = ? ORDER BY created_at DESC, id_hash DESC', [principalId])).map(toSession);
    },
  };
}

function tokensPart(db: Db): Pick<AuthArea, 'insertServiceToken' | 'getServiceTokenByHash' | 'getServiceToken' | 'noteTokenUse' | 'revokeServiceToken' | 'listServiceTokens' | 'findApiSubmission' | 'insertApiSubmission'> {
  return {
    async insertServiceToken(t) {
      const r = await db.run(
        'INSERT INTO service_tokens (principal_id, name, prefix, token_hash, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
        [t.principalId, t.name, t.prefix, t.tokenHash, db.now(), t.createdBy, t.expiresAt],
      );
      return insertedId(r.rows);
    },

    async getServiceTokenByHash(hash) {
      const r = await db.get<TokenDb>('SELECT * FROM service_tokens WHERE token_hash = ?', [hash]);
      return r && toToken(r);
    },

    async getServiceToken(id) {
      const r = await db.get<TokenDb>('SELECT * FROM service_tokens WHERE id = ?', [id]);
      return r && toToken(r);
    },

    async noteTokenUse(id, at, ip) {
      await db.run('UPDATE service_tokens SET last_used_at = ?, last_ip = ? WHERE id = ?', [at, ip, id]);
    },

    async revokeServiceToken(id) {
      const r = await db.run('UPDATE service_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [db.now(), id]);
      return r.changes === 1;
    },

    async listServiceTokens(principalId) {
      const rows =
        principalId === undefined
          ? await db.all<TokenDb>('SELECT * FROM service_tokens ORDER BY id')
          : await db.all<TokenDb>('SELECT * FROM service_tokens WHERE principal_id = ? ORDER BY id', [principalId]);
      return rows.map(toToken);
    },

    async findApiSubmission(principalId, key) {
      const r = await db.get<{ submission_id: number }>('SELECT submission_id FROM api_submissions WHERE principal_id = ? AND idempotency_key = ?', [principalId, key]);
      return r === undefined ? undefined : Number(r.submission_id);
    },

    async insertApiSubmission(submissionId, principalId, key) {
      // No ON CONFLICT on purpose: the caller learns from the rejection that the key raced in
      // from another request and answers with the first submission (routes-submissions.ts).
      await db.run('INSERT INTO api_submissions (submission_id, principal_id, idempotency_key, created_at) VALUES (?, ?, ?, ?)', [submissionId, principalId, key, db.now()]);
    },
  };
}

function signaturesPart(db: Db): Pick<AuthArea, 'insertSignature' | 'listLotSignatures' | 'listAllSignatures' | 'listValidLotSignatures' | 'signedLots' | 'invalidateSignature'> {
  return {
    async insertSignature(s) {
      const r = await db.run(
        `INSERT INTO signatures (kind, lot_id, submission_id, principal_id, printed_name, signed_at, time_zone, local_time, meaning, decision, record, record_hash, evidence_hash, audit_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        [s.kind, s.lotId, s.submissionId, s.principalId, s.printedName, s.signedAt, s.timeZone, s.localTime, s.meaning, s.decision, s.record, s.recordHash, s.evidenceHash, s.auditSeq],
      );
      return insertedId(r.rows);
    },

    async listLotSignatures(lotId) {
      return (await db.all<SignatureDb>('SELECT * FROM signatures WHERE lot_id = ? ORDER BY signed_at, id', [lotId])).map(toSignature);
    },

    async listAllSignatures() {
      return (await db.all<SignatureDb>('SELECT * FROM signatures ORDER BY id')).map(toSignature);
    },

    async listValidLotSignatures(lotId) {
      return (await db.all<SignatureDb>('SELECT * FROM signatures WHERE lot_id = ? AND invalidated_at IS NULL ORDER BY id', [lotId])).map(toSignature);
    },

    async signedLots(lotIds) {
      const out = new Set<number>();
      for (const part of chunks(lotIds)) {
        for (const r of await db.all<{ lot_id: number }>(`SELECT DISTINCT lot_id FROM signatures WHERE lot_id IN (${marks(part)})`, part)) out.add(Number(r.lot_id));
      }
      return out;
    },

    async invalidateSignature(id, submissionId, reason) {
      const r = await db.run(
        'UPDATE signatures SET invalidated_at = ?, invalidated_by_submission = ?, invalidated_reason = ? WHERE id = ? AND invalidated_at IS NULL',
        [db.now(), submissionId, reason, id],
      );
      return r.changes === 1;
    },
  };
}

function challengesPart(db: Db): Pick<AuthArea, 'insertChallenge' | 'takeChallenge' | 'noteSessionSigned' | 'sessionHasSigned' | 'submissionShas'> {
  return {
    async insertChallenge(c) {
      await db.run('INSERT INTO signing_challenges (id, principal_id, subject, record_hash, decision, meaning, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        c.id,
        c.principalId,
        c.subject,
        c.recordHash,
        c.decision,
        c.meaning,
        db.now(),
        c.expiresAt,
      ]);
    },

    async takeChallenge(id, principalId, now) {
      // Taken and read in one statement: of two racing takes, only one gets the row back.
      const r = await db.run(
        'UPDATE signing_challenges SET used_at = ? WHERE id = ? AND principal_id = ? AND used_at IS NULL AND expires_at > ? RETURNING subject, record_hash, decision, meaning',
        [now, id, principalId, now],
      );
      const row = r.rows[0] as { subject: string; record_hash: string; decision: string; meaning: string } | undefined;
      return row && { subject: row.subject, recordHash: row.record_hash, decision: row.decision, meaning: row.meaning };
    },

    async noteSessionSigned(sessionHash, at) {
      await db.run('UPDATE sessions SET last_signed_at = ? WHERE id_hash = ?', [at, sessionHash]);
    },

    async sessionHasSigned(sessionHash) {
      const r = await db.get<{ last_signed_at: string | null }>('SELECT last_signed_at FROM sessions WHERE id_hash = ?', [sessionHash]);
      return r?.last_signed_at != null;
    },

    async submissionShas(ids) {
      // IN lists of at most 500 ids (both dialects' parameter limits).
      const out = new Map<number, string>();
      for (const part of chunks([...new Set(ids)])) {
        for (const r of await db.all<{ id: number; sha256: string }>(`SELECT id, sha256 FROM submissions WHERE id IN (${marks(part)}) ORDER BY id`, part)) {
          out.set(Number(r.id), r.sha256);
        }
      }
      return out;
    },
  };
}

export function authArea(db: Db): AuthArea {
  return {
    now: () => db.now(),
    ...principalsPart(db),
    ...bindingsPart(db),
    ...sessionsPart(db),
    ...tokensPart(db),
    ...signaturesPart(db),
    ...challengesPart(db),
  };
}
