// Issue 8 §4 against a real drop zone with ssh2 clients: who a brute-force ban may lock out, bans
// shared through the store and kept across a restart, the cap on connections before login, and
// the bounded audit trail of unauthenticated traffic. Attackers come from other loopback
// addresses (127.0.0.x) than the partner (127.0.0.1).

import { describe, it, expect, afterEach } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { connect as netConnect, type Socket } from 'node:net';
import { hashPassword } from '../../pipeline/sftp/passwords.js';
import type { BanStore } from '../../pipeline/sftp/defender.js';
import { demoCredentials, PUBLISHED_DEMO_PASSWORDS } from '../../pipeline/sftp/demo-credentials.js';
import { openStore, type Store } from '../../pipeline/store/store.js';
import { startZone, sshKeygen, partner, tempDir, cleanup, tryLogin, waitFor, type Harness } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));


const storeBans = (store: Store): BanStore => ({
  get: (kind, key) => store.pulls.getBan(kind, key),
  save: (b) => store.pulls.recordBan({ kind: b.kind, key: b.key, until: b.until, strike: b.strike, bannedAt: b.bannedAt }),
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function zone(over: Parameters<typeof startZone>[0]): Promise<Harness> {
  const h = await startZone(over);
  cleanups.push(() => h.close());
  return h;
}

describe('who a ban locks out', () => {
  it('password failures never lock out a key login, and never ban a partner that has no password', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const bravo = sshKeygen(dir, 'bravo');
    const acme = sshKeygen(dir, 'acme');
    const password = 'acme-real-password';
    const h = await zone({
      dir,
      partners: new Map([
        ['bravo-lab', partner('bravo-lab', { publicKeys: [bravo.publicLine] })],
        ['acme-cmo', partner('acme-cmo', { publicKeys: [acme.publicLine], passwordHash: hashPassword(password) })],
      ]),
      defender: { maxFailures: 5, windowMs: 60_000, banMs: 600_000 },
    });
    // A stranger at 127.0.0.2 tries five passwords on the key-only partner: its own IP is banned,
    // the partner's user name is not.
    for (let i = 0; i < 5; i++) await tryLogin(h.port, { username: 'bravo-lab', password: `guess-${i}`, localAddress: '127.0.0.2' });
    const bans = () => h.audit.filter((a) => a.action === 'sftp.ban').map((b) => `${b.details.kind}:${b.details.key}`);
    expect(bans()).toEqual(['ip:127.0.0.2']);
    expect(await tryLogin(h.port, { username: 'bravo-lab', privateKey: readFileSync(bravo.privatePath) })).toBe('ok');

    // Five wrong passwords on a partner that has one ban its password door, not its key.
    for (let i = 0; i < 5; i++) await tryLogin(h.port, { username: 'acme-cmo', password: `guess-${i}`, localAddress: '127.0.0.3' });
    expect(bans()).toEqual(['ip:127.0.0.2', 'ip:127.0.0.3', 'user:acme-cmo']);
    expect(await tryLogin(h.port, { username: 'acme-cmo', privateKey: readFileSync(acme.privatePath) })).toBe('ok');
    expect(await tryLogin(h.port, { username: 'acme-cmo', password })).not.toBe('ok');
    const refused = h.audit.filter((a) => a.action === 'sftp.auth' && a.details.user === 'acme-cmo' && a.details.reason === 'banned');
    expect(refused.map((a) => a.details.method)).toEqual(['password']);
  });

  it('a two-step partner is not banned by password failures of someone who does not hold its key', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const key = sshKeygen(dir, 'two');
    const h = await zone({
      dir,
      partners: new Map([['twostep', partner('twostep', { publicKeys: [key.publicLine], passwordHash: hashPassword('pw'), twoStep: true })]]),
      defender: { maxFailures: 3, windowMs: 60_000, banMs: 600_000 },
    });
    for (let i = 0; i < 3; i++) await tryLogin(h.port, { username: 'twostep', password: `guess-${i}`, localAddress: '127.0.0.9' });
    expect(h.audit.filter((a) => a.action === 'sftp.ban').map((b) => b.details.kind)).toEqual(['ip']);
    expect(await tryLogin(h.port, { username: 'twostep', privateKey: readFileSync(key.privatePath), password: 'pw' })).toBe('ok');
  });

  it('bans are shared by every drop zone of one store and survive a restart', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const dbPath = join(dir, 'lotgate.db');
    const storeA = await openStore(dbPath);
    const storeB = await openStore(dbPath);
    cleanups.push(() => storeA.close(), () => storeB.close());
    const key = sshKeygen(dir, 'acme');
    const partners = new Map([['acme-cmo', partner('acme-cmo', { publicKeys: [key.publicLine], passwordHash: hashPassword('pw') })]]);
    const defender = { maxFailures: 3, windowMs: 60_000, banMs: 600_000 };
    const a = await zone({ dir: join(dir, 'a'), partners, defender, banStore: storeBans(storeA) });
    const b = await zone({ dir: join(dir, 'b'), partners, defender, banStore: storeBans(storeB) });
    for (let i = 0; i < 3; i++) await tryLogin(a.port, { username: 'acme-cmo', password: `x${i}`, localAddress: '127.0.0.4' });
    expect(a.audit.filter((e) => e.action === 'sftp.ban').map((e) => e.details.key)).toEqual(['127.0.0.4', 'acme-cmo']);
    // Zone a's defender writes its bans to the store without waiting for the write (SQLite has it
    // done when the call returns; PostgreSQL a round trip later): the other zone shares them once
    // they are there.
    await expect.poll(async () => (await storeB.pulls.listActiveBans(Date.now())).map((x) => `${x.kind}:${x.key}`).sort()).toEqual(['ip:127.0.0.4', 'user:acme-cmo']);
    // The other process refuses the address at the door, and the user's password door too.
    expect(await tryLogin(b.port, { username: 'acme-cmo', password: 'pw', localAddress: '127.0.0.4' })).not.toBe('ok');
    expect(b.audit.some((e) => e.action === 'sftp.refused' && e.details.ip === '127.0.0.4' && e.details.reason === 'banned')).toBe(true);
    expect(await tryLogin(b.port, { username: 'acme-cmo', password: 'pw' })).not.toBe('ok');
    expect(await tryLogin(b.port, { username: 'acme-cmo', privateKey: readFileSync(key.privatePath) })).toBe('ok');
    // A restart (new process, new store connection) keeps the ban.
    await a.close();
    const storeC = await openStore(dbPath);
    cleanups.push(() => storeC.close());
    const c = await zone({ dir: join(dir, 'c'), partners, defender, banStore: storeBans(storeC) });
    expect(await tryLogin(c.port, { username: 'acme-cmo', password: 'pw', localAddress: '127.0.0.4' })).not.toBe('ok');
    expect(c.audit.some((e) => e.action === 'sftp.refused' && e.details.ip === '127.0.0.4')).toBe(true);
    expect((await storeC.pulls.listActiveBans(Date.now())).map((x) => `${x.kind}:${x.key}:${x.strike}`).sort()).toEqual(['ip:127.0.0.4:1', 'user:acme-cmo:1']);
  });
});

describe('published demo credentials', () => {
  it('are refused at login outside demo mode, even when a partner file lists them', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const demoKey = join(ROOT, 'fixtures', 'keys', 'bravo-lab');
    const partners = new Map([['lab', partner('lab', { publicKeys: [readFileSync(`${demoKey}.pub`, 'utf8').trim()], passwordHash: hashPassword('demo-acme') })]]);
    const refuse = { fingerprints: new Set(demoCredentials().keys.keys()), passwords: PUBLISHED_DEMO_PASSWORDS };
    const prod = await zone({ dir: join(dir, 'prod'), partners, refuseCredentials: refuse, preauth: { auditEventsPerIp: 1000 } });
    expect(await tryLogin(prod.port, { username: 'lab', privateKey: readFileSync(demoKey) })).not.toBe('ok');
    expect(await tryLogin(prod.port, { username: 'lab', password: 'demo-acme' })).not.toBe('ok');
    expect(prod.audit.filter((a) => a.action === 'sftp.auth' && a.details.reason === 'demo-credential').map((a) => a.details.method).sort()).toEqual(['password', 'publickey']);
    // Demo mode (no refusal list): the same partner file logs in.
    const demo = await zone({ dir: join(dir, 'demo'), partners });
    expect(await tryLogin(demo.port, { username: 'lab', privateKey: readFileSync(demoKey) })).toBe('ok');
    expect(await tryLogin(demo.port, { username: 'lab', password: 'demo-acme' })).toBe('ok');
  });
});

describe('lotgate bans', () => {
  it('lists the bans of the data dir and lifts one, which the running drop zone honours at once', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    writeFileSync(join(dir, 'config.yaml'), 'dataDir: .\n');
    const store = await openStore(join(dir, 'lotgate.db'));
    cleanups.push(() => store.close());
    const key = sshKeygen(dir, 'acme');
    const h = await zone({
      dir: join(dir, 'zone'),
      partners: new Map([['acme-cmo', partner('acme-cmo', { publicKeys: [key.publicLine] })]]),
      defender: { maxFailures: 2, windowMs: 60_000, banMs: 600_000 },
      banStore: storeBans(store),
    });
    for (let i = 0; i < 2; i++) await tryLogin(h.port, { username: 'acme-cmo', password: 'x', localAddress: '127.0.0.10' });
    const login = () => tryLogin(h.port, { username: 'acme-cmo', privateKey: readFileSync(key.privatePath), localAddress: '127.0.0.10' });
    expect(await login()).not.toBe('ok');
    const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lotgate.js'), '--config', join(dir, 'config.yaml'), ...args], { encoding: 'utf8', env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '' } });
    const listed = cli(['bans', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ kind: 'ip', key: '127.0.0.10', strike: 1 })]);
    expect(cli(['bans', 'lift', 'ip', '127.0.0.99', '--reason', 'x', '--by', 'ops']).status).toBe(4);
    const lift = cli(['bans', 'lift', 'ip', '127.0.0.10', '--reason', 'partner behind this NAT', '--by', 'ops.olga']);
    expect(lift.status, lift.stderr).toBe(0);
    expect(await login()).toBe('ok');
    expect((await store.audit.listAudit({ action: 'sftp.ban_lifted' }))[0]).toMatchObject({ actor: 'operator:ops.olga', subject: 'ip:127.0.0.10', details: { reason: 'partner behind this NAT' } });
  });
});

function rawConnect(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port, localAddress });
    s.on('error', () => undefined);
    s.resume();
    s.once('connect', () => {
      s.write('SSH-2.0-idle\r\n');
      resolve(s);
    });
  });
}

describe('before login', () => {
  it('caps unauthenticated connections per IP; other addresses and partners still get in', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const key = sshKeygen(dir, 'acme');
    const h = await zone({ dir, partners: new Map([['acme-cmo', partner('acme-cmo', { publicKeys: [key.publicLine] })]]), preauth: { maxConnectionsPerIp: 4 } });
    const socks = await Promise.all(Array.from({ length: 10 }, () => rawConnect(h.port, '127.0.0.6')));
    cleanups.push(() => socks.forEach((s) => s.destroy()));
    await waitFor(() => socks.filter((s) => s.destroyed || s.readableEnded).length >= 6, 5_000, 'the connections over the cap to be closed');
    await new Promise((r) => setTimeout(r, 200));
    expect(socks.filter((s) => !s.destroyed && !s.readableEnded)).toHaveLength(4);
    expect(h.zone.connections()).toBe(4);
    expect(h.audit.filter((a) => a.action === 'sftp.refused' && a.details.reason === 'too-many-unauthenticated-connections')).toHaveLength(6);
    // The partner from another address logs in, and a logged-in session does not hold a slot.
    expect(await tryLogin(h.port, { username: 'acme-cmo', privateKey: readFileSync(key.privatePath), localAddress: '127.0.0.7' })).toBe('ok');
  });

  it('a flood from a banned address writes a bounded number of audit rows and one summary with the count', async () => {
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    const h = await zone({
      dir,
      partners: new Map([['pwlab', partner('pwlab', { passwordHash: hashPassword('pw') })]]),
      defender: { maxFailures: 2, windowMs: 60_000, banMs: 600_000 },
      preauth: { auditEventsPerIp: 10, auditWindowMs: 600_000 },
    });
    for (let i = 0; i < 2; i++) await tryLogin(h.port, { username: 'pwlab', password: 'no', localAddress: '127.0.0.8' });
    expect(h.audit.some((a) => a.action === 'sftp.ban' && a.details.key === '127.0.0.8')).toBe(true);
    const flood = 300;
    for (let i = 0; i < flood; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, () => new Promise<void>((resolve) => {
          const s = netConnect({ host: '127.0.0.1', port: h.port, localAddress: '127.0.0.8' });
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.resume();
        })),
      );
    }
    const fromIp = () => h.audit.filter((a) => a.details.ip === '127.0.0.8');
    const bans = fromIp().filter((a) => a.action === 'sftp.ban').length;
    // The login attempts and the ban, then at most 10 rows of this window one by one.
    expect(fromIp().length).toBeLessThanOrEqual(10 + bans);
    await h.close();
    const summaries = h.audit.filter((a) => a.action === 'auth.failures' && a.subject === 'ip:127.0.0.8');
    expect(summaries).toHaveLength(1);
    const oneByOne = fromIp().filter((a) => a.action !== 'sftp.ban' && a.action !== 'auth.failures').length;
    // Every refused connection is accounted for: written one by one or counted in the summary.
    const refusedOneByOne = fromIp().filter((a) => a.action === 'sftp.refused').length;
    expect(refusedOneByOne + (summaries[0].details.byAction as Record<string, number>)['sftp.refused']).toBe(flood);
    expect(summaries[0].details).toMatchObject({ ip: '127.0.0.8', written: 10 });
    expect(oneByOne).toBe(10);
  });
});
