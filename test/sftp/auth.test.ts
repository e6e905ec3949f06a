// Logins against the real server: keys (with the signature actually verified), passwords,
// two-step, unknown users, the brute-force defender, the login grace timer, host key
// persistence, and robustness against garbage on the port.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import { hashPassword } from '../../pipeline/sftp/passwords.js';
import { generateEd25519OpenSSH } from '../../pipeline/sftp/host-key.js';
import { startZone, sshKeygen, partner, tempDir, cleanup, runSftp, tryLogin, waitFor, type Harness, type KeyPair } from './helpers.js';

const { Client, BaseAgent, utils } = ssh2 as unknown as {
  Client: typeof ssh2.Client;
  BaseAgent: new () => { getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void): void; sign(k: ParsedKey, d: Buffer, o: unknown, cb: (err: Error | null, sig?: Buffer) => void): void };
  utils: typeof ssh2.utils;
};


function fingerprintOf(pubPath: string): string {
  return spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' }).stdout.split(' ')[1];
}

const authEvents = (h: Harness, user: string) => h.audit.filter((a) => a.action === 'sftp.auth' && a.details.user === user);

describe('authentication', () => {
  let dir: string;
  let key: KeyPair;
  let wrongKey: KeyPair;
  let twoKey: KeyPair;
  let h: Harness;
  const password = 'Tr0ub4dor&3 – ünïcødé';

  beforeAll(async () => {
    dir = tempDir();
    key = sshKeygen(dir, 'acme_key');
    wrongKey = sshKeygen(dir, 'wrong_key');
    twoKey = sshKeygen(dir, 'two_key', 'ecdsa');
    h = await startZone({
      dir,
      partners: new Map([
        ['acme', partner('acme', { publicKeys: ['ssh-ed25519 AAAAgarbage', key.publicLine] })],
        ['pwlab', partner('pwlab', { passwordHash: hashPassword(password) })],
        ['twostep', partner('twostep', { publicKeys: [twoKey.publicLine], passwordHash: hashPassword(password), twoStep: true })],
        ['nosftp', partner('nosftp', undefined)],
      ]),
      // Generous: this suite makes many failed logins from 127.0.0.1 on purpose.
      defender: { maxFailures: 1000, windowMs: 60_000, banMs: 60_000 },
      // …and reads every audit row of them (unauthenticated rows are otherwise capped per IP).
      preauth: { auditEventsPerIp: 100_000 },
    });
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('accepts the partner key (OpenSSH client) and audits the fingerprint', async () => {
    const r = await runSftp(h.port, key.privatePath, 'acme', ['pwd']);
    expect(r.code).toBe(0);
    const ok = authEvents(h, 'acme').find((a) => a.details.result === 'success')!;
    expect(ok.details).toMatchObject({ method: 'publickey', ip: '127.0.0.1', fingerprint: fingerprintOf(`${key.privatePath}.pub`), keyType: 'ssh-ed25519' });
  });

  it('refuses a key that is not in the partner list, and audits its fingerprint', async () => {
    const r = await runSftp(h.port, wrongKey.privatePath, 'acme', ['pwd']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    const fails = authEvents(h, 'acme').filter((a) => a.details.result === 'failure');
    expect(fails.some((a) => a.details.fingerprint === fingerprintOf(`${wrongKey.privatePath}.pub`) && a.details.reason === 'key-not-authorized')).toBe(true);
  });

  it('refuses a client that presents the right public key but cannot sign with it', async () => {
    const pub = utils.parseKey(key.publicLine) as ParsedKey;
    const impostor = utils.parseKey(readFileSync(wrongKey.privatePath)) as ParsedKey;
    let signed = 0;
    class FakeAgent extends BaseAgent {
      getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void) {
        cb(null, [pub]);
      }
      sign(_k: ParsedKey, data: Buffer, _o: unknown, cb: (err: Error | null, sig?: Buffer) => void) {
        signed++;
        cb(null, impostor.sign(data));
      }
    }
    const before = h.audit.length;
    const res = await tryLogin(h.port, { username: 'acme', agent: new FakeAgent() });
    expect(res).not.toBe('ok');
    expect(signed).toBe(1); // the server said "key acceptable", the client signed, the server checked
    const fail = h.audit.slice(before).find((a) => a.action === 'sftp.auth' && a.details.reason === 'bad-signature');
    expect(fail?.details.fingerprint).toBe(fingerprintOf(`${key.privatePath}.pub`));
    // The genuine key through the same agent path works.
    const real = utils.parseKey(readFileSync(key.privatePath)) as ParsedKey;
    class RealAgent extends BaseAgent {
      getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void) {
        cb(null, [pub]);
      }
      sign(_k: ParsedKey, data: Buffer, _o: unknown, cb: (err: Error | null, sig?: Buffer) => void) {
        cb(null, real.sign(data));
      }
    }
    expect(await tryLogin(h.port, { username: 'acme', agent: new RealAgent() })).toBe('ok');
  });

  it('password: right one in, wrong one out, audited', async () => {
    expect(await tryLogin(h.port, { username: 'pwlab', password })).toBe('ok');
    const bad = await tryLogin(h.port, { username: 'pwlab', password: 'guess' });
    expect(bad).toMatch(/authentication methods failed/i);
    const events = authEvents(h, 'pwlab');
    expect(events.map((e) => [e.details.result, e.details.method, e.details.reason])).toEqual([
      ['success', 'password', undefined],
      ['failure', 'password', 'wrong-password'],
    ]);
    // A partner with keys only never accepts a password; one without sftp block accepts nothing.
    expect(await tryLogin(h.port, { username: 'acme', password })).toMatch(/authentication methods failed/i);
    expect(await tryLogin(h.port, { username: 'nosftp', password })).toMatch(/authentication methods failed/i);
  });

  it('unknown users are refused exactly like wrong passwords (no enumeration), and audited', async () => {
    const unknown = await tryLogin(h.port, { username: 'nobody', password: 'guess' });
    const wrong = await tryLogin(h.port, { username: 'pwlab', password: 'guess' });
    expect(unknown).toBe(wrong);
    // Same methods offered back in both cases.
    const methods = async (username: string) =>
      new Promise<string[]>((resolve) => {
        const c = new Client();
        c.on('error', () => undefined);
        c.connect({
          host: '127.0.0.1',
          port: h.port,
          username,
          authHandler: (left: string[] | null, _partial: boolean, next: (m: never) => void) => {
            if (left) {
              resolve(left);
              c.end();
              return next(false as never);
            }
            next({ type: 'password', username, password: 'x' } as never);
          },
        });
      });
    expect(await methods('nobody')).toEqual(await methods('pwlab'));
    const ev = authEvents(h, 'nobody');
    expect(ev.length).toBeGreaterThan(0);
    expect(ev.every((e) => e.details.result === 'failure' && e.details.reason === 'unknown-user' && e.details.ip === '127.0.0.1')).toBe(true);
    // Path-like and oversized user names are just unknown users.
    expect(await tryLogin(h.port, { username: '../acme', password })).toMatch(/authentication methods failed/i);
    expect(await tryLogin(h.port, { username: 'a'.repeat(300), password })).toMatch(/authentication methods failed/i);
  });

  it('one connection gets at most 6 failed attempts, and a bounded number of key probes', async () => {
    const before = authEvents(h, 'pwlab').length;
    let tries = 0;
    const res = await tryLogin(h.port, {
      username: 'pwlab',
      authHandler: (_left: unknown, _partial: unknown, next: (m: unknown) => void) => {
        tries++;
        next(tries <= 20 ? { type: 'password', username: 'pwlab', password: `guess-${tries}` } : false);
      },
    });
    expect(res).not.toBe('ok');
    expect(authEvents(h, 'pwlab').slice(before).filter((e) => e.details.result === 'failure')).toHaveLength(6);
    // 40 unknown keys offered one after another: the server hangs up long before the end.
    // (ssh2's own ed25519 generator emits a malformed key about 1 time in 250; ours does not.)
    const junkKeys = Array.from({ length: 40 }, () => utils.parseKey(generateEd25519OpenSSH('junk')) as ParsedKey);
    let offered = 0;
    class ManyKeys extends BaseAgent {
      getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void) {
        cb(null, junkKeys);
      }
      sign(_k: ParsedKey, _d: Buffer, _o: unknown, cb: (err: Error | null, sig?: Buffer) => void) {
        cb(new Error('never asked'));
      }
    }
    const probe = await tryLogin(h.port, {
      username: 'acme',
      agent: new ManyKeys(),
      debug: (m: string) => {
        if (/Agent key #\d+ failed/.test(m)) offered++;
      },
    });
    expect(probe).not.toBe('ok');
    expect(offered).toBeGreaterThan(10); // the probes did happen…
    expect(offered).toBeLessThan(30); // …but not all 40
  });

  it('two-step requires the key AND the password', async () => {
    const priv = readFileSync(twoKey.privatePath);
    expect(await tryLogin(h.port, { username: 'twostep', privateKey: priv })).not.toBe('ok');
    expect(await tryLogin(h.port, { username: 'twostep', password })).not.toBe('ok');
    expect(
      await tryLogin(h.port, { username: 'twostep', authHandler: [{ type: 'publickey', username: 'twostep', key: priv }, { type: 'password', username: 'twostep', password: 'wrong' }] }),
    ).not.toBe('ok');
    const before = authEvents(h, 'twostep').length;
    expect(
      await tryLogin(h.port, { username: 'twostep', authHandler: [{ type: 'publickey', username: 'twostep', key: priv }, { type: 'password', username: 'twostep', password }] }),
    ).toBe('ok');
    expect(
      await tryLogin(h.port, { username: 'twostep', authHandler: [{ type: 'password', username: 'twostep', password }, { type: 'publickey', username: 'twostep', key: priv }] }),
    ).toBe('ok');
    const ev = authEvents(h, 'twostep').slice(before);
    expect(ev.map((e) => `${e.details.method}:${e.details.result}`)).toEqual(['publickey:partial', 'password:success', 'password:partial', 'publickey:success']);
    // And it really is an SFTP login afterwards.
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: 'twostep', privateKey: priv, password, authHandler: ['publickey', 'password'] } as never);
    expect(await c.cwd()).toBe('/');
    await c.end();
  });

  it('partners added later take effect without a restart', async () => {
    const late = sshKeygen(dir, 'late_key');
    expect((await runSftp(h.port, late.privatePath, 'latecomer', ['pwd'])).code).not.toBe(0);
    h.partners.set('latecomer', partner('latecomer', { publicKeys: [late.publicLine] }));
    expect((await runSftp(h.port, late.privatePath, 'latecomer', ['pwd'])).code).toBe(0);
    h.partners.delete('latecomer');
    expect((await runSftp(h.port, late.privatePath, 'latecomer', ['pwd'])).code).not.toBe(0);
  });

  it('offers modern algorithms only', async () => {
    const weak = await tryLogin(h.port, { username: 'pwlab', password, algorithms: { cipher: ['aes128-cbc'] } });
    expect(weak).toMatch(/no matching|handshake failed/i);
    const sha1 = await tryLogin(h.port, { username: 'pwlab', password, algorithms: { kex: ['diffie-hellman-group14-sha1'] } });
    expect(sha1).toMatch(/no matching|handshake failed/i);
    const r = spawnSync('ssh', ['-Q', 'cipher'], { encoding: 'utf8' });
    expect(r.stdout).toContain('aes128-gcm@openssh.com');
  });
});

describe('brute-force defender', () => {
  let dir: string;
  let h: Harness;
  let t = 1_700_000_000_000;
  const password = 'right-password';

  beforeAll(async () => {
    dir = tempDir();
    h = await startZone({
      dir,
      partners: new Map([['pwlab', partner('pwlab', { passwordHash: hashPassword(password) })]]),
      defender: { maxFailures: 5, windowMs: 60_000, banMs: 120_000 },
      now: () => t,
    });
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('bans the IP after repeated wrong passwords; even the right password is refused until the ban expires', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await tryLogin(h.port, { username: 'pwlab', password: `wrong-${i}` })).toMatch(/authentication methods failed|closed|ECONNRESET/i);
    }
    const bans = h.audit.filter((a) => a.action === 'sftp.ban');
    expect(bans.map((b) => b.details.kind).sort()).toEqual(['ip', 'user']);
    expect(bans.find((b) => b.details.kind === 'ip')?.details).toMatchObject({ key: '127.0.0.1', durationMs: 120_000, strike: 1 });
    // 6th attempt, now with the right password: refused at the door.
    expect(await tryLogin(h.port, { username: 'pwlab', password })).not.toBe('ok');
    expect(h.audit.some((a) => a.action === 'sftp.refused' && a.details.reason === 'banned')).toBe(true);
    t += 60_000;
    expect(await tryLogin(h.port, { username: 'pwlab', password })).not.toBe('ok');
    t += 60_001;
    expect(await tryLogin(h.port, { username: 'pwlab', password })).toBe('ok');
  });

  it('the next ban for the same IP lasts twice as long', async () => {
    for (let i = 0; i < 5; i++) await tryLogin(h.port, { username: 'pwlab', password: 'nope' });
    const ipBans = h.audit.filter((a) => a.action === 'sftp.ban' && a.details.kind === 'ip');
    expect(ipBans.at(-1)?.details).toMatchObject({ strike: 2, durationMs: 240_000 });
    t += 240_001;
    expect(await tryLogin(h.port, { username: 'pwlab', password })).toBe('ok');
  });
});

describe('connection handling', () => {
  let dir: string;
  let key: KeyPair;
  let h: Harness;

  beforeAll(async () => {
    dir = tempDir();
    key = sshKeygen(dir, 'acme_key');
    h = await startZone({ dir, loginGraceMs: 300, partners: new Map([['acme', partner('acme', { publicKeys: [key.publicLine] })]]) });
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('closes a connection that does not authenticate within the login grace time', async () => {
    const sock = netConnect(h.port, '127.0.0.1');
    let banner = '';
    sock.on('data', (d) => (banner += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.write('SSH-2.0-idle_client\r\n');
    await new Promise<void>((resolve) => sock.once('close', () => resolve()));
    expect(banner.startsWith('SSH-2.0-lotgate')).toBe(true);
    expect(h.audit.some((a) => a.action === 'sftp.login_timeout')).toBe(true);
    await waitFor(() => h.zone.connections() === 0, 5_000, 'connection count to drop');
    // A silent client (not even an SSH banner) is cut off too.
    const mute = netConnect(h.port, '127.0.0.1');
    mute.on('error', () => undefined);
    mute.resume(); // read (and drop) what the server sends, or 'close' never comes
    await new Promise<void>((resolve) => mute.once('close', () => resolve()));
  });

  it('an authenticated session is not cut by the grace timer', async () => {
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: 'acme', privateKey: readFileSync(key.privatePath) });
    await new Promise((r) => setTimeout(r, 600));
    expect(await c.cwd()).toBe('/');
    await c.end();
  });

  it('survives garbage bytes on the port and keeps serving', async () => {
    for (const junk of [randomBytes(64 * 1024), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), randomBytes(4096)]), Buffer.from('SSH-2.0-x\r\n' + '\u0000'.repeat(100))]) {
      const s = netConnect(h.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume();
      s.write(junk);
      await new Promise<void>((resolve) => s.once('close', () => resolve()));
    }
    // Half-open then reset mid-handshake.
    const s = netConnect(h.port, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.resetAndDestroy();
    writeFileSync(join(dir, 'after.csv'), 'still here\n');
    const r = await runSftp(h.port, key.privatePath, 'acme', ['put after.csv /inbound/after.csv'], { cwd: dir });
    expect(r.code).toBe(0);
    await waitFor(() => h.uploaded.find((u) => u.name === 'after.csv'));
    await waitFor(() => h.zone.connections() === 0, 5_000, 'all junk connections gone');
  });

  it('refuses shells, exec and port forwarding', async () => {
    const c = new Client();
    await new Promise<void>((resolve, reject) => {
      c.on('ready', () => resolve());
      c.on('error', reject);
      c.connect({ host: '127.0.0.1', port: h.port, username: 'acme', privateKey: readFileSync(key.privatePath) });
    });
    const execErr = await new Promise<Error | undefined>((resolve) => c.exec('id', (err) => resolve(err)));
    expect(execErr).toBeInstanceOf(Error);
    const shellErr = await new Promise<Error | undefined>((resolve) => c.shell((err) => resolve(err)));
    expect(shellErr).toBeInstanceOf(Error);
    const fwdErr = await new Promise<Error | undefined>((resolve) => c.forwardOut('127.0.0.1', 1, '127.0.0.1', h.port, (err) => resolve(err)));
    expect(fwdErr).toBeInstanceOf(Error);
    c.end();
  });
});

describe('host key', () => {
  it('is kept across restarts: same fingerprint, and it is the key clients see', async () => {
    const dir = tempDir();
    const key = sshKeygen(dir, 'k');
    const partners = new Map([['acme', partner('acme', { publicKeys: [key.publicLine] })]]);
    const seen: string[] = [];
    const fpOfClientView = async (port: number) =>
      tryLogin(port, {
        username: 'acme',
        privateKey: readFileSync(key.privatePath),
        hostVerifier: (k: Buffer) => {
          seen.push('SHA256:' + createHash('sha256').update(k).digest('base64').replace(/=+$/, ''));
          return true;
        },
      });
    const a = await startZone({ dir, partners });
    expect(await fpOfClientView(a.port)).toBe('ok');
    const fp1 = a.zone.hostKeyFingerprint;
    await a.close();
    const mode = statSync(join(dir, 'host_ed25519')).mode & 0o777;
    const b = await startZone({ dir, partners });
    expect(await fpOfClientView(b.port)).toBe('ok');
    expect(b.zone.hostKeyFingerprint).toBe(fp1);
    expect(seen).toEqual([fp1, fp1]);
    expect(mode).toBe(0o600);
    await b.close();
    cleanup(dir);
  });
});
