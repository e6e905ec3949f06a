// Authentication: users and passwords, lockout, TOTP enrolment and replay refusal, sessions,
// service tokens, the access review. Everything is kept in the store, so any number of API
// processes share one truth (a TOTP step accepted here is refused everywhere), and every
// decision that matters is in the audit trail with the principal's id.

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

  private audit(actor: string, action: string, subject: string | null, details: unknown): void {
    this.store.appendAudit({ actor, action, subject, details, at: this.now().toISOString() });
  }

  principalOf(row: PrincipalRow): Principal {
    return {
      id: row.id,
      username: row.username,
      displayName: row.displayName,
      kind: row.kind,
      partner: row.partner,
      bindings: this.a.listRoleBindings(row.id).map((b) => ({ role: b.role, scope: b.scope })),
    };
  }

  // ------------------------------------------------------------------ users

  async addUser(u: { username: string; displayName: string; email?: string; kind: Exclude<PrincipalKind, 'service'>; partner?: string; password?: string }, by: string): Promise<PrincipalRow> {
    if (!/^[a-z0-9][a-z0-9._@-]{1,63}$/i.test(u.username)) throw new AuthError('E_AUTH_USERNAME', `user name "${u.username}" is not valid: 2–64 letters, digits, . _ @ -`);
    if (this.a.getPrincipalByName(u.username)) throw new AuthError('E_AUTH_USER_EXISTS', `a principal named "${u.username}" already exists (see \`lotgate user list\`)`, 409);
    if (u.kind === 'partner_user' && !u.partner) throw new AuthError('E_AUTH_PARTNER_REQUIRED', 'a partner user is bound to exactly one partner: give --partner <id>');
    if (u.password !== undefined) {
      const why = passwordProblem(u.password);
      if (why) throw new AuthError('E_AUTH_PASSWORD_WEAK', why);
    }
    const passwordHash = u.password !== undefined ? await hashPassword(u.password) : null;
    const id = this.a.atomic(() => {
      const id = this.a.insertPrincipal({ kind: u.kind, username: u.username, displayName: u.displayName, email: u.email ?? null, partner: u.partner ?? null, passwordHash });
      this.audit(by, 'auth.user.added', `principal:${id}`, { username: u.username, kind: u.kind, partner: u.partner ?? null });
      return id;
    });
    return this.a.getPrincipal(id)!;
  }

  requirePrincipal(username: string): PrincipalRow {
    const p = this.a.getPrincipalByName(username);
    if (!p) throw new AuthError('E_AUTH_NO_USER', `no principal named "${username}" (see \`lotgate user list\`)`, 404);
    return p;
  }

  /** Sets a user's own password (the CLI on the server, or the user with the current one). */
  async setPassword(username: string, password: string, by: string): Promise<void> {
    const p = this.requirePrincipal(username);
    const why = passwordProblem(password);
    if (why) throw new AuthError('E_AUTH_PASSWORD_WEAK', why);
    const h = await hashPassword(password);
    this.a.atomic(() => {
      this.a.updatePrincipal(p.id, { passwordHash: h, passwordSetAt: this.now().toISOString(), resetCodeHash: null, resetExpiresAt: null, failedLogins: 0, lockedUntil: null });
      this.a.revokeSessionsOf(p.id, 'password changed');
      this.audit(by, 'auth.password.set', `principal:${p.id}`, { username });
    });
  }

  /**
   * An administrator's reset: the old password stops working and a one-time code (valid 24 h)
   * is issued for the user to choose a new one — the administrator never knows the password.
   */
  issueReset(username: string, by: string): { code: string; expiresAt: string } {
    const p = this.requirePrincipal(username);
    const code = randomToken(18);
    const expiresAt = new Date(this.now().getTime() + 24 * 3600_000).toISOString();
    this.a.atomic(() => {
      this.a.updatePrincipal(p.id, { passwordHash: null, resetCodeHash: sha256(code), resetExpiresAt: expiresAt });
      this.a.revokeSessionsOf(p.id, 'password reset');
      this.audit(by, 'auth.password.reset_issued', `principal:${p.id}`, { username, expiresAt });
    });
    return { code, expiresAt };
  }

  async completeReset(username: string, code: string, password: string): Promise<void> {
    const p = this.a.getPrincipalByName(username);
    const ok = p && p.resetCodeHash && p.resetExpiresAt && p.resetExpiresAt > this.now().toISOString() && sha256(code) === p.resetCodeHash;
    if (!ok) throw new AuthError('E_AUTH_RESET_INVALID', 'the reset code is wrong, used or expired: ask an administrator for a new one', 400);
    await this.setPassword(username, password, `principal:${p.id}`);
  }

  grant(username: string, role: string, scope: Scope, by: string): boolean {
    const p = this.requirePrincipal(username);
    if (!isRole(role)) throw new AuthError('E_AUTH_ROLE', `unknown role "${role}": use one of ${ROLES.join(', ')}`);
    if (PARTNER_ROLES.includes(role as Role) && !p.partner) throw new AuthError('E_AUTH_PARTNER_ROLE', `role ${role} is for partner users and partner tokens; "${username}" has no partner`);
    if (p.partner && !PARTNER_ROLES.includes(role as Role)) throw new AuthError('E_AUTH_PARTNER_ROLE', `"${username}" acts for partner ${p.partner} and can only hold ${PARTNER_ROLES.join(' or ')}`);
    const s: Scope = p.partner ? { ...scope, partners: [p.partner] } : scope;
    return this.a.atomic(() => {
      const id = this.a.addRoleBinding({ principalId: p.id, role, scope: s, createdBy: by });
      if (id !== null) this.audit(by, 'auth.role.granted', `principal:${p.id}`, { username, role, scope: s });
      return id !== null;
    });
  }

  revoke(username: string, role: string, by: string): number {
    const p = this.requirePrincipal(username);
    return this.a.atomic(() => {
      const n = this.a.removeRoleBinding(p.id, role);
      if (n) this.audit(by, 'auth.role.revoked', `principal:${p.id}`, { username, role, bindings: n });
      return n;
    });
  }

  setDisabled(username: string, disabled: boolean, by: string): void {
    const p = this.requirePrincipal(username);
    this.a.atomic(() => {
      this.a.updatePrincipal(p.id, { disabledAt: disabled ? this.now().toISOString() : null, failedLogins: 0, lockedUntil: null });
      if (disabled) {
        this.a.revokeSessionsOf(p.id, 'disabled');
        for (const t of this.a.listServiceTokens(p.id)) if (!t.revokedAt) this.a.revokeServiceToken(t.id);
      }
      this.audit(by, disabled ? 'auth.user.disabled' : 'auth.user.enabled', `principal:${p.id}`, { username });
    });
  }

  // ------------------------------------------------------------------ login

  private fail(p: PrincipalRow | undefined, username: string, ip: string | null, reason: string): never {
    const { maxFailedLogins, lockoutMinutes } = this.config.auth;
    this.a.atomic(() => {
      this.audit(p ? `principal:${p.id}` : 'anonymous', 'auth.login.failed', p ? `principal:${p.id}` : null, { username, ip, reason });
      if (!p) return;
      const n = this.a.noteLoginFailure(p.id);
      if (n >= maxFailedLogins) {
        const until = new Date(this.now().getTime() + lockoutMinutes * 60_000).toISOString();
        this.a.updatePrincipal(p.id, { lockedUntil: until, failedLogins: 0 });
        this.audit('system', 'auth.locked', `principal:${p.id}`, { username, failures: n, until, ip, alert: true });
      }
    });
    throw new AuthError('E_AUTH_FAILED', 'user name, password or code not accepted', 401);
  }

  private locked(p: PrincipalRow): boolean {
    return p.lockedUntil !== null && p.lockedUntil > this.now().toISOString();
  }

  /** Checks a TOTP code (or a recovery code) for `p`, refusing any time step already used. */
  private secondFactor(p: PrincipalRow, f: { totp?: string; recoveryCode?: string }): 'totp' | 'recovery' | null {
    if (!p.totpSecret || !p.totpEnrolledAt) return null;
    if (f.totp) {
      const step = matchTotp(p.totpSecret, f.totp, this.now());
      return step !== null && this.a.acceptTotpStep(p.id, step) ? 'totp' : null;
    }
    if (f.recoveryCode) return this.a.useRecoveryCode(p.id, sha256(normaliseCode(f.recoveryCode))) ? 'recovery' : null;
    return null;
  }

  /**
   * Password, then the second factor. A user without TOTP gets a session that can only enrol
   * (stage `enrol`). Wrong passwords and wrong codes count toward lockout.
   */
  async login(req: { username: string; password: string; totp?: string; recoveryCode?: string; ip?: string | null; userAgent?: string | null }): Promise<SessionInfo> {
    const ip = req.ip ?? null;
    const p = this.a.getPrincipalByName(req.username);
    const okPw = await verifyPassword(p?.passwordHash ?? null, req.password);
    if (!p || p.kind === 'service') this.fail(undefined, req.username, ip, 'unknown user');
    if (this.locked(p)) {
      this.audit(`principal:${p.id}`, 'auth.login.failed', `principal:${p.id}`, { username: req.username, ip, reason: 'locked' });
      throw new AuthError('E_AUTH_LOCKED', `too many failed attempts: the account is locked until ${p.lockedUntil}; an administrator can unlock it (lotgate user enable)`, 423);
    }
    if (p.disabledAt) this.fail(p, req.username, ip, 'disabled');
    if (!okPw) this.fail(p, req.username, ip, 'wrong password');
    let stage: 'full' | 'enrol' = 'enrol';
    if (p.totpEnrolledAt) {
      if (!req.totp && !req.recoveryCode) throw new AuthError('E_AUTH_TOTP_REQUIRED', 'enter the 6-digit code of your authenticator app (or a recovery code)', 401);
      const how = this.secondFactor(p, req);
      if (!how) this.fail(p, req.username, ip, req.totp ? 'wrong or reused TOTP code' : 'wrong or used recovery code');
      stage = 'full';
    }
    return this.openSession(p, stage, ip, req.userAgent ?? null);
  }

  private openSession(p: PrincipalRow, stage: 'full' | 'enrol', ip: string | null, userAgent: string | null): SessionInfo {
    const token = randomToken(32);
    const csrfToken = randomToken(24);
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.config.auth.sessionAbsoluteHours * 3600_000).toISOString();
    this.a.atomic(() => {
      this.a.insertSession({ idHash: sha256(token), principalId: p.id, createdAt: now.toISOString(), expiresAt, mfaAt: stage === 'full' ? now.toISOString() : null, stage, csrfToken, ip, userAgent });
      this.a.updatePrincipal(p.id, { failedLogins: 0, lockedUntil: null, lastLoginAt: now.toISOString() });
      this.audit(`principal:${p.id}`, 'auth.login.succeeded', `principal:${p.id}`, { username: p.username, ip, stage });
    });
    return { token, csrfToken, stage, expiresAt, principal: this.principalOf(p) };
  }

  /**
   * Re-authentication at the moment of signing (21 CFR 11.200(a)): the password every time, the
   * TOTP code when `needTotp`. Failures count toward lockout like failed logins (11.300(d)).
   */
  async reauthenticate(principalId: number, f: { password: string; totp?: string; needTotp: boolean; ip?: string | null }): Promise<void> {
    const p = this.a.getPrincipal(principalId);
    if (!p) throw new AuthError('E_AUTH_FAILED', 'user name, password or code not accepted', 401);
    if (this.locked(p)) throw new AuthError('E_AUTH_LOCKED', `too many failed attempts: the account is locked until ${p.lockedUntil}`, 423);
    const ip = f.ip ?? null;
    if (!(await verifyPassword(p.passwordHash, f.password))) this.fail(p, p.username, ip, 'wrong password at signing');
    if (f.needTotp) {
      if (!p.totpEnrolledAt) throw new AuthError('E_SIGN_TOTP_REQUIRED', 'signing needs two-factor authentication: enrol TOTP first (POST /api/v1/auth/totp/enrol)', 403);
      if (!f.totp) throw new AuthError('E_AUTH_TOTP_REQUIRED', 'the first signature of a session needs the 6-digit code of your authenticator app', 401);
      if (!this.secondFactor(p, { totp: f.totp })) this.fail(p, p.username, ip, 'wrong or reused TOTP code at signing');
    }
  }

  /** Starts (or restarts, before confirmation) TOTP enrolment: a new secret to scan. */
  startEnrolment(principalId: number): { secret: string; otpauthUri: string } {
    const p = this.a.getPrincipal(principalId)!;
    if (p.totpEnrolledAt) throw new AuthError('E_AUTH_TOTP_ENROLLED', 'TOTP is already set up for this account; an administrator can reset it', 409);
    const secret = newTotpSecret();
    this.a.updatePrincipal(p.id, { totpSecret: secret });
    return { secret, otpauthUri: totpUri(secret, p.username) };
  }

  /** Confirms enrolment with a first code; returns the recovery codes (shown once). */
  confirmEnrolment(principalId: number, code: string, sessionHash?: string): { recoveryCodes: string[] } {
    const p = this.a.getPrincipal(principalId)!;
    if (p.totpEnrolledAt) throw new AuthError('E_AUTH_TOTP_ENROLLED', 'TOTP is already set up for this account', 409);
    if (!p.totpSecret) throw new AuthError('E_AUTH_TOTP_NOT_STARTED', 'start enrolment first (POST /api/v1/auth/totp/enrol)', 409);
    const step = matchTotp(p.totpSecret, code, this.now());
    if (step === null || !this.a.acceptTotpStep(p.id, step)) {
      this.audit(`principal:${p.id}`, 'auth.totp.failed', `principal:${p.id}`, { during: 'enrolment' });
      throw new AuthError('E_AUTH_TOTP_INVALID', 'the code does not match: check the time on your phone and enter the current code', 400);
    }
    const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
    const now = this.now().toISOString();
    this.a.atomic(() => {
      this.a.updatePrincipal(p.id, { totpEnrolledAt: now });
      this.a.replaceRecoveryCodes(p.id, codes.map((c) => sha256(normaliseCode(c))));
      if (sessionHash) this.a.updateSessionStage(sessionHash, 'full', now);
      this.audit(`principal:${p.id}`, 'auth.totp.enrolled', `principal:${p.id}`, { recoveryCodes: codes.length });
    });
    return { recoveryCodes: codes };
  }

  resetTotp(username: string, by: string): void {
    const p = this.requirePrincipal(username);
    this.a.atomic(() => {
      this.a.updatePrincipal(p.id, { totpSecret: null, totpEnrolledAt: null });
      this.a.replaceRecoveryCodes(p.id, []);
      this.a.revokeSessionsOf(p.id, 'TOTP reset');
      this.audit(by, 'auth.totp.reset', `principal:${p.id}`, { username });
    });
  }

  /** The session behind a cookie value, enforcing revocation and both timeouts; touches it. */
  authenticateSession(token: string): Authenticated | null {
    const hash = sha256(token);
    const s = this.a.getSession(hash);
    if (!s || s.revokedAt) return null;
    const now = this.now();
    const idleLimit = new Date(new Date(s.lastSeenAt).getTime() + this.config.auth.sessionIdleMinutes * 60_000);
    if (now >= new Date(s.expiresAt) || now >= idleLimit) {
      const reason = now >= new Date(s.expiresAt) ? 'absolute timeout' : 'idle timeout';
      this.a.atomic(() => {
        if (this.a.revokeSession(hash, reason)) this.audit('system', 'auth.session.expired', `principal:${s.principalId}`, { reason });
      });
      return null;
    }
    const p = this.a.getPrincipal(s.principalId);
    if (!p || p.disabledAt) return null;
    // Idle time is tracked to the second: no write for every request of a busy page.
    if (now.getTime() - new Date(s.lastSeenAt).getTime() >= TOKEN_TOUCH_MS) this.a.touchSession(hash, now.toISOString());
    return { principal: this.principalOf(p), via: 'session', sessionHash: hash, stage: s.stage, csrfToken: s.csrfToken };
  }

  logout(sessionHash: string, principalId: number): void {
    this.a.atomic(() => {
      if (this.a.revokeSession(sessionHash, 'logout')) this.audit(`principal:${principalId}`, 'auth.session.revoked', `principal:${principalId}`, { reason: 'logout' });
    });
  }

  revokeSessions(username: string, by: string): number {
    const p = this.requirePrincipal(username);
    return this.a.atomic(() => {
      const n = this.a.revokeSessionsOf(p.id, `revoked by ${by}`);
      if (n) this.audit(by, 'auth.session.revoked', `principal:${p.id}`, { username, sessions: n });
      return n;
    });
  }

  // ------------------------------------------------------------------ service tokens

  /**
   * A service token for a service principal (created when missing). `partner` makes a
   * partner's submission token: roles partner_uploader + partner_viewer, scope that partner.
   */
  createToken(
    t: { name: string; role?: string; scope?: Scope; partner?: string; days: number },
    by: string,
    partners?: Map<string, PartnerConfig>,
  ): { token: string; id: number; principal: string; expiresAt: string } {
    if (!(t.days > 0)) throw new AuthError('E_AUTH_TOKEN_EXPIRY', 'a token must expire: give --days N (1 or more)');
    if (t.days > this.config.auth.tokenMaxDays) throw new AuthError('E_AUTH_TOKEN_EXPIRY', `a token may live at most ${this.config.auth.tokenMaxDays} days (auth.tokenMaxDays)`);
    if (t.partner && partners && !partners.has(t.partner)) throw new AuthError('E_AUTH_NO_PARTNER', `no partner "${t.partner}" is configured (see \`lotgate partner list\`)`, 404);
    const username = t.partner ? `svc-${t.partner}` : `svc-${t.name}`;
    let p = this.a.getPrincipalByName(username);
    if (p && p.kind !== 'service') throw new AuthError('E_AUTH_USER_EXISTS', `"${username}" is not a service account`, 409);
    const { token, prefix } = newServiceToken();
    const expiresAt = new Date(this.now().getTime() + t.days * 86400_000).toISOString();
    const id = this.a.atomic(() => {
      if (!p) {
        const pid = this.a.insertPrincipal({ kind: 'service', username, displayName: t.partner ? `Partner ${t.partner} (API)` : t.name, partner: t.partner ?? null });
        p = this.a.getPrincipal(pid)!;
        this.audit(by, 'auth.user.added', `principal:${pid}`, { username, kind: 'service', partner: t.partner ?? null });
      }
      const roles = t.partner ? ['partner_uploader', 'partner_viewer'] : [t.role ?? 'integration'];
      for (const role of roles) {
        if (!isRole(role)) throw new AuthError('E_AUTH_ROLE', `unknown role "${role}": use one of ${ROLES.join(', ')}`);
        const scope = t.partner ? { sites: '*' as const, materials: '*' as const, partners: [t.partner] } : (t.scope ?? { sites: '*' as const, materials: '*' as const, partners: '*' as const });
        if (this.a.addRoleBinding({ principalId: p.id, role, scope, createdBy: by }) !== null) this.audit(by, 'auth.role.granted', `principal:${p.id}`, { username, role, scope });
      }
      const id = this.a.insertServiceToken({ principalId: p.id, name: t.name, prefix, tokenHash: sha256(token), createdBy: by, expiresAt });
      this.audit(by, 'auth.token.created', `principal:${p.id}`, { tokenId: id, name: t.name, prefix, expiresAt });
      return id;
    });
    return { token, id, principal: username, expiresAt };
  }

  revokeToken(id: number, by: string): boolean {
    const t = this.a.getServiceToken(id);
    if (!t) throw new AuthError('E_AUTH_NO_TOKEN', `no token ${id} (see \`lotgate token list\`)`, 404);
    return this.a.atomic(() => {
      const done = this.a.revokeServiceToken(id);
      if (done) this.audit(by, 'auth.token.revoked', `principal:${t.principalId}`, { tokenId: id, prefix: t.prefix });
      return done;
    });
  }

  listTokens(): (ServiceTokenRow & { principal: string })[] {
    const names = new Map(this.a.listPrincipals().map((p) => [p.id, p.username]));
    return this.a.listServiceTokens().map((t) => ({ ...t, principal: names.get(t.principalId) ?? '?' }));
  }

  /** The principal behind `Authorization: Bearer lgt_…`; null when unknown, revoked or expired. */
  authenticateToken(token: string, ip: string | null): Authenticated | null {
    if (!token.startsWith('lgt_')) return null;
    const t = this.a.getServiceTokenByHash(sha256(token));
    const now = this.now();
    if (!t || t.revokedAt || new Date(t.expiresAt) <= now) {
      if (t) this.audit(`principal:${t.principalId}`, 'auth.token.refused', `principal:${t.principalId}`, { tokenId: t.id, reason: t.revokedAt ? 'revoked' : 'expired', ip });
      return null;
    }
    const p = this.a.getPrincipal(t.principalId);
    if (!p || p.disabledAt) return null;
    // Use is recorded on the token to the second (a write per request would serialise readers
    // on the store's write lock); the audit trail gets one event per token per minute and address.
    const since = t.lastUsedAt ? now.getTime() - new Date(t.lastUsedAt).getTime() : Infinity;
    if (since >= TOKEN_TOUCH_MS || t.lastIp !== ip) {
      this.a.atomic(() => {
        if (since >= TOKEN_USE_AUDIT_MS || t.lastIp !== ip) this.audit(`principal:${p.id}`, 'auth.token.used', `principal:${p.id}`, { tokenId: t.id, ip });
        this.a.noteTokenUse(t.id, now.toISOString(), ip);
      });
    }
    return { principal: this.principalOf(p), via: 'token', tokenId: t.id };
  }

  // ------------------------------------------------------------------ review

  /** Everyone with access, for the periodic access review (§11.10(d), (g)). */
  accessReview(partners: Map<string, PartnerConfig>) {
    const tokens = this.a.listServiceTokens();
    const principals = this.a.listPrincipals().map((p) => ({
      id: p.id,
      username: p.username,
      displayName: p.displayName,
      kind: p.kind,
      partner: p.partner,
      disabled: p.disabledAt !== null,
      locked: this.locked(p),
      mfa: p.totpEnrolledAt ? 'totp' : 'none',
      recoveryCodesLeft: this.a.countRecoveryCodesLeft(p.id),
      lastLoginAt: p.lastLoginAt,
      passwordSetAt: p.passwordSetAt,
      roles: this.a.listRoleBindings(p.id).map((b) => ({ role: b.role, scope: b.scope, grantedAt: b.createdAt, grantedBy: b.createdBy })),
      activeSessions: this.a.listSessionsOf(p.id).filter((s) => !s.revokedAt && s.expiresAt > this.now().toISOString()).length,
      tokens: tokens
        .filter((t) => t.principalId === p.id)
        .map((t) => ({ id: t.id, name: t.name, prefix: t.prefix, expiresAt: t.expiresAt, lastUsedAt: t.lastUsedAt, lastIp: t.lastIp, revoked: t.revokedAt !== null })),
    }));
    const sftp = [...partners.values()].map((pc) => ({
      partner: pc.id,
      keys: parseAuthorizedKeys(pc.sftp?.publicKeys).keys.map((k) => ({ type: k.type, fingerprint: k.fingerprint, comment: k.comment ?? null })),
      password: Boolean(pc.sftp?.passwordHash),
    }));
    return { generatedAt: this.now().toISOString(), principals, sftp };
  }
}
