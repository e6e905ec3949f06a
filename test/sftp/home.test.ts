// The home folder: a partner who types `put file.csv` (no `inbound/`) uploads into /inbound;
// everything that worked from the home before (`cd inbound`, `ls outbound`,
// `get outbound/…`, `put x inbound/x`) still does.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import { startZone, sshKeygen, partner, tempDir, cleanup, runSftp, waitFor, type Harness, type KeyPair } from './helpers.js';

describe('drop zone: the home folder', () => {
  let dir: string;
  let key: KeyPair;
  let h: Harness;
  const inbound = () => join(h.dropDir, 'acme', 'inbound');
  const outbound = () => join(h.dropDir, 'acme', 'outbound');

  beforeAll(async () => {
    dir = tempDir();
    key = sshKeygen(dir, 'acme_key');
    h = await startZone({ dir, partners: new Map([['acme', partner('acme', { publicKeys: [key.publicLine] })]]) });
    writeFileSync(join(dir, 'file.csv'), 'lot;status\nL1;released\n');
    writeFileSync(join(dir, 'other.csv'), 'lot;status\nL2;released\n');
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('OpenSSH sftp: `put file.csv` from the home lands in /inbound', async () => {
    const r = await runSftp(h.port, key.privatePath, 'acme', ['pwd', 'put file.csv', 'ls inbound'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Remote working directory: /');
    const u = await waitFor(() => h.uploaded.find((x) => x.name === 'file.csv'));
    expect(u.path).toBe(join(inbound(), 'file.csv'));
    expect(readFileSync(u.path, 'utf8')).toBe('lot;status\nL1;released\n');
  });

  it('OpenSSH sftp: cd inbound, put x inbound/x, ls outbound and get outbound/… from the home still work', async () => {
    mkdirSync(outbound(), { recursive: true });
    writeFileSync(join(outbound(), 'file.csv.ack.json'), '{"state":"applied"}\n');
    const r = await runSftp(
      h.port,
      key.privatePath,
      'acme',
      ['put other.csv inbound/other-1.csv', 'ls outbound', 'get outbound/file.csv.ack.json ack1.json', 'ls /outbound', 'cd inbound', 'put other.csv other-2.csv', 'get ../outbound/file.csv.ack.json ack2.json'],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('file.csv.ack.json');
    expect(readFileSync(join(dir, 'ack1.json'), 'utf8')).toBe('{"state":"applied"}\n');
    expect(readFileSync(join(dir, 'ack2.json'), 'utf8')).toBe('{"state":"applied"}\n');
    await waitFor(() => h.uploaded.find((x) => x.name === 'other-1.csv'));
    await waitFor(() => h.uploaded.find((x) => x.name === 'other-2.csv'));
  });

  it('a relative put without cd, then stat of the same relative name (paramiko\'s size check), and no read-back', async () => {
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: 'acme', privateKey: readFileSync(key.privatePath), readyTimeout: 10_000 });
    await c.put(Buffer.from('lot;status\nL3;released\n'), 'rel.csv');
    expect((await c.stat('rel.csv')).size).toBe(23);
    expect(await c.realPath('rel.csv')).toBe('/inbound/rel.csv');
    expect(await c.realPath('.')).toBe('/');
    expect((await c.list('.')).map((e) => e.name).sort()).toEqual(['inbound', 'outbound']);
    await expect(c.get('rel.csv')).rejects.toThrow(/acknowledgments are in \/outbound/);
    await c.end();
    await waitFor(() => h.uploaded.find((x) => x.name === 'rel.csv' && x.path === join(inbound(), 'rel.csv')));
  });
});
