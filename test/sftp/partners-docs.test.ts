// The client examples in docs/partners.md run as written against a drop zone: only the host,
// the port and the host key fingerprint are replaced, and HOME is a throwaway folder holding
// the key at ~/.ssh/lotgate_ed25519 (and an ssh config that trusts this test server).

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startZone, sshKeygen, partner, tempDir, cleanup, waitFor, type Harness } from './helpers.js';
import { missing, run } from './clients.js';

const guide = readFileSync(fileURLToPath(new URL('../../docs/partners.md', import.meta.url)), 'utf8');
const FILE = 'Chargenstatus_20261119.csv';

interface Example {
  lang: 'sh' | 'python';
  code: string;
  /** The client the example runs, for skipping when it is not installed. */
  binary: string;
}

function examples(): Example[] {
  const out: Example[] = [];
  for (const m of guide.matchAll(/```(sh|python)\n([\s\S]*?)```/g)) {
    const lang = m[1] as Example['lang'];
    const code = m[2];
    const binary = lang === 'python' ? '/usr/bin/python3' : `/usr/bin/${/^\s*(sftp|lftp|curl|rclone)\b/m.exec(code.replace(/^(cat|export)[\s\S]*?\n(?=\S)/m, ''))?.[1] ?? 'bash'}`;
    out.push({ lang, code, binary });
  }
  return out;
}

describe('docs/partners.md: client examples run as written', () => {
  let dir: string;
  let home: string;
  let bin: string;
  let h: Harness;

  beforeAll(async () => {
    dir = tempDir();
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    const key = sshKeygen(dir, 'lotgate_ed25519');
    copyFileSync(key.privatePath, join(home, '.ssh', 'lotgate_ed25519'));
    copyFileSync(`${key.privatePath}.pub`, join(home, '.ssh', 'lotgate_ed25519.pub'));
    chmodSync(join(home, '.ssh', 'lotgate_ed25519'), 0o600);
    writeFileSync(join(home, '.ssh', 'config'), 'Host 127.0.0.1\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n');
    // OpenSSH reads ~/.ssh from the passwd entry, not $HOME: `ssh` and `sftp` first on PATH add
    // `-F` with the config above (what a partner's accepted known_hosts entry does for them).
    bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['ssh', 'sftp']) {
      writeFileSync(join(bin, tool), `#!/bin/sh\nexec /usr/bin/${tool} -F "$HOME/.ssh/config" "$@"\n`, { mode: 0o755 });
    }
    h = await startZone({ dir, partners: new Map([['acme-cmo', partner('acme-cmo', { publicKeys: [key.publicLine] })]]) });
    mkdirSync(join(h.dropDir, 'acme-cmo', 'outbound'), { recursive: true });
    writeFileSync(join(h.dropDir, 'acme-cmo', 'outbound', `${FILE}.ack.json`), '{"file":"Chargenstatus_20261119.csv","state":"applied"}\n');
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('the guide has an example for every client in the matrix', () => {
    expect(examples().map((e) => e.binary.split('/').pop())).toEqual(['sftp', 'lftp', 'curl', 'rclone', 'python3']);
  });

  examples().forEach((ex, i) => {
    const why = missing(ex.binary);
    it.skipIf(why)(`example ${i + 1} (${ex.binary.split('/').pop()})${why ? ` — skipped: ${why}` : ''}`, async () => {
      const cwd = join(dir, `ex${i}`);
      mkdirSync(cwd);
      writeFileSync(join(cwd, FILE), `lot;status\nL${i};released\n`);
      const code = ex.code
        .replaceAll('sftp.example.com', '127.0.0.1')
        .replaceAll('2222', String(h.port))
        .replace(/'3q2\+7w…'/g, `'${h.zone.hostKeyFingerprint.replace(/^SHA256:/, '')}'`);
      const before = h.uploaded.length;
      const env = { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}`, RCLONE_CONFIG: join(home, 'rclone.conf') };
      const r = ex.lang === 'python' ? await run('/usr/bin/python3', ['-c', code], { cwd, env }) : await run('/bin/bash', ['-euo', 'pipefail', '-c', code], { cwd, env });
      expect(r.code, `${code}\n--- stderr:\n${r.stderr}`).toBe(0);
      const u = await waitFor(() => h.uploaded[before]);
      expect(readFileSync(u.path, 'utf8')).toBe(`lot;status\nL${i};released\n`);
      expect(u.name).toBe(FILE);
      rmSync(u.path); // as intake would take it

    });
  });
});
