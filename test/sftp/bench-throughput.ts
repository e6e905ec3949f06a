// Upload throughput: OpenSSH `sftp -b put` of a 256 MB file to the lotgate drop zone vs. to
// OpenSSH's sshd with internal-sftp on another loopback port. Not part of the test suite.
//
// Run (compiles only what it needs):
//   npx tsc --outDir /tmp/lg-bench --rootDir . --module nodenext --moduleResolution nodenext \
//     --target es2022 --esModuleInterop --skipLibCheck --types node test/sftp/bench-throughput.ts
//   node /tmp/lg-bench/test/sftp/bench-throughput.js [sizeMB] [runs]
// sshd must be installed (apt-get install -y openssh-server) and this must run as root for
// the sshd comparison; otherwise only the drop zone is measured.

import { existsSync, mkdirSync, writeFileSync, rmSync, readdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createDropZone } from '../../pipeline/sftp/drop-zone.js';
import type { PartnerConfig } from '../../pipeline/model/types.js';
import { tempDir, sshKeygen, sftpArgs } from './helpers.js';

const sizeMB = Number(process.argv[2] ?? 256);
const runs = Number(process.argv[3] ?? 3);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function timedPut(port: number, key: string, user: string, local: string, remote: string, extra: string[]): Promise<number> {
  const batch = join(tempDir('lg-bench-batch-'), 'b');
  writeFileSync(batch, `put ${local} ${remote}\n`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/sftp', sftpArgs(port, key, user, batch, extra), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`sftp exited ${code}: ${err}`));
      else resolve(s);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const dir = tempDir('lg-bench-');
  const key = sshKeygen(dir, 'id_bench');
  const file = join(dir, 'big.bin');
  const fd = openSync(file, 'w');
  for (let i = 0; i < sizeMB; i++) writeSync(fd, randomBytes(1024 * 1024));
  closeSync(fd);
  const mb = sizeMB * 1.048576; // MB (10^6 bytes) as sftp reports

  const cipherSets: [string, string[]][] = [
    ['default (client picks)', []],
    ['aes128-gcm', ['-c', 'aes128-gcm@openssh.com']],
  ];

  // --- lotgate drop zone
  const partners = new Map<string, PartnerConfig>([
    ['bench', { id: 'bench', name: 'bench', role: 'cmo', mode: 'live', sites: [], products: [], feeds: [], sftp: { publicKeys: [key.publicLine] } }],
  ]);
  const uploads: { hashMode: string; ooo: number }[] = [];
  const zone = createDropZone({
    dropDir: join(dir, 'drop'),
    host: '127.0.0.1',
    port: 0,
    hostKeyPath: join(dir, 'host_key'),
    partners: () => partners,
    audit: (e) => {
      if (e.action === 'sftp.upload.close') uploads.push({ hashMode: String(e.details.hashMode), ooo: Number(e.details.outOfOrderWrites) });
    },
    onUploaded: (u) => rmSync(u.path),
    onPartial: () => undefined,
    log: pino({ level: 'silent' }),
  });
  const { port } = await zone.listen();

  const results: Record<string, { lotgate: number[]; sshd: number[] }> = {};
  for (const [label, extra] of cipherSets) {
    results[label] = { lotgate: [], sshd: [] };
    for (let i = 0; i < runs; i++) results[label].lotgate.push(await timedPut(port, key.privatePath, 'bench', file, `/inbound/big-${i}.bin`, extra));
  }
  await zone.close();

  // --- OpenSSH sshd + internal-sftp
  const sshd = '/usr/sbin/sshd';
  let sshdOk = existsSync(sshd) && process.getuid?.() === 0;
  if (sshdOk) {
    const sdir = join(dir, 'sshd');
    mkdirSync(sdir);
    mkdirSync('/run/sshd', { recursive: true });
    const hostKey = join(sdir, 'host_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    writeFileSync(join(sdir, 'authorized_keys'), key.publicLine + '\n', { mode: 0o600 });
    const target = join(sdir, 'target');
    mkdirSync(target);
    const sport = await freePort();
    const cfg = join(sdir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `ListenAddress 127.0.0.1`,
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${join(sdir, 'authorized_keys')}`,
        `PidFile ${join(sdir, 'sshd.pid')}`,
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const proc = spawn(sshd, ['-f', cfg, '-D', '-e', '-p', String(sport)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let serr = '';
    proc.stderr.on('data', (d) => (serr += d));
    await new Promise((r) => setTimeout(r, 500));
    try {
      for (const [label, extra] of cipherSets) {
        for (let i = 0; i < runs; i++) {
          results[label].sshd.push(await timedPut(sport, key.privatePath, process.env.USER ?? 'root', file, join(target, `big-${i}.bin`), extra));
          for (const f of readdirSync(target)) rmSync(join(target, f));
        }
      }
    } catch (err) {
      console.error('sshd run failed:', (err as Error).message, serr);
      sshdOk = false;
    } finally {
      proc.kill('SIGTERM');
    }
  }

  console.log(`\nUpload of ${sizeMB} MiB with OpenSSH sftp -b, ${runs} runs each, median wall time (includes login):`);
  for (const [label] of cipherSets) {
    const r = results[label];
    const lg = median(r.lotgate);
    const line = [`  ${label.padEnd(24)} lotgate ${(mb / lg).toFixed(0).padStart(5)} MB/s (${lg.toFixed(2)} s)`];
    if (sshdOk && r.sshd.length) {
      const sd = median(r.sshd);
      line.push(`  sshd ${(mb / sd).toFixed(0).padStart(5)} MB/s (${sd.toFixed(2)} s)  lotgate/sshd time ratio ${(lg / sd).toFixed(2)}`);
    }
    console.log(line.join(''));
  }
  console.log(`  hashing: ${uploads.map((u) => `${u.hashMode}/${u.ooo} out-of-order`).join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
