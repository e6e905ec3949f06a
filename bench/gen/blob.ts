// An incompressible file of a given size (seeded pseudo-random bytes) for the upload scenario:
// SFTP does not compress by default, so content does not matter, only that both servers get
// the same bytes.

import { createWriteStream } from 'node:fs';
import { Rng } from '../lib/rng.js';

export async function writeRandomFile(file: string, bytes: number, seed: number): Promise<void> {
  const r = new Rng(seed);
  const out = createWriteStream(file);
  const CHUNK = 1 << 20;
  for (let left = bytes; left > 0; left -= CHUNK) {
    const n = Math.min(CHUNK, left);
    const buf = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) buf.writeUInt32LE((r.next() * 4294967296) >>> 0, i);
    for (let i = n - (n % 4); i < n; i++) buf[i] = (r.next() * 256) | 0;
    if (!out.write(buf)) await new Promise<void>((res) => out.once('drain', () => res()));
  }
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}
