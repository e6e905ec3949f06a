// Identities in the store: passwords, lockout, TOTP enrolment and replay refusal (also across
// processes), recovery codes, sessions with idle/absolute timeouts, service tokens.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accessFor, type Principal } from '../../pipeline/auth/permissions.js';
import { AuthError, AuthService } from '../../pipeline/auth/service.js';
import { totpCode } from '../../pipeline/auth/totp.js';
import { openStore, type OpenStore } from '../../pipeline/store/store.js';

const root = path.resolve(import.meta.dirname, '../..');
const AUTH = { auth: { maxFailedLogins: 3, lockoutMinutes: 15, sessionIdleMinutes: 30, sessionAbsoluteHours: 12, tokenMaxDays: 365, timeZone: 'UTC' } };
let dir: string;
let store: OpenStore;
let clock: Date;
let auth: AuthService;
const now = () => clock;
const PW = 'correct horse battery';

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-auth-'));
  clock = new Date('2026-12-01T10:00:00Z');
  store = await openStore(path.join(dir, 'lotgate.db'), { now });
  auth = new AuthService(store, AUTH, now);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function userWithPassword(username = 'qa1', kind: 'user' | 'partner_user' = 'user', partner?: string) {
  await auth.addUser({ username, displayName: `Q. A. ${username}`, kind, partner }, 'test');
  const { code } = await auth.issueReset(username, 'test');
  await auth.completeReset(username, code, PW);
}

async function enrolled(username = 'qa1') {
  await userWithPassword(username);
  const s = await auth.login({ username, password: PW });
  expect(s.stage).toBe('enrol');
  const p = (await store.auth.getPrincipalByName(username))!;
  const { secret } = await auth.startEnrolment(p.id);
  const { recoveryCodes } = await auth.confirmEnrolment(p.id, totpCode(secret, clock));
  return { secret, recoveryCodes, id: p.id };
}

const actions = async () => (await store.audit.listAudit({ limit: 1000 })).map((e) => e.action);

describe('passwords and lockout', () => {
  it('argon2id hashes, never the password; a wrong password fails', async () => {
    await userWithPassword();
    const p = (await store.auth.getPrincipalByName('qa1'))!;
    expect(p.passwordHash).toMatch(/^\$argon2id\$/);
    expect(p.passwordHash).not.toContain(PW);
    await expect(auth.login({ username: 'qa1', password: 'wrong password!' })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
    await expect(auth.login({ username: 'nobody', password: PW })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
  });

  it('an administrator cannot set a known password: a reset invalidates the old one and issues a one-time code', async () => {
    await userWithPassword();
    const { code } = await auth.issueReset('qa1', 'admin');
    await expect(auth.login({ username: 'qa1', password: PW })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
    await auth.completeReset('qa1', code, 'another long password');
    await expect(auth.completeReset('qa1', code, 'yet another password')).rejects.toMatchObject({ code: 'E_AUTH_RESET_INVALID' });
    expect((await auth.login({ username: 'qa1', password: 'another long password' })).stage).toBe('enrol');
  });

  it('locks after N failures, audited with an alert; the right password is refused while locked', async () => {
    await userWithPassword();
    for (let i = 0; i < 3; i++) await expect(auth.login({ username: 'qa1', password: 'nope nope nope' })).rejects.toBeInstanceOf(AuthError);
    await expect(auth.login({ username: 'qa1', password: PW })).rejects.toMatchObject({ code: 'E_AUTH_LOCKED' });
    const locked = await store.audit.listAudit({ action: 'auth.locked' });
    expect(locked).toHaveLength(1);
    expect(locked[0].details).toMatchObject({ alert: true, failures: 3 });
    expect((await actions()).filter((a) => a === 'auth.login.failed').length).toBe(4);
    clock = new Date(clock.getTime() + 16 * 60_000);
    expect((await auth.login({ username: 'qa1', password: PW })).stage).toBe('enrol');
  });
});

describe('TOTP', () => {
  it('enrolment gives single-use recovery codes; login then needs a code', async () => {
    const { secret, recoveryCodes } = await enrolled();
    expect(recoveryCodes).toHaveLength(10);
    await expect(auth.login({ username: 'qa1', password: PW })).rejects.toMatchObject({ code: 'E_AUTH_TOTP_REQUIRED' });
    clock = new Date(clock.getTime() + 60_000);
    expect((await auth.login({ username: 'qa1', password: PW, totp: totpCode(secret, clock) })).stage).toBe('full');
    expect((await auth.login({ username: 'qa1', password: PW, recoveryCode: recoveryCodes[0].toUpperCase() })).stage).toBe('full');
    await expect(auth.login({ username: 'qa1', password: PW, recoveryCode: recoveryCodes[0] })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
  });

  it('a code is accepted once: the same time step is refused, also by another connection', async () => {
    const { secret } = await enrolled();
    clock = new Date(clock.getTime() + 90_000);
    const code = totpCode(secret, clock);
    await auth.login({ username: 'qa1', password: PW, totp: code });
    await expect(auth.login({ username: 'qa1', password: PW, totp: code })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
    const other = await openStore(path.join(dir, 'lotgate.db'), { now });
    try {
      await expect(new AuthService(other, AUTH, now).login({ username: 'qa1', password: PW, totp: code })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
    } finally {
      await other.close();
    }
  });

  it('replay is refused by a second process sharing the store', async () => {
    const { secret } = await enrolled();
    clock = new Date(clock.getTime() + 120_000);
    const code = totpCode(secret, clock);
    const script = `
      import { AuthService } from ${JSON.stringify(path.join(root, 'dist/pipeline/auth/service.js'))};
      import { openStore } from ${JSON.stringify(path.join(root, 'dist/pipeline/store/store.js'))};
      const now = () => new Date(${JSON.stringify(clock.toISOString())});
      const s = await openStore(${JSON.stringify(path.join(dir, 'lotgate.db'))}, { now });
      try { await new AuthService(s, ${JSON.stringify(AUTH)}, now).login({ username: 'qa1', password: ${JSON.stringify(PW)}, totp: process.argv[1] }); console.log('accepted'); }
      catch (e) { console.log(e.code); } finally { await s.close(); }`;
    const run = () => spawnSync(process.execPath, ['--input-type=module', '-e', script, code], { encoding: 'utf8' }).stdout.trim();
    expect(run()).toBe('accepted');
    await expect(auth.login({ username: 'qa1', password: PW, totp: code })).rejects.toMatchObject({ code: 'E_AUTH_FAILED' });
    expect(run()).toBe('E_AUTH_FAILED');
  });
});

describe('sessions', () => {
  it('idle and absolute timeouts, revocation, audited', async () => {
    const { secret } = await enrolled();
    clock = new Date(clock.getTime() + 60_000);
    const s = await auth.login({ username: 'qa1', password: PW, totp: totpCode(secret, clock) });
    expect((await auth.authenticateSession(s.token))?.principal.username).toBe('qa1');
    clock = new Date(clock.getTime() + 29 * 60_000);
    expect(await auth.authenticateSession(s.token)).not.toBeNull();
    clock = new Date(clock.getTime() + 31 * 60_000);
    expect(await auth.authenticateSession(s.token)).toBeNull();
    expect((await store.audit.listAudit({ action: 'auth.session.expired' }))[0].details).toMatchObject({ reason: 'idle timeout' });

    clock = new Date(clock.getTime() + 60_000);
    const t = await auth.login({ username: 'qa1', password: PW, totp: totpCode(secret, clock) });
    for (let i = 0; i < 12 * 3; i++) {
      clock = new Date(clock.getTime() + 20 * 60_000);
      if (!(await auth.authenticateSession(t.token))) break;
    }
    expect(await auth.authenticateSession(t.token)).toBeNull();
    expect((await store.audit.listAudit({ action: 'auth.session.expired' }))[0].details).toMatchObject({ reason: 'absolute timeout' });

    clock = new Date(clock.getTime() + 60_000);
    const u = await auth.login({ username: 'qa1', password: PW, totp: totpCode(secret, clock) });
    expect(await auth.revokeSessions('qa1', 'admin')).toBe(1);
    expect(await auth.authenticateSession(u.token)).toBeNull();
    expect(await actions()).toContain('auth.session.revoked');
  });
});

describe('service tokens', () => {
  it('only a hash is stored; expiry is mandatory; revoked and expired tokens are refused; use is recorded', async () => {
    await expect(auth.createToken({ name: 'erp', days: 0 }, 'admin')).rejects.toThrow(/expire/);
    await expect(auth.createToken({ name: 'erp', days: 366 }, 'admin')).rejects.toThrow(/365/);
    const t = await auth.createToken({ name: 'erp', days: 30 }, 'admin');
    expect(t.token).toMatch(/^lgt_[A-Za-z0-9_-]{43}$/);
    const raw = JSON.stringify(await store.auth.listServiceTokens());
    expect(raw).not.toContain(t.token);
    const a = await auth.authenticateToken(t.token, '10.0.0.5');
    expect(a?.principal.bindings.map((b) => b.role)).toEqual(['integration']);
    expect(await store.auth.getServiceToken(t.id)).toMatchObject({ lastIp: '10.0.0.5', lastUsedAt: clock.toISOString() });
    expect(await auth.authenticateToken(t.token.slice(0, -1) + (t.token.endsWith('A') ? 'B' : 'A'), null)).toBeNull();
    clock = new Date(clock.getTime() + 31 * 86400_000);
    expect(await auth.authenticateToken(t.token, null)).toBeNull();
    const t2 = await auth.createToken({ name: 'erp', days: 30 }, 'admin');
    expect(await auth.authenticateToken(t2.token, null)).not.toBeNull();
    await auth.revokeToken(t2.id, 'admin');
    expect(await auth.authenticateToken(t2.token, null)).toBeNull();
    expect(await actions()).toEqual(expect.arrayContaining(['auth.token.created', 'auth.token.used', 'auth.token.revoked', 'auth.token.refused']));
  });

  it('a partner token acts for its partner only', async () => {
    const t = await auth.createToken({ name: 'acme', partner: 'acme-cmo', days: 30 }, 'admin');
    const p = (await auth.authenticateToken(t.token, null))!.principal;
    expect(p.partner).toBe('acme-cmo');
    expect(accessFor(p, 'submissions:read')).toEqual([{ sites: '*', materials: '*', partners: ['acme-cmo'] }]);
    expect(accessFor(p, 'lots:read')).toBeNull();
  });
});

describe('permissions', () => {
  const p = (roles: [string, object?][]): Principal => ({
    id: 1,
    username: 'x',
    displayName: 'x',
    kind: 'user',
    partner: null,
    bindings: roles.map(([role, scope]) => ({ role, scope: { sites: '*', materials: '*', partners: '*', ...scope } as never })),
  });
  it('roles grant permissions; scopes of the granting bindings are unioned', () => {
    expect(accessFor(p([['admin']]), 'lots:dispose')).toBeNull();
    expect(accessFor(p([['admin']]), 'users:manage')).toBe('all');
    expect(accessFor(p([['qa', { sites: ['1000'] }]]), 'lots:dispose')).toEqual([{ sites: ['1000'], materials: '*', partners: '*' }]);
    expect(accessFor(p([['qa', { sites: ['1000'] }], ['receiving']]), 'lots:read')).toBe('all');
    expect(accessFor(p([['qa', { sites: ['1000'] }], ['receiving']]), 'lots:dispose')).toEqual([{ sites: ['1000'], materials: '*', partners: '*' }]);
    expect(accessFor(p([['receiving']]), 'submissions:raw')).toBeNull();
  });
});

describe('lockout alert', () => {
  it('becomes a critical account_locked notification', async () => {
    const { eventsFromAudit } = await import('../../jobs/notify-events.js');
    const { eventNotification } = await import('../../pipeline/outbound/notify/render.js');
    const { links } = await import('../../pipeline/outbound/notify/links.js');
    await userWithPassword();
    for (let i = 0; i < 3; i++) await expect(auth.login({ username: 'qa1', password: 'nope nope nope', ip: '10.9.8.7' })).rejects.toBeInstanceOf(AuthError);
    const row = (await store.audit.listAudit({ action: 'auth.locked' }))[0];
    const [ev] = eventsFromAudit(row, { links: links('https://lotgate.example.com'), partners: new Map(), submission: () => undefined });
    expect(ev).toMatchObject({ type: 'account_locked', subject: 'qa1', details: { failures: 3, ip: '10.9.8.7' } });
    expect(eventNotification(ev).severity).toBe('critical');
  });
});
