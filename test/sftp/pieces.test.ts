// Unit tests of the small pure pieces: streaming hash with reorder window, collision names,
// listing format, no-clobber placement, host key persistence.

import { describe, it, expect, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync, readFileSync, readdirSync, symlinkSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { OrderedHasher } from '../../pipeline/sftp/ordered-hash.js';
import { createHashPool, localSha256 } from '../../pipeline/sftp/hash-pool.js';
import { numberedName, placeNoClobber } from '../../pipeline/sftp/place.js';
import { RangeSet } from '../../pipeline/sftp/ranges.js';
import { longname, lsDate, toAttrs } from '../../pipeline/sftp/listing.js';
import { loadOrCreateHostKey, generateEd25519OpenSSH } from '../../pipeline/sftp/host-key.js';
import ssh2 from 'ssh2';
import { tempDir, cleanup } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function chunks(data: Buffer, size: number): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let o = 0; o < data.length; o += size) out.push([o, data.subarray(o, o + size)]);
  return out;
}

describe('OrderedHasher', async () => {
  const data = randomBytes(100_000);

  it('streams in-order writes', async () => {
    const h = new OrderedHasher(1 << 20);
    for (const [o, c] of chunks(data, 7_000)) h.push(o, c);
    expect(await h.digestFor(data.length)).toBe(sha(data));
    expect(h.stats.outOfOrder).toBe(0);
  });

  it('reorders within the window', async () => {
    const cs = chunks(data, 10_000);
    // swap neighbours and move one chunk far back
    [cs[1], cs[2]] = [cs[2], cs[1]];
    const late = cs.splice(3, 1)[0];
    cs.splice(7, 0, late);
    const h = new OrderedHasher(1 << 20);
    for (const [o, c] of cs) h.push(o, c);
    expect(h.stats.outOfOrder).toBeGreaterThan(0);
    expect(h.stats.fallbackReason).toBeNull();
    expect(await h.digestFor(data.length)).toBe(sha(data));
  });

  it('falls back (returns null) when the window overflows, on overlaps, holes or size mismatch', async () => {
    const cs = chunks(data, 10_000);
    const h1 = new OrderedHasher(15_000);
    for (const [o, c] of [...cs].reverse()) h1.push(o, c);
    expect(await h1.digestFor(data.length)).toBeNull();
    expect(h1.stats.fallbackReason).toMatch(/out of order/);

    const h2 = new OrderedHasher(1 << 20);
    h2.push(0, data.subarray(0, 100));
    h2.push(50, data.subarray(50, 150)); // overlap
    expect(await h2.digestFor(150)).toBeNull();

    const h3 = new OrderedHasher(1 << 20);
    h3.push(0, data.subarray(0, 100));
    h3.push(200, data.subarray(200, 300)); // hole 100..200
    expect(await h3.digestFor(300)).toBeNull();

    const h4 = new OrderedHasher(1 << 20);
    h4.push(0, data.subarray(0, 100));
    expect(await h4.digestFor(120)).toBeNull(); // file grew by other means
  });

  it('hashes the empty file', async () => {
    expect(await new OrderedHasher(10).digestFor(0)).toBe(sha(Buffer.alloc(0)));
  });
});

describe('hash pool (worker thread)', () => {
  it('gives the same digest as in-process hashing, across batch boundaries and many streams', async () => {
    const pool = createHashPool({ useWorker: true });
    const inputs = [Buffer.alloc(0), randomBytes(1), randomBytes(1024 * 1024), randomBytes(3 * 1024 * 1024 + 12345)];
    const sinks = inputs.map(() => pool.sink());
    // Interleave updates of all streams in odd chunk sizes.
    for (let off = 0; off < 4 * 1024 * 1024; off += 77_777) {
      inputs.forEach((b, i) => {
        if (off < b.length) sinks[i].update(b.subarray(off, off + 77_777));
      });
    }
    expect(await Promise.all(sinks.map((s) => s.digest()))).toEqual(inputs.map(sha));
    const aborted = pool.sink();
    aborted.update(randomBytes(10));
    aborted.abort();
    await expect(aborted.digest()).rejects.toThrow();
    const orphan = pool.sink();
    orphan.update(randomBytes(10));
    await pool.close();
    // The worker is gone: a digest it can no longer give is refused, never made up.
    await expect(orphan.digest()).rejects.toThrow();
    // After close, sinks still work (in-process) and pending ones fail loudly, never wrongly.
    const after = pool.sink();
    after.update(Buffer.from('abc'));
    expect(await after.digest()).toBe(sha(Buffer.from('abc')));
  });

  it('an OrderedHasher whose sink fails reports null (the upload then re-reads its file)', async () => {
    const failing = { update() {}, digest: () => Promise.reject(new Error('hash worker exited (1)')), abort() {} };
    const h = new OrderedHasher(1024, failing);
    h.push(0, Buffer.from('abc'));
    expect(await h.digestFor(3)).toBeNull();
    expect(h.stats.fallbackReason).toMatch(/worker exited/);
  });

  it('an OrderedHasher on a worker sink reorders like the local one', async () => {
    const pool = createHashPool({ useWorker: true });
    const data = randomBytes(2_500_000);
    const cs = chunks(data, 32_768);
    for (let i = 0; i + 1 < cs.length; i += 2) [cs[i], cs[i + 1]] = [cs[i + 1], cs[i]];
    const h = new OrderedHasher(1 << 20, pool.sink());
    for (const [o, c] of cs) h.push(o, c);
    expect(await h.digestFor(data.length)).toBe(sha(data));
    const local = new OrderedHasher(1 << 20, localSha256());
    for (const [o, c] of cs) local.push(o, c);
    expect(await local.digestFor(data.length)).toBe(sha(data));
    await pool.close();
  });
});

describe('RangeSet', () => {
  it('merges in-order, out-of-order, overlapping and adjacent writes', () => {
    const r = new RangeSet();
    r.add(0, 10);
    r.add(10, 20);
    expect(r.covers(20)).toBe(true);
    r.add(40, 50);
    r.add(25, 30);
    expect(r.count).toBe(3);
    expect(r.covers(50)).toBe(false);
    expect(r.firstGap(50)).toEqual([20, 25]);
    r.add(18, 26);
    expect(r.firstGap(50)).toEqual([30, 40]);
    r.add(29, 41);
    expect(r.count).toBe(1);
    expect(r.covers(50)).toBe(true);
    expect(r.covers(51)).toBe(false);
    expect(r.firstGap(51)).toEqual([50, 51]);
  });
  it('a file that does not start at 0 has a gap at the start; empty is complete', () => {
    const r = new RangeSet();
    expect(r.covers(0)).toBe(true);
    r.add(100, 200);
    expect(r.covers(200)).toBe(false);
    expect(r.firstGap(200)).toEqual([0, 100]);
    r.add(5, 5); // empty write changes nothing
    expect(r.count).toBe(1);
  });
  it('random order of 1000 chunks ends as one range', () => {
    const r = new RangeSet();
    const order = Array.from({ length: 1000 }, (_, i) => i).sort(() => Math.random() - 0.5);
    for (const i of order) r.add(i * 7, i * 7 + 7);
    expect(r.covers(7000)).toBe(true);
  });
});

describe('numberedName', () => {
  it('inserts (n) before the last extension', () => {
    expect(numberedName('lots.csv', 1)).toBe('lots.csv');
    expect(numberedName('lots.csv', 2)).toBe('lots (2).csv');
    expect(numberedName('batch.tar.gz', 3)).toBe('batch.tar (3).gz');
    expect(numberedName('README', 2)).toBe('README (2)');
    expect(numberedName('trailing.', 2)).toBe('trailing. (2)');
    expect(numberedName('Prüfbericht 7.pdf', 12)).toBe('Prüfbericht 7 (12).pdf');
  });
  it('stays within 255 bytes', () => {
    const n = numberedName('é'.repeat(126) + '.csv', 10);
    expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
    expect(n.endsWith(' (10).csv')).toBe(true);
  });
});

describe('placeNoClobber', () => {
  const dir = tempDir();
  afterAll(() => cleanup(dir));

  it('never replaces an existing file or follows a symlink at the target', () => {
    writeFileSync(join(dir, 'a.csv'), 'first');
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'untouched');
    symlinkSync(outside, join(dir, 'a (2).csv'));
    writeFileSync(join(dir, '.t1'), 'second');
    return placeNoClobber(join(dir, '.t1'), dir, 'a.csv').then((name) => {
      expect(name).toBe('a (3).csv');
      expect(readFileSync(join(dir, 'a.csv'), 'utf8')).toBe('first');
      expect(readFileSync(outside, 'utf8')).toBe('untouched');
      expect(readFileSync(join(dir, 'a (3).csv'), 'utf8')).toBe('second');
      expect(existsSync(join(dir, '.t1'))).toBe(false);
    });
  });
});

describe('listing', () => {
  it('formats longname like OpenSSH sftp-server', () => {
    const now = new Date(2026, 5, 15, 12, 0).getTime();
    const recent = new Date(2026, 5, 3, 9, 7).getTime();
    const old = new Date(2025, 0, 2, 9, 7).getTime();
    expect(longname({ name: 'lots.csv', isDir: false, size: 1234, mtimeMs: recent }, 'acme', now)).toBe(
      '-rw-r--r--    1 acme     acme         1234 Jun  3 09:07 lots.csv',
    );
    expect(longname({ name: 'inbound', isDir: true, size: 4096, mtimeMs: old }, 'a-very-long-partner', now)).toBe(
      'drwxr-xr-x    2 a-very-l a-very-l     4096 Jan  2  2025 inbound',
    );
    expect(lsDate(now + 3600_000, now)).toMatch(/ {2}2026$/); // future dates show the year, as ls does
  });
  it('attrs carry the file type bits clients rely on', () => {
    expect(toAttrs({ name: 'x', isDir: true, size: 1, mtimeMs: 5000 }).mode & 0o170000).toBe(0o040000);
    expect(toAttrs({ name: 'x', isDir: false, size: 1, mtimeMs: 5000 })).toMatchObject({ mode: 0o100644, size: 1, mtime: 5, atime: 5 });
  });
});

describe('host key', () => {
  const dir = tempDir();
  afterAll(() => cleanup(dir));

  it('is generated once, private (0600), parseable by OpenSSH, and reused', () => {
    const path = join(dir, 'keys', 'host_ed25519');
    const a = loadOrCreateHostKey(path);
    expect(a.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path], { encoding: 'utf8' });
    expect(fp.status).toBe(0);
    expect(fp.stdout).toContain(a.fingerprint);
    expect(fp.stdout).toContain('(ED25519)');
    const b = loadOrCreateHostKey(path);
    expect(b.created).toBe(false);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['host_ed25519', 'host_ed25519.pub']);
  });

  it('writes valid keys even when the public key starts with a zero byte (ssh2\'s own generator does not)', () => {
    let found = 0;
    for (let i = 0; i < 20_000 && found < 3; i++) {
      const pem = generateEd25519OpenSSH('t');
      const k = ssh2.utils.parseKey(pem);
      if (k instanceof Error || Array.isArray(k)) throw new Error(`unparseable key: ${String(k)}\n${pem}`);
      if (k.getPublicSSH()[19] !== 0) continue; // 4+11+4 bytes of header, then the 32-byte key
      found++;
      const path = join(dir, `zero-${found}`);
      writeFileSync(path, pem, { mode: 0o600 });
      const r = spawnSync('ssh-keygen', ['-y', '-f', path], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.split(' ')[1]).toBe(k.getPublicSSH().toString('base64'));
      expect(k.verify(Buffer.from('data'), k.sign(Buffer.from('data')))).toBe(true);
    }
    expect(found).toBe(3);
  });

  it('refuses a file that is not a private key instead of replacing it', () => {
    const path = join(dir, 'bad_key');
    writeFileSync(path, 'not a key');
    expect(() => loadOrCreateHostKey(path)).toThrow(/E_HOST_KEY/);
    expect(readFileSync(path, 'utf8')).toBe('not a key');
  });
});
