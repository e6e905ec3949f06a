import { writeFileSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createDropZone } from '../../pipeline/sftp/drop-zone.js';
import { tempDir, sshKeygen, sftpArgs } from './helpers.js';
const dir = tempDir('lg-prof-');
const key = sshKeygen(dir, 'k');
const file = join(dir, 'big.bin');
const fd = openSync(file, 'w'); for (let i = 0; i < 256; i++) writeSync(fd, randomBytes(1 << 20)); closeSync(fd);
const partners = new Map([['bench', { id: 'bench', name: 'b', role: 'cmo', mode: 'live', sites: [], products: [], feeds: [], sftp: { publicKeys: [key.publicLine] } }]]) as any;
const zone = createDropZone({ dropDir: join(dir, 'drop'), host: '127.0.0.1', port: 0, hostKeyPath: join(dir, 'hk'), partners: () => partners,
  audit: (e) => { if (e.action.startsWith('sftp.upload')) console.log(e.action, e.details.durationMs); }, onUploaded: (u) => setTimeout(() => rmSync(u.path, { force: true }), 50), onPartial: () => {}, log: pino({ level: 'silent' }) });
const { port } = await zone.listen();
const cipher = process.env.CIPHER ? ['-c', process.env.CIPHER] : [];
for (let i = 0; i < Number(process.env.RUNS ?? 3); i++) {
  const batch = join(dir, 'b'); writeFileSync(batch, `put ${file} /inbound/x${i}\n`);
  const t0 = Date.now();
  await new Promise((r) => spawn('/usr/bin/sftp', sftpArgs(port, key.privatePath, 'bench', batch, cipher), { stdio: 'inherit' }).on('close', r));
  console.log('wall', Date.now() - t0);
}
await zone.close(); rmSync(dir, { recursive: true, force: true });
