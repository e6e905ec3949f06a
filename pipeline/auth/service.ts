// Authentication: users and passwords, lockout, TOTP enrolment and replay refusal, sessions,
// service tokens, the access review. Everything is kept in the store, so any number of API
// processes share one truth (a TOTP step accepted here is refused everywhere), and every
// decision that matters is in the audit trail with the principal's id.

import type { AuditAction } from '../codes.js';
import type { LotgateConfig } from '../config/config.js';
import type { PartnerConfig } from '../model/types.js';
import type { PrincipalKind, PrincipalRow, ServiceTokenRow, Store } from '../store/store.js';
import type { Scope } from '../store/scope.js';
import { parseAuthorizedKeys } from '../sftp/keys.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { isRole, PARTNER_ROLES, ROLES, type Principal, type Role } from './permissions.js';
import { newRecoveryCode, newServiceToken, normaliseCode, randomToken, sha256 } from './secrets.js';
import { matchTotp, newTotpSecret, totpUri } from './totp.js';

export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface SessionInfo {
  token: string;
  csrfToken: string;
  stage: 'full' | 'enrol';
  expiresAt: string;
  principal: Principal;
}

export interface Authenticated {
  principal: Principal;
  via: 'session' | 'token';
  sessionHash?: string;
  stage?: 'full' | 'enrol';
  csrfToken?: string;
  tokenId?: number;
}

const RECOVERY_CODES = 10;
const TOKEN_USE_AUDIT_MS = 60_000;
const TOKEN_TOUCH_MS = 1000;

export class AuthService {
  constructor(
    private readonly store: Store,
    private readonly config: Pick<LotgateConfig, 'auth'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get a() {
    return this.store.auth;
  }

  /** Appends an audit event on `store` (the transaction's, when inside one). */
  private async audit(actor: string, action: AuditAction, subject: string | null, details: unknown, store: Store = this.store): Promise<void> {
    await store.audit.appendAudit({ actor, action, subject, details, at: this.now().toISOString() });
  }

  async principalOf(row: PrincipalRow): Promise<Principal> {
    return {
      id: row.id,
      username: row.username,
      displayName: row.displayName,
      kind: row.kind,
      partner: row.partner,
      bindings: (await this.a.listRoleBindings(row.id)).map((b) => ({ role: b.role, scope: b.scope })),
    };
  }

  // ------------------------------------------------------------------ users

  async addUser(u: { username: string; displayName: string; email?: string; kind: Exclude<PrincipalKind, 'service'>; partner?: string; password?: string }, by: string): Promise<PrincipalRow> {
    if (!/^[a-z0-9][a-z0-9._@-]{1,63}$/i.test(u.username)) throw new AuthError('E_AUTH_USERNAME', `user name "${u.username}" is not valid: 2–64 letters, digits, . _ @ -`);
    if (await this.a.getPrincipalByName(u.username)) throw new AuthError('E_AUTH_USER_EXISTS', `a principal named "${u.username}" already exists (see \`lotgate user list\`)`, 409);
    if (u.kind === 'partner_user' && !u.partner) throw new AuthError('E_AUTH_PARTNER_REQUIRED', 'a partner user is bound to exactly one partner: give --partner <id>');
    if (u.password !== undefined) {
      const why = passwordProblem(u.password);
      if (why) throw new AuthError('E_AUTH_PASSWORD_WEAK', why);
    }
    const passwordHash = u.password !== undefined ? await hashPassword(u.password) : null;
    const id = await this.store.transaction(async (tx) => {
      const id = await tx.auth.insertPrincipal({ kind: u.kind, username: u.username, displayName: u.displayName, email: u.email ?? null, partner: u.partner ?? null, passwordHash });
      await this.audit(by, 'auth.user.added', `principal:${id}`, { username: u.username, kind: u.kind, partner: u.partner ?? null }, tx);
      return id;
    });
    return (await this.a.getPrincipal(id))!;
  }

  async requirePrincipal(username: string): Promise<PrincipalRow> {
    const p = await this.a.getPrincipalByName(username);
    if (!p) throw new AuthError('E_AUTH_NO_USER', `no principal named "${username}" (see \`lotgate user list\`)`, 404);
    return p;
  }

  /** Sets a user's own password (the CLI on the server, or the user with the current one). */
  async setPassword(username: string, password: string, by: string): Promise<void> {
    const p = await this.requirePrincipal(username);
    const why = passwordProblem(password);
    if (why) throw new AuthError('E_AUTH_PASSWORD_WEAK', why);
    const h = await hashPassword(password);
    await this.store.transaction(async (tx) => {
      await tx.auth.updatePrincipal(p.id, { passwordHash: h, passwordSetAt: this.now().toISOString(), resetCodeHash: null, resetExpiresAt: null, failedLogins: 0, lockedUntil: null });
      await tx.auth.revokeSessionsOf(p.id, 'password changed');
      await this.audit(by, 'auth.password.set', `principal:${p.id}`, { username }, tx);
    });
  }

  /**
   * An administrator's reset: the old password stops working and a one-time code (valid 24 h)
   * is issued for the user to choose a new one — the administrator never knows the password.
   */
  async issueReset(username: string, by: string): Promise<{ code: string; expiresAt: string }> {
    const p = await this.requirePrincipal(username);
    const code = randomToken(18);
    const expiresAt = new Date(this.now().getTime() + 24 * 3600_000).toISOString();
    await this.store.transaction(async (tx) => {
      await tx.auth.updatePrincipal(p.id, { passwordHash: null, resetCodeHash: sha256(code), resetExpiresAt: expiresAt });
      await tx.auth.revokeSessionsOf(p.id, 'password reset');
      await this.audit(by, 'auth.password.reset_issued', `principal:${p.id}`, { username, expiresAt }, tx);
    });
    return { code, expiresAt };
  }

  async completeReset(username: string, code: string, password: string): Promise<void> {
    const p = await this.a.getPrincipalByName(username);
    const ok = p && p.resetCodeHash && p.resetExpiresAt && p.resetExpiresAt > this.now().toISOString() && sha256(code) === p.resetCodeHash;
    if (!ok) throw new AuthError('E_AUTH_RESET_INVALID', 'the reset code is wrong, used or expired: ask an administrator for a new one', 400);
    await this.setPassword(username, password, `principal:${p.id}`);
  }

  async grant(username: string, role: string, scope: Scope, by: string): Promise<boolean> {
    const p = await this.requirePrincipal(username);
    if (!isRole(role)) throw new AuthError('E_AUTH_ROLE', `unknown role "${role}": use one of ${ROLES.join(', ')}`);
    if (PARTNER_ROLES.includes(role as Role) && !p.partner) throw new AuthError('E_AUTH_PARTNER_ROLE', `role ${role} is for partner users and partner tokens; "${username}" has no partner`);
    if (p.partner && !PARTNER_ROLES.includes(role as Role)) throw new AuthError('E_AUTH_PARTNER_ROLE', `"${username}" acts for partner ${p.partner} and can only hold ${PARTNER_ROLES.join(' or ')}`);
    const s: Scope = p.partner ? { ...scope, partners: [p.partner] } : scope;
    return this.store.transaction(async (tx) => {
      const id = await tx.auth.addRoleBinding({ principalId: p.id, role, scope: s, createdBy: by });
      if (id !== null) await this.audit(by, 'auth.role.granted', `principal:${p.id}`, { username, role, scope: s }, tx);
      return id !== null;
    });
  }

  async revoke(username: string, role: string, by: string): Promise<number> {
    const p = await this.requirePrincipal(username);
    return this.store.transaction(async (tx) => {
      const n = await tx.auth.removeRoleBinding(p.id, role);
      if (n) await this.audit(by, 'auth.role.revoked', `principal:${p.id}`, { username, role, bindings: n }, tx);
      return n;
    });
  }

  async setDisabled(username: string, disabled: boolean, by: string): Promise<void> {
    const p = await this.requirePrincipal(username);
    await this.store.transaction(async (tx) => {
      await tx.auth.updatePrincipal(p.id, { disabledAt: disabled ? this.now().toISOString() : null, failedLogins: 0, lockedUntil: null });
      if (disabled) {
        await tx.auth.revokeSessionsOf(p.id, 'disabled');
        for (const t of await tx.auth.listServiceTokens(p.id)) if (!t.revokedAt) await tx.auth.revokeServiceToken(t.id);
      }
      await this.audit(by, disabled ? 'auth.user.disabled' : 'auth.user.enabled', `principal:${p.id}`, { username }, tx);
    });
  }

  // ------------------------------------------------------------------ login

  /** Records a failed attempt (counting toward lockout); returns the error to throw: `throw await this.fail(…)`. */
  private async fail(p: PrincipalRow | undefined, username: string, ip: string | null, reason: string): Promise<AuthError> {
    const { maxFailedLogins, lockoutMinutes } = this.config.auth;
    await this.store.transaction(async (tx) => {
      await this.audit(p ? `principal:${p.id}` : 'anonymous', 'auth.login.failed', p ? `principal:${p.id}` : null, { username, ip, reason }, tx);
      if (!p) return;
      const n = await tx.auth.noteLoginFailure(p.id);
      if (n >= maxFailedLogins) {
        const until = new Date(this.now().getTime() + lockoutMinutes * 60_000).toISOString();
        await tx.auth.updatePrincipal(p.id, { lockedUntil: until, failedLogins: 0 });
        await this.audit('system', 'auth.locked', `principal:${p.id}`, { username, failures: n, until, ip, alert: true }, tx);
      }
    });
    return new AuthError('E_AUTH_FAILED', 'user name, password or code not accepted', 401);
  }

  private locked(p: PrincipalRow): boolean {
    return p.lockedUntil !== null && p.lockedUntil > this.now().toISOString();
  }

  /** Checks a TOTP code (or a recovery code) for `p`, refusing any time step already used. */
  private async secondFactor(p: PrincipalRow, f: { totp?: string; recoveryCode?: string }): Promise<'totp' | 'recovery' | null> {
    if (!p.totpSecret || !p.totpEnrolledAt) return null;
    if (f.totp) {
      const step = matchTotp(p.totpSecret, f.totp, this.now());
      return step !== null && (await this.a.acceptTotpStep(p.id, step)) ? 'totp' : null;
    }
    if (f.recoveryCode) return (await this.a.useRecoveryCode(p.id, sha256(normaliseCode(f.recoveryCode)))) ? 'recovery' : null;
    return null;
  }

  /**
   * Password, then the second factor. A user without TOTP gets a session that can only enrol
   * (stage `enrol`). Wrong passwords and wrong codes count toward lockout.
   */
  async login(req: { username: string; password: string; totp?: string; recoveryCode?: string; ip?: string | null; userAgent?: string | null }): Promise<SessionInfo> {
    const ip = req.ip ?? null;
    const p = await this.a.getPrincipalByName(req.username);
    const okPw = await verifyPassword(p?.passwordHash ?? null, req.password);
    if (!p || p.kind === 'service') throw await this.fail(undefined, req.username, ip, 'unknown user');
    if (this.locked(p)) {
      await this.audit(`principal:${p.id}`, 'auth.login.failed', `principal:${p.id}`, { username: req.username, ip, reason: 'locked' });
      throw new AuthError('E_AUTH_LOCKED', `too many failed attempts: the account is locked until ${p.lockedUntil}; an administrator can unlock it (lotgate user enable)`, 423);
    }
    if (p.disabledAt) throw await this.fail(p, req.username, ip, 'disabled');
    if (!okPw) throw await this.fail(p, req.username, ip, 'wrong password');
    let stage: 'full' | 'enrol' = 'enrol';
    if (p.totpEnrolledAt) {
      if (!req.totp && !req.recoveryCode) throw new AuthError('E_AUTH_TOTP_REQUIRED', 'enter the 6-digit code of your authenticator app (or a recovery code)', 401);
      const how = await this.secondFactor(p, req);
      if (!how) throw await this.fail(p, req.username, ip, req.totp ? 'wrong or reused TOTP code' : 'wrong or used recovery code');
      stage = 'full';
    }
    return this.openSession(p, stage, ip, req.userAgent ?? null);
  }

  private async openSession(p: PrincipalRow, stage: 'full' | 'enrol', ip: string | null, userAgent: string | null): Promise<SessionInfo> {
    const token = randomToken(32);
    const csrfToken = randomToken(24);
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.config.auth.sessionAbsoluteHours * 3600_000).toISOString();
    await this.store.transaction(async (tx) => {
      await tx.auth.insertSession({ idHash: sha256(token), principalId: p.id, createdAt: now.toISOString(), expiresAt, mfaAt: stage === 'full' ? now.toISOString() : null, stage, csrfToken, ip, userAgent });
      await tx.auth.updatePrincipal(p.id, { failedLogins: 0, lockedUntil: null, lastLoginAt: now.toISOString() });
      await this.audit(`principal:${p.id}`, 'auth.login.succeeded', `principal:${p.id}`, { username: p.username, ip, stage }, tx);
    });
    return { token, csrfToken, stage, expiresAt, principal: await this.principalOf(p) };
  }

  /**
   * Re-authentication at the moment of signing (21 CFR 11.200(a)): the password every time, the
   * TOTP code when `needTotp`. Failures count toward lockout like failed logins (11.300(d)).
   */
  async reauthenticate(principalId: number, f: { password: string; totp?: string; needTotp: boolean; ip?: string | null }): Promise<void> {
    const p = await this.a.getPrincipal(principalId);
    if (!p) throw new AuthError('E_AUTH_FAILED', 'user name, password or code not accepted', 401);
    if (this.locked(p)) throw new AuthError('E_AUTH_LOCKED', `too many failed attempts: the account is locked until ${p.lockedUntil}`, 423);
    const ip = f.ip ?? null;
    if (!(await verifyPassword(p.passwordHash, f.password))) throw await this.fail(p, p.username, ip, 'wrong password at signing');
    if (f.needTotp) {
      if (!p.totpEnrolledAt) throw new AuthError('E_SIGN_TOTP_REQUIRED', 'signing needs two-factor authentication: enrol TOTP first (POST /api/v1/auth/totp/enrol)', 403);
      if (!f.totp) throw new AuthError('E_AUTH_TOTP_REQUIRED', 'the first signature of a session needs the 6-digit code of your authenticator app', 401);
      if (!(await this.secondFactor(p, { totp: f.totp }))) throw await this.fail(p, p.username, ip, 'wrong or reused TOTP code at signing');
    }
  }

  /** Starts (or restarts, before confirmation) TOTP enrolment: a new secret to scan. */
  async startEnrolment(principalId: number): Promise<{ secret: string; otpauthUri: string }> {
    const p = (await this.a.getPrincipal(principalId))!;
    if (p.totpEnrolledAt) throw new AuthError('E_AUTH_TOTP_ENROLLED', 'TOTP is already set up for this account; an administrator can reset it', 409);
    const secret = newTotpSecret();
    await this.a.updatePrincipal(p.id, { totpSecret: secret });
    return { secret, otpauthUri: totpUri(secret, p.username) };
  }

  /** Confirms enrolment with a first code; returns the recovery codes (shown once). */
  async confirmEnrolment(principalId: number, code: string, sessionHash?: string): Promise<{ recoveryCodes: string[] }> {
    const p = (await this.a.getPrincipal(principalId))!;
    if (p.totpEnrolledAt) throw new AuthError('E_AUTH_TOTP_ENROLLED', 'TOTP is already set up for this account', 409);
    if (!p.totpSecret) throw new AuthError('E_AUTH_TOTP_NOT_STARTED', 'start enrolment first (POST /api/v1/auth/totp/enrol)', 409);
    const step = matchTotp(p.totpSecret, code, this.now());
    if (step === null || !(await this.a.acceptTotpStep(p.id, step))) {
      await this.audit(`principal:${p.id}`, 'auth.totp.failed', `principal:${p.id}`, { during: 'enrolment' });
      throw new AuthError('E_AUTH_TOTP_INVALID', 'the code does not match: check the time on your phone and enter the current code', 400);
    }
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    const now = this.now().toISOString();
    await this.store.transaction(async (tx) => {
      await tx.auth.updatePrincipal(p.id, { totpEnrolledAt: now });
      await tx.auth.replaceRecoveryCodes(p.id, codes.map((c) => sha256(normaliseCode(c))));
      if (sessionHash) await tx.auth.updateSessionStage(sessionHash, 'full', now);
      await this.audit(`principal:${p.id}`, 'auth.totp.enrolled', `principal:${p.id}`, { recoveryCodes: codes.length }, tx);
    });
    return { recoveryCodes: codes };
  }

  async resetTotp(username: string, by: string): Promise<void> {
    const p = await this.requirePrincipal(username);
    await this.store.transaction(async (tx) => {
      await tx.auth.updatePrincipal(p.id, { totpSecret: null, totpEnrolledAt: null });
      await tx.auth.replaceRecoveryCodes(p.id, []);
      await tx.auth.revokeSessionsOf(p.id, 'TOTP reset');
      await this.audit(by, 'auth.totp.reset', `principal:${p.id}`, { username }, tx);
    });
  }

  /** The session behind a cookie value, enforcing revocation and both timeouts; touches it. */
  async authenticateSession(token: string): Promise<Authenticated | null> {
    const hash = sha256(token);
    const s = await this.a.getSession(hash);
    if (!s || s.revokedAt) return null;
    const now = this.now();
    const idleLimit = new Date(new Date(s.lastSeenAt).getTime() + this.config.auth.sessionIdleMinutes * 60_000);
    if (now >= new Date(s.expiresAt) || now >= idleLimit) {
      const reason = now >= new Date(s.expiresAt) ? 'absolute timeout' : 'idle timeout';
      await this.store.transaction(async (tx) => {
        if (await tx.auth.revokeSession(hash, reason)) await this.audit('system', 'auth.session.expired', `principal:${s.principalId}`, { reason }, tx);
      });
      return null;
    }
    const p = await this.a.getPrincipal(s.principalId);
    if (!p || p.disabledAt) return null;
    // Idle time is tracked to the second: no write for every request of a busy page.
    if (now.getTime() - new Date(s.lastSeenAt).getTime() >= TOKEN_TOUCH_MS) await this.a.touchSession(hash, now.toISOString());
    return { principal: await this.principalOf(p), via: 'session', sessionHash: hash, stage: s.stage, csrfToken: s.csrfToken };
  }

  async logout(sessionHash: string, principalId: number): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (await tx.auth.revokeSession(sessionHash, 'logout')) await this.audit(`principal:${principalId}`, 'auth.session.revoked', `principal:${principalId}`, { reason: 'logout' }, tx);
    });
  }

  async revokeSessions(username: string, by: string): Promise<number> {
    const p = await this.requirePrincipal(username);
    return this.store.transaction(async (tx) => {
      const n = await tx.auth.revokeSessionsOf(p.id, `revoked by ${by}`);
      if (n) await this.audit(by, 'auth.session.revoked', `principal:${p.id}`, { username, sessions: n }, tx);
      return n;
    });
  }

  // ------------------------------------------------------------------ service tokens

  /**
   * A service token for a service principal (created when missing). `partner` makes a
   * partner's submission token: roles partner_uploader + partner_viewer, scope that partner.
   */
  async createToken(
    t: { name: string; role?: string; scope?: Scope; partner?: string; days: number },
    by: string,
    partners?: Map<string, PartnerConfig>,
  ): Promise<{ token: string; id: number; principal: string; expiresAt: string }> {
    if (!(t.days > 0)) throw new AuthError('E_AUTH_TOKEN_EXPIRY', 'a token must expire: give --days N (1 or more)');
    if (t.days > this.config.auth.tokenMaxDays) throw new AuthError('E_AUTH_TOKEN_EXPIRY', `a token may live at most ${this.config.auth.tokenMaxDays} days (auth.tokenMaxDays)`);
    if (t.partner && partners && !partners.has(t.partner)) throw new AuthError('E_AUTH_NO_PARTNER', `no partner "${t.partner}" is configured (see \`lotgate partner list\`)`, 404);
    const username = t.partner ? `svc-${t.partner}` : `svc-${t.name}`;
    const existing = await this.a.getPrincipalByName(username);
    if (existing && existing.kind !== 'service') throw new AuthError('E_AUTH_USER_EXISTS', `"${username}" is not a service account`, 409);
    const { token, prefix } = newServiceToken();
    const expiresAt = new Date(this.now().getTime() + t.days * 86400_000).toISOString();
    const id = await this.store.transaction(async (tx) => {
      let p = existing;
      if (!p) {
        const pid = await tx.auth.insertPrincipal({ kind: 'service', username, displayName: t.partner ? `Partner ${t.partner} (API)` : t.name, partner: t.partner ?? null });
        p = (await tx.auth.getPrincipal(pid))!;
        await this.audit(by, 'auth.user.added', `principal:${pid}`, { username, kind: 'service', partner: t.partner ?? null }, tx);
      }
      const roles = t.partner ? ['partner_uploader', 'partner_viewer'] : [t.role ?? 'integration'];
      for (const role of roles) {
        if (!isRole(role)) throw new AuthError('E_AUTH_ROLE', `unknown role "${role}": use one of ${ROLES.join(', ')}`);
        const scope = t.partner ? { sites: '*' as const, materials: '*' as const, partners: [t.partner] } : (t.scope ?? { sites: '*' as const, materials: '*' as const, partners: '*' as const });
        if ((await tx.auth.addRoleBinding({ principalId: p.id, role, scope, createdBy: by })) !== null) await this.audit(by, 'auth.role.granted', `principal:${p.id}`, { username, role, scope }, tx);
      }
      const id = await tx.auth.insertServiceToken({ principalId: p.id, name: t.name, prefix, tokenHash: sha256(token), createdBy: by, expiresAt });
      await this.audit(by, 'auth.token.created', `principal:${p.id}`, { tokenId: id, name: t.name, prefix, expiresAt }, tx);
      return id;
    });
    return { token, id, principal: username, expiresAt };
  }

  async revokeToken(id: number, by: string): Promise<boolean> {
    const t = await this.a.getServiceToken(id);
    if (!t) throw new AuthError('E_AUTH_NO_TOKEN', `no token ${id} (see \`lotgate token list\`)`, 404);
    return this.store.transaction(async (tx) => {
      const done = await tx.auth.revokeServiceToken(id);
      if (done) await this.audit(by, 'auth.token.revoked', `principal:${t.principalId}`, { tokenId: id, prefix: t.prefix }, tx);
      return done;
    });
  }

  async listTokens(): Promise<(ServiceTokenRow & { principal: string })[]> {
    const names = new Map((await this.a.listPrincipals()).map((p) => [p.id, p.username]));
    return (await this.a.listServiceTokens()).map((t) => ({ ...t, principal: names.get(t.principalId) ?? '?' }));
  }

  /** The principal behind `Authorization: Bearer lgt_…`; null when unknown, revoked or expired. */
  async authenticateToken(token: string, ip: string | null): Promise<Authenticated | null> {
    if (!token.startsWith('lgt_')) return null;
    const t = await this.a.getServiceTokenByHash(sha256(token));
    const now = this.now();
    if (!t || t.revokedAt || new Date(t.expiresAt) <= now) {
      if (t) await this.audit(`principal:${t.principalId}`, 'auth.token.refused', `principal:${t.principalId}`, { tokenId: t.id, reason: t.revokedAt ? 'revoked' : 'expired', ip });
      return null;
    }
    const p = await this.a.getPrincipal(t.principalId);
    if (!p || p.disabledAt) return null;
    // Use is recorded on the token to the second (a write per request would serialise readers
    // on the store's write lock); the audit trail gets one event per token per minute and address.
    const since = t.lastUsedAt ? now.getTime() - new Date(t.lastUsedAt).getTime() : Infinity;
    if (since >= TOKEN_TOUCH_MS || t.lastIp !== ip) {
      await this.store.transaction(async (tx) => {
        if (since >= TOKEN_USE_AUDIT_MS || t.lastIp !== ip) await this.audit(`principal:${p.id}`, 'auth.token.used', `principal:${p.id}`, { tokenId: t.id, ip }, tx);
        await tx.auth.noteTokenUse(t.id, now.toISOString(), ip);
      });
    }
    return { principal: await this.principalOf(p), via: 'token', tokenId: t.id };
  }

  // ------------------------------------------------------------------ review

  /** Everyone with access, for the periodic access review (§11.10(d), (g)). */
  async accessReview(partners: Map<string, PartnerConfig>) {
    const tokens = await this.a.listServiceTokens();
    const principals = [];
    for (const p of await this.a.listPrincipals()) {
      const recoveryCodesLeft = await this.a.countRecoveryCodesLeft(p.id);
      const bindings = await this.a.listRoleBindings(p.id);
      const sessions = await this.a.listSessionsOf(p.id);
      principals.push({
        id: p.id,
        username: p.username,
        displayName: p.displayName,
        kind: p.kind,
        partner: p.partner,
        disabled: p.disabledAt !== null,
        locked: this.locked(p),
        mfa: p.totpEnrolledAt ? 'totp' : 'none',
        recoveryCodesLeft,
        lastLoginAt: p.lastLoginAt,
        passwordSetAt: p.passwordSetAt,
        roles: bindings.map((b) => ({ role: b.role, scope: b.scope, grantedAt: b.createdAt, grantedBy: b.createdBy })),
        activeSessions: sessions.filter((s) => !s.revokedAt && s.expiresAt > this.now().toISOString()).length,
        tokens: tokens
          .filter((t) => t.principalId === p.id)
          .map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, expiresAt: t.expiresAt, lastUsedAt: t.lastUsedAt, lastIp: t.lastIp, revoked: t.revokedAt !== null })),
      });
    }
    const sftp = [...partners.values()].map((pc) => ({
      partner: pc.id,
      keys: parseAuthorizedKeys(pc.sftp?.publicKeys).keys.map((k) => ({ type: k.type, fingerprint: k.fingerprint, comment: k.comment ?? null })),
      password: Boolean(pc.sftp?.passwordHash),
    }));
    return { generatedAt: this.now().toISOString(), principals, sftp };
  }
}
