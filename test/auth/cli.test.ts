// `lotgate user|token|access` as an operator runs them (compiled CLI in a child process).

import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
let work: string;

function lotgate(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/lotgate.js'), '--config', path.join(work, 'config.yaml'), ...args], {
    cwd: work,
    input,
    encoding: 'utf8',
    env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'lotgate-authcli-'));
  cpSync(path.join(root, 'partners'), path.join(work, 'partners'), { recursive: true });
  copyFileSync(path.join(root, 'config.yaml'), path.join(work, 'config.yaml'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lotgate user / token / access review', () => {
  it('adds a user with a one-time code, the user activates, roles and review show it', () => {
    const add = lotgate(['user', 'add', 'alice', '--name', 'Alice Quality', '--role', 'qa', '--site', '1000', '--json']);
    expect(add.code, add.err).toBe(0);
    const { activationCode } = JSON.parse(add.out);
    expect(lotgate(['user', 'activate', 'alice', '--code', 'wrong'], 'a long enough password\n').code).not.toBe(0);
    const act = lotgate(['user', 'activate', 'alice', '--code', activationCode], 'a long enough password\n');
    expect(act.code, act.err).toBe(0);
    expect(lotgate(['user', 'role', 'alice', 'nosuchrole']).err).toMatch(/E_AUTH_ROLE/);
    expect(lotgate(['user', 'role', 'alice', 'receiving', '--json']).code).toBe(0);
    const list = JSON.parse(lotgate(['user', 'list', '--json']).out);
    expect(list[0]).toMatchObject({ username: 'alice', mfa: 'none', roles: [{ role: 'qa', scope: { sites: ['1000'] } }, { role: 'receiving' }] });
    expect(lotgate(['user', 'add', 'pat', '--name', 'Pat', '--partner', 'nope']).code).toBe(2);
  });

  it('creates, lists and revokes tokens; the review lists tokens and SFTP key fingerprints; CSV too', () => {
    expect(lotgate(['token', 'create', '--name', 'erp-reader']).err).toMatch(/--days/);
    const t = JSON.parse(lotgate(['token', 'create', '--partner', 'acme-cmo', '--days', '90', '--json']).out);
    expect(t.token).toMatch(/^lgt_/);
    const list = JSON.parse(lotgate(['token', 'list', '--json']).out);
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(t.token);
    expect(lotgate(['token', 'revoke', String(t.id), '--json']).out).toContain('"revoked": true');
    const rev = JSON.parse(lotgate(['access', 'review', '--json']).out);
    expect(rev.principals.find((p: any) => p.username === 'svc-acme-cmo').tokens[0]).toMatchObject({ revoked: true, prefix: t.token.slice(0, 12) });
    expect(rev.sftp.some((s: any) => s.keys.some((k: any) => /^SHA256:/.test(k.fingerprint)))).toBe(true);
    const csv = lotgate(['access', 'review', '--csv']).out;
    expect(csv.split('\r\n')[0]).toBe('principal,kind,partner,name,state,mfa,last_login,entry,what,scope_or_id,granted_or_expires,last_used,status');
    expect(csv).toContain('sftp_key');
  });
});
