// Upload throughput: OpenSSH `sftp -b put` of a 256 MB file to the lotgate drop zone vs. to
// OpenSSH's sshd with internal-sftp on another loopback port. Not part of the test suite.
//
// Run (compiles only what it needs):
//   npx tsc --outDir /tmp/lg-bench --rootDir . --module nodenext --moduleResolution nodenext \
//     --target es2022 --esModuleInterop --skipLibCheck --strict --types node test/sftp/bench-throughput.ts
//   node /tmp/lg-bench/test/sftp/bench-throughput.js [sizeMB] [runs]
// sshd must be installed (apt-get install -y openssh-server) and this must run as root for
// the sshd comparison; otherwise only the drop zone is measured.

import { existsSync, mkdirSync, writeFileSync, rmSync, readdirSync, openSync, writeSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createDropZone } from '../../pipeline/sftp/drop-zone.js';
import type { PartnerConfig } from '../../pipeline/model/types.js';
import SftpClient from 'ssh2-sftp-client';
import { tempDir, sshKeygen, sftpArgs, type KeyPair } from './helpers.js';

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
  const batchDir = tempDir('lg-bench-batch-');
  const batch = join(batchDir, 'b');
  writeFileSync(batch, `put ${local} ${remote}\n`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/sftp', sftpArgs(port, key, user, batch, extra), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      rmSync(batchDir, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`sftp exited ${code}: ${err}`));
      else resolve(s);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function startSshd(dir: string, key: KeyPair): Promise<{ port: number; target: string; stop: () => void } | null> {
  const sshd = '/usr/sbin/sshd';
  if (!existsSync(sshd) || process.getuid?.() !== 0) return null;
  const sdir = join(dir, 'sshd');
  mkdirSync(sdir);
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(sdir, 'host_ed25519');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  writeFileSync(join(sdir, 'authorized_keys'), key.publicLine + '\n', { mode: 0o600 });
  const target = join(sdir, 'target');
  mkdirSync(target);
  const port = await freePort();
  const cfg = join(sdir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      'ListenAddress 127.0.0.1',
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
  const proc = spawn(sshd, ['-f', cfg, '-D', '-e', '-p', String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 500));
  return { port, target, stop: () => proc.kill('SIGTERM') };
}

async function sshdCpuForOneUpload(dir: string, key: KeyPair, file: string): Promise<number> {
  const sdir = join(dir, 'sshd');
  const port = await freePort();
  const proc = spawn('/usr/bin/time', ['-f', 'CPU %U %S', '/usr/sbin/sshd', '-d', '-e', '-f', join(sdir, 'sshd_config'), '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => proc.on('close', () => r()));
  await new Promise((r) => setTimeout(r, 300));
  await timedPut(port, key.privatePath, process.env.USER ?? 'root', file, join(sdir, 'target', 'cpu.bin'), []);
  await exited;
  rmSync(join(sdir, 'target', 'cpu.bin'), { force: true });
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
  return m ? Number(m[1]) + Number(m[2]) : NaN;
}

async function main(): Promise<void> {
  const dir = tempDir('lg-bench-');
  const key = sshKeygen(dir, 'id_bench');
  const file = join(dir, 'big.bin');
  const fd = openSync(file, 'w');
  for (let i = 0; i < sizeMB; i++) writeSync(fd, randomBytes(1024 * 1024));
  closeSync(fd);
  const mb = sizeMB * 1.048576; // MB (10^6 bytes)

  const cipherSets: [string, string[]][] = [
    ['default (client picks)', []],
    ['aes128-gcm', ['-c', 'aes128-gcm@openssh.com']],
  ];

  const partners = new Map<string, PartnerConfig>([
    ['bench', { id: 'bench', name: 'bench', role: 'cmo', mode: 'live', sites: [], products: [], feeds: [], sftp: { publicKeys: [key.publicLine] } }],
  ]);
  const uploads: { client: string; hashMode: string; ooo: number; writes: number; maxWin: number }[] = [];
  let client = 'openssh';
  const zone = createDropZone({
    dropDir: join(dir, 'drop'),
    host: '127.0.0.1',
    port: 0,
    hostKeyPath: join(dir, 'host_key'),
    partners: () => partners,
    audit: (e) => {
      if (e.action === 'sftp.upload.close') {
        uploads.push({ client, hashMode: String(e.details.hashMode), ooo: Number(e.details.outOfOrderWrites), writes: Number(e.details.writes), maxWin: Number(e.details.maxReorderBytes) });
      }
    },
    // Off the timed path, as the sshd side deletes its copies after timing.
    onUploaded: (u) => setTimeout(() => rmSync(u.path, { force: true }), 200),
    onPartial: () => undefined,
    log: pino({ level: 'silent' }),
  });
  const { port } = await zone.listen();
  const sshd = await startSshd(dir, key);

  const results: Record<string, { lotgate: number[]; sshd: number[] }> = {};
  const cpu: { lotgate: number[]; sshd: number[] } = { lotgate: [], sshd: [] };
  try {
    for (const [label, extra] of cipherSets) {
      results[label] = { lotgate: [], sshd: [] };
      // Interleaved, so background load on a shared machine hits both alike.
      for (let i = 0; i < runs; i++) {
        const c0 = process.cpuUsage();
        results[label].lotgate.push(await timedPut(port, key.privatePath, 'bench', file, `/inbound/big-${i}.bin`, extra));
        const c1 = process.cpuUsage(c0);
        if (label === cipherSets[0][0]) cpu.lotgate.push((c1.user + c1.system) / 1e6);
        if (sshd) {
          results[label].sshd.push(await timedPut(sshd.port, key.privatePath, process.env.USER ?? 'root', file, join(sshd.target, `big-${i}.bin`), extra));
          for (const f of readdirSync(sshd.target)) rmSync(join(sshd.target, f));
        }
      }
    }
    // Server CPU per upload, which a busy shared machine distorts far less than wall time.
    // sshd -d serves one connection in the foreground; /usr/bin/time adds up it and its children.
    if (sshd && existsSync('/usr/bin/time')) {
      for (let i = 0; i < runs; i++) cpu.sshd.push(await sshdCpuForOneUpload(dir, key, file));
    }
    // How often do clients write out of order? ssh2's fastPut issues writes as reads complete.
    client = 'ssh2-sftp-client fastPut';
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port, username: 'bench', privateKey: readFileSync(key.privatePath) });
    for (let i = 0; i < 3; i++) await c.fastPut(file, `/inbound/fast-${i}.bin`);
    await c.end();
  } finally {
    sshd?.stop();
    await zone.close();
  }

  console.log(`\nUpload of ${sizeMB} MiB with OpenSSH sftp -b, ${runs} interleaved runs each; wall time incl. login, median (min):`);
  for (const [label] of cipherSets) {
    const r = results[label];
    const fmt = (xs: number[]) => `${(mb / median(xs)).toFixed(0).padStart(4)} MB/s (${median(xs).toFixed(2)} s, best ${(mb / Math.min(...xs)).toFixed(0)} MB/s)`;
    let line = `  ${label.padEnd(24)} lotgate ${fmt(r.lotgate)}`;
    if (r.sshd.length) {
      // Each round runs the two back to back, so the ratio within a round shares the machine's
      // momentary load; the median of those ratios is the figure to quote.
      const ratios = r.lotgate.map((t, i) => t / r.sshd[i]);
      line += `   sshd ${fmt(r.sshd)}   lotgate/sshd time: median of per-round ratios ${median(ratios).toFixed(2)} (range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    }
    console.log(line);
  }
  if (cpu.sshd.length) {
    console.log(
      `  server CPU (user+sys) per upload, default cipher: lotgate median ${median(cpu.lotgate).toFixed(2)} s, sshd+internal-sftp median ${median(cpu.sshd).toFixed(2)} s, ratio ${(median(cpu.lotgate) / median(cpu.sshd)).toFixed(2)}`,
    );
  }
  for (const name of ['openssh', 'ssh2-sftp-client fastPut']) {
    const us = uploads.filter((u) => u.client === name);
    console.log(`  ${name}: ${us.map((u) => `${u.ooo}/${u.writes} writes out of order, window max ${(u.maxWin / 1024).toFixed(0)} KiB, hash ${u.hashMode}`).join('; ')}`);
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
