// Paths as real clients send them: "." and ".." inside the jail resolve as OpenSSH's
// sftp-server resolves them (lftp's `cd inbound` stats `/inbound/.`); leaving the jail is refused.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startZone, sshKeygen, partner, tempDir, cleanup, runSftp, waitFor, type Harness, type KeyPair } from './helpers.js';
import { runLftp, missing } from './clients.js';

describe('drop zone: "." and ".." inside the jail', () => {
  let dir: string;
  let key: KeyPair;
  let h: Harness;
  const outbound = () => join(h.dropDir, 'acme', 'outbound');

  beforeAll(async () => {
    dir = tempDir();
    key = sshKeygen(dir, 'acme_key');
    h = await startZone({ dir, partners: new Map([['acme', partner('acme', { publicKeys: [key.publicLine] })]]) });
    writeFileSync(join(dir, 'a.csv'), 'lot;status\nL1;released\n');
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('OpenSSH sftp: put, ls and get through "." and ".." that stay inside', async () => {
    mkdirSync(outbound(), { recursive: true });
    writeFileSync(join(outbound(), 'old.csv.ack.json'), '{"state":"applied"}\n');
    const r = await runSftp(
      h.port,
      key.privatePath,
      'acme',
      ['cd inbound/.', 'put a.csv ./dot.csv', 'put a.csv ../inbound/./dotdot.csv', 'ls ../outbound', 'get ../outbound/./old.csv.ack.json got.json', 'cd ../outbound', 'pwd'],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('old.csv.ack.json');
    expect(r.stdout).toContain('Remote working directory: /outbound');
    expect(readFileSync(join(dir, 'got.json'), 'utf8')).toBe('{"state":"applied"}\n');
    await waitFor(() => h.uploaded.find((u) => u.name === 'dot.csv'));
    await waitFor(() => h.uploaded.find((u) => u.name === 'dotdot.csv'));
  });

  it('OpenSSH sftp: a ".." above "/" is refused and audited; nothing is written', async () => {
    const r = await runSftp(h.port, key.privatePath, 'acme', ['put a.csv /inbound/../../acme/inbound/escape.csv'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(h.uploaded.some((u) => u.name === 'escape.csv')).toBe(false);
    expect(h.audit.some((a) => a.action === 'sftp.denied' && String(a.details.path).includes('escape.csv'))).toBe(true);
  });

  const noLftp = missing('/usr/bin/lftp');
  it.skipIf(noLftp)(`lftp: cd inbound (STAT /inbound/.), put, ls${noLftp ? ` — skipped: ${noLftp}` : ''}`, async () => {
    const r = await runLftp(h.port, key.privatePath, 'acme', ['cd inbound', 'put a.csv -o lftp.csv', 'cls -1', 'cd ../outbound', 'pwd'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sftp:\/\/acme:?@127\.0\.0\.1:\d+\/outbound$/m);
    const u = await waitFor(() => h.uploaded.find((x) => x.name === 'lftp.csv'));
    expect(readFileSync(u.path, 'utf8')).toBe('lot;status\nL1;released\n');
    expect(existsSync(join(h.dropDir, 'acme', 'inbound', 'lftp.csv'))).toBe(true);
  });
});
