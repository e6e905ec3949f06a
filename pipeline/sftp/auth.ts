// Partner login over SSH: public key (signature verified), scrypt password, or both
// (`twoStep`). One authenticator per connection; it keeps the two-step progress and talks to
// the defender. Every attempt with a credential is audited; unknown users and wrong
// credentials look the same to the client (same reply, same scrypt cost).
//
// What the defender counts against a user name (defender.ts explains why): a wrong password of a
// partner that has a password — for a two-step partner only once its key step has passed on this
// connection. Failed keys, unknown users and passwords tried on key-only partners count against
// the IP only, and a user ban refuses password attempts only: a key login is never blocked by it.

import type { AuthContext, PublicKeyAuthContext, PasswordAuthContext, AuthenticationType } from 'ssh2';
import type { PartnerConfig } from '../model/types.js';
import type { Defender, Ban } from './defender.js';
import { findAuthorizedKey, keyFingerprint, parseAuthorizedKeys, verifyKeySignature, type AuthorizedKey } from './keys.js';
import { verifyPassword } from './passwords.js';
import { isValidPartnerId } from './jail.js';
import type { AuditAction } from '../codes.js';

export type AuditFn = (e: { actor: string; action: AuditAction; subject: string; details: Record<string, unknown> }) => void;

export interface AuthDeps {
  partners: () => Map<string, PartnerConfig>;
  defender: Defender;
  audit: AuditFn;
  log: { warn: (o: object, msg?: string) => void; error: (o: object, msg?: string) => void };
  connection: { id: string; ip: string; port: number; software?: string };
  /** Counted failures on one connection before it is dropped (like sshd's MaxAuthTries). */
  maxAttempts?: number;
  /** Called once the login succeeded, with the partner id. */
  onAuthenticated: (partnerId: string, method: string) => void;
  /** Close the connection (banned IP, too many attempts). */
  disconnect: (reason: string) => void;
  /** Called for every ban the defender imposes. */
  onBan?: (ban: Ban) => void;
  /**
   * Credentials that are public (the demo keys and password, demo-credentials.ts): refused even
   * when a partner file lists them, e.g. one added while the server runs. Absent in demo mode.
   */
  refuse?: { fingerprints: ReadonlySet<string>; passwords: readonly string[] };
}

const ALL_METHODS: AuthenticationType[] = ['publickey', 'password'];

type Step = 'publickey' | 'password';

export type Authenticator = (ctx: AuthContext) => void;

export function createAuthenticator(deps: AuthDeps): Authenticator {
  const maxAttempts = deps.maxAttempts ?? 6;
  const conn = deps.connection;
  let failures = 0;
  let requests = 0;
  const maxRequests = maxAttempts * 4;
  let closed = false;
  // Two-step progress: steps passed for this user on this connection.
  let stepUser: string | null = null;
  const passed = new Set<Step>();
  // Partners' key lists are re-parsed only when the configured lines change.
  const keyCache = new Map<string, { src: string; keys: AuthorizedKey[] }>();

  function methodsLeft(): AuthenticationType[] {
    if (passed.size === 0) return ALL_METHODS;
    return ALL_METHODS.filter((m) => !passed.has(m as Step));
  }

  function auditAuth(result: 'success' | 'failure' | 'partial', user: string, method: string, details: Record<string, unknown>): void {
    deps.audit({
      actor: result === 'success' || result === 'partial' ? user : `anonymous@${conn.ip}`,
      action: 'sftp.auth',
      subject: `sftp-user:${user}`,
      details: { result, method, user, ip: conn.ip, port: conn.port, session: conn.id, client: conn.software, ...details },
    });
  }

  function lookup(user: string): PartnerConfig | undefined {
    if (!isValidPartnerId(user)) return undefined;
    try {
      const p = deps.partners().get(user);
      return p && p.id === user ? p : undefined;
    } catch (err) {
      deps.log.error({ err }, 'sftp: reading partner configuration failed; login refused');
      return undefined;
    }
  }

  function keysOf(partner: PartnerConfig): AuthorizedKey[] {
    const lines = partner.sftp?.publicKeys ?? [];
    const src = lines.join('\n');
    const cached = keyCache.get(partner.id);
    if (cached && cached.src === src) return cached.keys;
    const { keys, errors } = parseAuthorizedKeys(lines);
    for (const e of errors) deps.log.warn({ partner: partner.id, line: e.line, code: e.code }, `sftp: unusable public key for ${partner.id}: ${e.message}`);
    keyCache.set(partner.id, { src, keys });
    return keys;
  }

  function fail(ctx: AuthContext, user: string, method: string, reason: string, details: Record<string, unknown> = {}, countUser = false): void {
    auditAuth('failure', user, method, { reason, ...details });
    ctx.reject(methodsLeft());
    failures += 1;
    const bans = deps.defender.recordFailure(conn.ip, countUser ? user : undefined);
    for (const b of bans) {
      deps.audit({
        actor: 'sftp',
        action: 'sftp.ban',
        subject: b.kind === 'ip' ? `ip:${b.key}` : `sftp-user:${b.key}`,
        details: { kind: b.kind, key: b.key, until: new Date(b.until).toISOString(), durationMs: b.durationMs, strike: b.strike, ip: conn.ip, session: conn.id },
      });
      deps.onBan?.(b);
    }
    if (bans.some((b) => b.kind === 'ip')) close('ip banned');
    else if (failures >= maxAttempts) close('too many authentication failures');
  }

  function close(reason: string): void {
    if (closed) return;
    closed = true;
    deps.disconnect(reason);
  }

  function step(ctx: AuthContext, partner: PartnerConfig, s: Step, details: Record<string, unknown>): void {
    if (stepUser !== partner.id) {
      stepUser = partner.id;
      passed.clear();
    }
    passed.add(s);
    const needed: Step[] = partner.sftp?.twoStep ? ['publickey', 'password'] : [s];
    if (needed.every((n) => passed.has(n))) {
      try {
        deps.onAuthenticated(partner.id, partner.sftp?.twoStep ? 'publickey+password' : s);
      } catch (err) {
        deps.log.error({ err, partner: partner.id }, 'sftp: partner folder unavailable; login refused');
        auditAuth('failure', partner.id, s, { ...details, reason: 'drop-folder-unavailable' });
        return ctx.reject(methodsLeft());
      }
      auditAuth('success', partner.id, s, { ...details, twoStep: !!partner.sftp?.twoStep });
      deps.defender.recordSuccess(partner.id);
      ctx.accept();
    } else {
      auditAuth('partial', partner.id, s, { ...details, remaining: methodsLeft() });
      // RFC 4252 partial success: the client goes on with the methods still missing.
      ctx.reject(methodsLeft(), true);
    }
  }

  function onPublicKey(ctx: PublicKeyAuthContext, user: string, partner: PartnerConfig | undefined): void {
    const fingerprint = keyFingerprint(ctx.key.data);
    const key = partner ? findAuthorizedKey(keysOf(partner), ctx.key.algo, ctx.key.data) : null;
    if (key && deps.refuse?.fingerprints.has(key.fingerprint)) {
      if (!ctx.signature || !ctx.blob) {
        deps.log.warn({ partner: user, fingerprint }, `sftp: ${partner?.source ?? `partners/${user}.yaml`} lists a published demo key; refused (remove it, or run in demo mode)`);
        auditAuth('failure', user, 'publickey', { reason: 'demo-credential', fingerprint, keyType: ctx.key.algo, phase: 'query' });
        return ctx.reject(methodsLeft());
      }
      return fail(ctx, user, 'publickey', 'demo-credential', { fingerprint, keyType: ctx.key.algo });
    }
    if (!ctx.signature || !ctx.blob) {
      // The client asks "would this key do?" before signing. Say yes only for a listed key; a
      // "no" costs nothing and is not counted (agents offer several keys in turn).
      if (key) return ctx.accept();
      auditAuth('failure', user, 'publickey', { reason: partner ? 'key-not-authorized' : 'unknown-user', fingerprint, keyType: ctx.key.algo, phase: 'query' });
      return ctx.reject(methodsLeft());
    }
    if (!partner) return fail(ctx, user, 'publickey', 'unknown-user', { fingerprint, keyType: ctx.key.algo });
    if (!key) return fail(ctx, user, 'publickey', 'key-not-authorized', { fingerprint, keyType: ctx.key.algo });
    if (!verifyKeySignature(key, ctx.blob, ctx.signature, ctx.hashAlgo)) {
      return fail(ctx, user, 'publickey', 'bad-signature', { fingerprint, keyType: ctx.key.algo });
    }
    step(ctx, partner, 'publickey', { fingerprint, keyType: ctx.key.algo, keyComment: key.comment || undefined });
  }

  async function onPassword(ctx: PasswordAuthContext, user: string, partner: PartnerConfig | undefined): Promise<void> {
    const stored = partner?.sftp?.passwordHash;
    // verifyPassword runs the same scrypt work whether or not there is a hash to check.
    const ok = await verifyPassword(ctx.password, stored);
    if (closed) return;
    if (!partner) return fail(ctx, user, 'password', 'unknown-user');
    if (!stored) return fail(ctx, user, 'password', 'no-password-configured');
    // Counted against the user only when a stranger could not have made it fail on purpose
    // without holding the partner's key first (two-step).
    const countUser = !partner.sftp?.twoStep || (stepUser === partner.id && passed.has('publickey'));
    if (!ok) return fail(ctx, user, 'password', 'wrong-password', {}, countUser);
    if (deps.refuse?.passwords.includes(ctx.password)) {
      deps.log.warn({ partner: user }, `sftp: ${partner.source ?? `partners/${user}.yaml`} accepts a published demo password; refused (set a real one, or run in demo mode)`);
      return fail(ctx, user, 'password', 'demo-credential');
    }
    step(ctx, partner, 'password', {});
  }

  function decide(ctx: AuthContext, user: string, banUser: string | undefined): void {
    if (closed) return ctx.reject();
    const ban = deps.defender.check(conn.ip, banUser);
    if (ban) {
      auditAuth('failure', user, ctx.method, { reason: 'banned', ban: { kind: ban.kind, until: new Date(ban.until).toISOString() } });
      ctx.reject(methodsLeft());
      if (ban.kind === 'ip') close('ip banned');
      return;
    }
    const partner = lookup(user);
    switch (ctx.method) {
      case 'publickey':
        return onPublicKey(ctx, user, partner);
      case 'password':
        onPassword(ctx, user, partner).catch((err) => {
          deps.log.error({ err }, 'sftp: password check failed');
          ctx.reject(methodsLeft());
        });
        return;
      default:
        // keyboard-interactive and hostbased are not offered; say which methods are.
        return ctx.reject(methodsLeft());
    }
  }

  return (ctx: AuthContext) => {
    const user = ctx.username;
    if (closed) return ctx.reject();
    if (ctx.method === 'none') return ctx.reject(methodsLeft());
    // Key probes are not counted by the defender (agents offer keys in turn) but they are not
    // free either: a connection gets a bounded number of requests of any kind.
    requests += 1;
    if (requests > maxRequests) {
      ctx.reject();
      return close('too many authentication requests');
    }
    // A user ban closes the password door only; the key door stays open for the partner.
    const banUser = ctx.method === 'password' ? user : undefined;
    // The store's bans (other processes', lifts by `lotgate bans lift`) are read before the check.
    void deps.defender
      .load(conn.ip, banUser)
      .then(() => decide(ctx, user, banUser))
      .catch((err: unknown) => {
        deps.log.error({ err }, 'sftp: authentication failed');
        try {
          ctx.reject(methodsLeft());
        } catch {
          // answered already
        }
      });
  };
}
