// Partner administration over the API: add, mode, SFTP keys, password — the same partner files
// as `lotgate partner add`, unscoped admins only, every change audited, nothing secret returned.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPartners } from '../../pipeline/config/partners.js';
import { verifyPassword } from '../../pipeline/sftp/passwords.js';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let h: Record<string, string>;
beforeAll(async () => {
  f = await apiFixture({ story: false });
  await f.user('admin', [['admin']]);
  const s = await f.login('admin');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
}, 120_000);
afterAll(() => f?.close());

const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, headers = h) => f.app.inject({ method, url, payload, headers });
const newKey = () => utils.generateKeyPairSync('ed25519', { comment: 'test' }).public;
const fileOf = (id: string) => loadPartners(f.inst.lg.config.partnersDir).get(id);

describe('partner administration API', () => {
  it('adds a partner (file and folders), changes its mode, adds and removes keys, sets a password; audited', async () => {
    const k1 = newKey();
    const add = await call('POST', '/api/v1/admin/partners', { id: 'echo-lab', name: 'Echo Labs', role: 'lab', publicKeys: [k1], sites: ['Basel'] });
    expect(add.statusCode, add.body).toBe(201);
    expect(add.json()).toEqual({ id: 'echo-lab', name: 'Echo Labs', role: 'lab', mode: 'review', keys: 1, password: false, twoStep: false });
    expect(fileOf('echo-lab')).toMatchObject({ mode: 'review', sites: ['Basel'], sftp: { publicKeys: [k1] } });
    expect(readFileSync(path.join(f.inst.lg.config.partnersDir, 'echo-lab.yaml'), 'utf8')).toMatch(/added with `lotgate partner add`/);
    expect((await call('POST', '/api/v1/admin/partners', { id: 'echo-lab', name: 'again', role: 'lab', publicKeys: [k1] })).json().error.code).toBe('E_PARTNER_EXISTS');
    expect((await call('POST', '/api/v1/admin/partners', { id: 'fox', name: 'No login', role: 'lab' })).json().error.code).toBe('E_PARTNER_LOGIN');
    expect((await call('POST', '/api/v1/admin/partners', { id: 'Bad_Id', name: 'x', role: 'lab', password: 'long enough password' })).json().error.code).toBe('E_PARTNER_ID');

    const mode = await call('POST', '/api/v1/admin/partners/echo-lab/mode', { mode: 'shadow' });
    expect(mode.json()).toMatchObject({ id: 'echo-lab', mode: 'shadow', before: 'review' });
    expect(fileOf('echo-lab')!.mode).toBe('shadow');
    expect((await call('POST', '/api/v1/admin/partners/echo-lab/mode', { mode: 'chaos' })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/admin/partners/nobody/mode', { mode: 'live' })).statusCode).toBe(404);

    const k2 = newKey();
    const added = (await call('POST', '/api/v1/admin/partners/echo-lab/keys', { publicKey: k2 })).json();
    expect(added).toEqual({ fingerprint: expect.stringMatching(/^SHA256:/), added: true });
    expect(fileOf('echo-lab')!.sftp!.publicKeys).toEqual([k1, k2]);
    expect((await call('POST', '/api/v1/admin/partners/echo-lab/keys', { publicKey: 'ssh-ed25519 nonsense' })).json().error.code).toBe('E_KEY_FORMAT');
    const rm = await call('DELETE', `/api/v1/admin/partners/echo-lab/keys?fingerprint=${encodeURIComponent(added.fingerprint)}`);
    expect(rm.json()).toEqual({ fingerprint: added.fingerprint, removed: true });
    expect(fileOf('echo-lab')!.sftp!.publicKeys).toEqual([k1]);
    const access = (await call('GET', '/api/v1/partners')).statusCode;
    expect(access).toBe(200);
    // The last way to log in stays.
    const fp1 = utils.parseKey(k1) as { getPublicSSH(): Buffer };
    const { keyFingerprint } = await import('../../pipeline/sftp/keys.js');
    const last = await call('DELETE', `/api/v1/admin/partners/echo-lab/keys?fingerprint=${encodeURIComponent(keyFingerprint(fp1.getPublicSSH()))}`);
    expect(last.json().error.code).toBe('E_PARTNER_LOGIN');

    expect((await call('PUT', '/api/v1/admin/partners/echo-lab/password', { password: 'short' })).json().error.code).toBe('E_PARTNER_PASSWORD');
    const pw = await call('PUT', '/api/v1/admin/partners/echo-lab/password', { password: 'a long partner password' });
    expect(pw.statusCode).toBe(204);
    expect(pw.body).toBe('');
    const hash = fileOf('echo-lab')!.sftp!.passwordHash!;
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword('a long partner password', hash)).toBe(true);

    const audit = await f.inst.lg.store.audit.listAudit({ subject: 'partner:echo-lab', limit: 20 });
    expect(audit.map((e) => e.action).sort()).toEqual(['partner.added', 'partner.key_added', 'partner.key_removed', 'partner.mode_changed', 'partner.password_set']);
    expect(JSON.stringify(audit)).not.toContain('a long partner password');
    expect(JSON.stringify(audit)).not.toContain(hash);
    expect(audit.every((e) => /^principal:\d+$/.test(e.actor))).toBe(true);
  });

  it('needs partners:manage in an unscoped binding', async () => {
    await f.user('siteadmin', [['admin', { sites: ['1000'] }]]);
    const s = await f.login('siteadmin');
    const hh = { cookie: s.cookie, 'x-csrf-token': s.csrf };
    expect((await call('POST', '/api/v1/admin/partners/echo-lab/mode', { mode: 'live' }, hh)).statusCode).toBe(403);
    await f.user('ops', [['ops']]);
    const o = await f.login('ops');
    expect((await call('POST', '/api/v1/admin/partners/echo-lab/mode', { mode: 'live' }, { cookie: o.cookie, 'x-csrf-token': o.csrf })).statusCode).toBe(403);
    expect((await f.app.inject({ method: 'POST', url: '/api/v1/admin/partners/echo-lab/mode', payload: { mode: 'live' } })).statusCode).toBe(401);
    expect(fileOf('echo-lab')!.mode).toBe('shadow');
  });
});

describe('partner mode and key commands', () => {
  it('`lotgate partner mode` and `partner key add|remove` change the same file, with the same refusals', async () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/lotgate.js', '--config', path.join(f.inst.work, 'config.yaml'), ...args], { encoding: 'utf8', env: { ...process.env, LOTGATE_LOG_LEVEL: 'silent' } });
    expect(run('partner', 'mode', 'echo-lab', 'live').stdout).toMatch(/echo-lab: mode shadow → live/);
    expect(fileOf('echo-lab')!.mode).toBe('live');
    const bad = run('partner', 'mode', 'echo-lab', 'chaos');
    expect(bad.status).toBe(2);
    const keyFile = path.join(f.inst.work, 'echo3.pub');
    const k3 = newKey();
    writeFileSync(keyFile, k3 + '\n');
    const added = run('partner', 'key', 'add', 'echo-lab', keyFile);
    expect(added.stdout, added.stderr).toMatch(/key SHA256:\S+ added/);
    expect(fileOf('echo-lab')!.sftp!.publicKeys).toContain(k3);
    const fp = /key (SHA256:\S+) added/.exec(added.stdout)![1];
    expect(run('partner', 'key', 'remove', 'echo-lab', fp).status).toBe(0);
    expect(fileOf('echo-lab')!.sftp!.publicKeys).not.toContain(k3);
    const missing = run('partner', 'key', 'remove', 'echo-lab', fp);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/E_PARTNER_KEY_NOT_FOUND/);
    const cli = (await f.inst.lg.store.audit.listAudit({ subject: 'partner:echo-lab', limit: 50 })).filter((e) => e.actor.startsWith('cli:'));
    expect(cli.map((e) => e.action).sort()).toEqual(['partner.key_added', 'partner.key_removed', 'partner.mode_changed']);
  });
});
