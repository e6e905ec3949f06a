// The drop zone end to end, against the real server on 127.0.0.1: uploads with OpenSSH sftp and
// ssh2-sftp-client, listings, downloads, the jail, collisions, staged uploads, partial uploads.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync, readFileSync, readdirSync, existsSync, symlinkSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import SftpClient from 'ssh2-sftp-client';
import { startZone, sshKeygen, partner, tempDir, cleanup, runSftp, spawnSftp, waitFor, type Harness, type KeyPair } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface ssh2Sftp {
  open(p: string, flags: string, cb: (err: Error | undefined, h: Buffer) => void): void;
  write(h: Buffer, b: Buffer, off: number, len: number, pos: number, cb: (err?: Error) => void): void;
  close(h: Buffer, cb: (err?: Error) => void): void;
}

function hiddenIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.')) : [];
}

describe('drop zone: transfers and jail', () => {
  let dir: string;
  let key: KeyPair;
  let otherKey: KeyPair;
  let h: Harness;
  const inbound = () => join(h.dropDir, 'acme', 'inbound');
  const outbound = () => join(h.dropDir, 'acme', 'outbound');

  async function client(user = 'acme', k: KeyPair = key): Promise<SftpClient> {
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: user, privateKey: readFileSync(k.privatePath), readyTimeout: 10_000 });
    return c;
  }

  beforeAll(async () => {
    dir = tempDir();
    key = sshKeygen(dir, 'acme_key');
    otherKey = sshKeygen(dir, 'other_key');
    h = await startZone({
      dir,
      partners: new Map([
        ['acme', partner('acme', { publicKeys: [key.publicLine] })],
        ['other', partner('other', { publicKeys: [otherKey.publicLine] })],
      ]),
    });
    // The other partner's folders, with something worth stealing in them.
    const o = await client('other', otherKey);
    await o.put(Buffer.from('secret lots of other\n'), '/inbound/secret.csv');
    await o.end();
    mkdirSync(join(h.dropDir, 'other', 'outbound'), { recursive: true });
    writeFileSync(join(h.dropDir, 'other', 'outbound', 'other.ack.json'), '{"secret":true}');
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  it('uploads with OpenSSH sftp: onUploaded with size and sha256, file in inbound/, no temp left', async () => {
    const data = randomBytes(3_000_000 + 17);
    writeFileSync(join(dir, 'batch_status 1.csv'), data);
    const r = await runSftp(h.port, key.privatePath, 'acme', ['cd inbound', 'put "batch_status 1.csv"'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const u = h.uploaded.find((x) => x.name === 'batch_status 1.csv')!;
    expect(u).toMatchObject({ partner: 'acme', size: data.length, sha256: sha(data), path: join(inbound(), 'batch_status 1.csv') });
    expect(new Date(u.receivedAt).toString()).not.toBe('Invalid Date');
    expect(sha(readFileSync(u.path))).toBe(sha(data));
    expect(hiddenIn(inbound())).toEqual([]);
    const close = h.audit.find((a) => a.action === 'sftp.upload.close' && a.details.name === 'batch_status 1.csv')!;
    expect(close.details).toMatchObject({ bytes: data.length, sha256: sha(data), hashMode: 'streaming' });
    expect(h.audit.some((a) => a.action === 'sftp.upload.open' && a.details.name === 'batch_status 1.csv')).toBe(true);
  });

  it('uploads with ssh2-sftp-client fastPut and put(stream)', async () => {
    const big = randomBytes(4_500_000);
    writeFileSync(join(dir, 'fast.bin'), big);
    const streamed = randomBytes(1_234_567);
    const c = await client();
    await c.fastPut(join(dir, 'fast.bin'), '/inbound/fast.bin');
    await c.put(Readable.from([streamed.subarray(0, 1000), streamed.subarray(1000, 700_000), streamed.subarray(700_000)]), 'inbound/stream.csv');
    await c.put(Buffer.alloc(0), '/inbound/empty.csv');
    await c.end();
    for (const [name, bytes] of [
      ['fast.bin', big],
      ['stream.csv', streamed],
      ['empty.csv', Buffer.alloc(0)],
    ] as const) {
      const u = await waitFor(() => h.uploaded.find((x) => x.name === name), 10_000, name);
      expect(u.size).toBe(bytes.length);
      expect(u.sha256).toBe(sha(bytes));
      expect(sha(readFileSync(join(inbound(), name)))).toBe(sha(bytes));
    }
    expect(hiddenIn(inbound())).toEqual([]);
  });

  it('many sessions and uploads at once all land intact', async () => {
    const files = Array.from({ length: 8 }, (_, i) => ({ name: `par-${i}.bin`, data: randomBytes(1_000_000 + i * 4099) }));
    const clients = await Promise.all([0, 1, 2, 3].map(() => client()));
    await Promise.all(files.map((f, i) => clients[i % 4].put(f.data, `/inbound/${f.name}`)));
    await Promise.all(clients.map((c) => c.end()));
    for (const f of files) {
      const u = await waitFor(() => h.uploaded.find((x) => x.name === f.name));
      expect(u.sha256).toBe(sha(f.data));
      expect(readFileSync(u.path).equals(f.data)).toBe(true);
    }
  });

  it('ls -l looks like ls -l and READDIR terminates; hidden and odd entries are not listed', async () => {
    writeFileSync(join(inbound(), '.someone-elses-temp.part'), 'x');
    mkdirSync(join(inbound(), 'a-subfolder'), { recursive: true });
    const r = await runSftp(h.port, key.privatePath, 'acme', ['ls -l /inbound', 'ls -l /', 'ls /outbound'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const line = lines.find((l) => l.endsWith(' batch_status 1.csv'))!;
    expect(line).toMatch(/^-rw-r--r-- {4}1 acme {5}acme {5} *3000017 [A-Z][a-z]{2} [ \d]\d (\d\d:\d\d| \d{4}) batch_status 1\.csv$/);
    expect(lines.filter((l) => /^d.* (inbound|outbound)$/.test(l))).toHaveLength(2);
    expect(r.stdout).not.toContain('someone-elses');
    expect(r.stdout).not.toContain('a-subfolder');
    expect(r.stdout).not.toContain('quarantine');
    // ssh2's readdir loops until EOF: it returning at all proves READDIR ends.
    const c = await client();
    const names = (await c.list('/inbound')).map((e) => e.name);
    expect(names).toContain('fast.bin');
    expect(names.every((n) => !n.startsWith('.'))).toBe(true);
    expect((await c.list('/')).map((e) => [e.name, e.type])).toEqual([
      ['inbound', 'd'],
      ['outbound', 'd'],
    ]);
    await c.end();
  });

  it('REALPATH is absolute and normalized inside the jail', async () => {
    const c = await client();
    expect(await c.realPath('.')).toBe('/');
    expect(await c.realPath('inbound')).toBe('/inbound');
    expect(await c.realPath('/inbound/../outbound/')).toBe('/outbound');
    expect(await c.realPath('/../../..')).toBe('/');
    expect(await c.cwd()).toBe('/');
    // ssh2-sftp-client maps "no such file" to ''; ask the raw channel to see the status itself.
    const raw = (c as unknown as { sftp: { realpath(p: string, cb: (err: (Error & { code?: number }) | undefined, r?: string) => void): void } }).sftp;
    const rp = (p: string) => new Promise<string>((res, rej) => raw.realpath(p, (err, r) => (err ? rej(err) : res(r!))));
    await expect(rp('/../other/inbound')).rejects.toMatchObject({ code: 2 }); // NO_SUCH_FILE
    await expect(rp('/inbound/.x.part')).rejects.toMatchObject({ code: 3 }); // PERMISSION_DENIED
    expect(await rp('/outbound/./not-yet-there.json')).toBe('/outbound/not-yet-there.json');
    await c.end();
    const r = await runSftp(h.port, key.privatePath, 'acme', ['pwd', 'cd inbound', 'pwd', 'cd ..', 'pwd', 'cd ..', 'pwd'], { cwd: dir });
    expect(r.stdout.match(/Remote working directory: \S+/g)).toEqual([
      'Remote working directory: /',
      'Remote working directory: /inbound',
      'Remote working directory: /',
      'Remote working directory: /',
    ]);
  });

  it('downloads an acknowledgment from /outbound and audits it', async () => {
    const ack = Buffer.from(JSON.stringify({ file: 'lots.csv', state: 'applied' }) + '\n');
    writeFileSync(join(outbound(), 'lots.csv.ack.json'), ack);
    const r = await runSftp(h.port, key.privatePath, 'acme', ['get /outbound/lots.csv.ack.json got.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'got.json'))).toEqual(ack);
    const c = await client();
    expect(await c.get('/outbound/lots.csv.ack.json')).toEqual(ack);
    const big = randomBytes(2_000_000);
    writeFileSync(join(outbound(), 'big.ack'), big);
    await c.fastGet('/outbound/big.ack', join(dir, 'big.ack'));
    expect(sha(readFileSync(join(dir, 'big.ack')))).toBe(sha(big));
    await c.end();
    const d = h.audit.filter((a) => a.action === 'sftp.download' && a.details.name === 'lots.csv.ack.json');
    expect(d.length).toBeGreaterThanOrEqual(2);
    expect(d[0].details).toMatchObject({ bytes: ack.length, size: ack.length, complete: true });
  });

  it('refuses writes to /outbound, reads from /inbound, mkdir, rmdir, remove', async () => {
    writeFileSync(join(dir, 'x.csv'), 'x\n');
    const r = await runSftp(h.port, key.privatePath, 'acme', ['put x.csv /outbound/x.csv'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(existsSync(join(outbound(), 'x.csv'))).toBe(false);
    const c = await client();
    await expect(c.get('/inbound/fast.bin')).rejects.toThrow(/Permission denied/i);
    await expect(c.mkdir('/inbound/sub')).rejects.toThrow(/Permission denied/i);
    await expect(c.rmdir('/outbound')).rejects.toThrow(/Permission denied/i);
    await expect(c.delete('/inbound/fast.bin')).rejects.toThrow(/Permission denied/i);
    await expect(c.delete('/outbound/lots.csv.ack.json')).rejects.toThrow(/Permission denied/i);
    await expect(c.rename('/inbound/fast.bin', '/inbound/renamed.bin')).rejects.toThrow(/Permission denied/i);
    await expect(c.rename('/outbound/lots.csv.ack.json', '/inbound/x')).rejects.toThrow(/Permission denied/i);
    await c.end();
    expect(existsSync(join(inbound(), 'fast.bin'))).toBe(true);
    expect(existsSync(join(outbound(), 'lots.csv.ack.json'))).toBe(true);
    expect(h.audit.filter((a) => a.action === 'sftp.denied').length).toBeGreaterThanOrEqual(6);
  });

  it("another partner's folders are refused or invisible by every route", async () => {
    const r = await runSftp(
      h.port,
      key.privatePath,
      'acme',
      ['-cd ..', '-ls /../other/inbound', '-get /../other/inbound/secret.csv s1', '-cd /inbound', '-get ../../other/inbound/secret.csv s2', '-get /../other/outbound/other.ack.json s3', 'pwd'],
      { cwd: dir },
    );
    expect(r.stdout).not.toMatch(/^[-d]r.*(secret|other\.ack)/m); // no listing line
    expect(r.stdout).toContain('Remote working directory: /inbound');
    for (const f of ['s1', 's2', 's3']) expect(existsSync(join(dir, f))).toBe(false);
    const c = await client();
    for (const p of ['/../other/inbound/secret.csv', '../other/inbound/secret.csv', 'inbound/../../other/inbound/secret.csv', '/other/inbound/secret.csv', '/other/outbound/other.ack.json']) {
      await expect(c.get(p), p).rejects.toThrow(/No such file|Permission denied/i);
      expect(await c.exists(p).catch(() => false), p).toBe(false);
    }
    await expect(c.list('/other/inbound')).rejects.toThrow();
    await expect(c.list('/..')).rejects.toThrow(/Permission denied/i);
    await c.end();
    expect(readFileSync(join(h.dropDir, 'other', 'inbound', 'secret.csv'), 'utf8')).toBe('secret lots of other\n');
  });

  it('refuses path tricks: .., //, backslashes, NUL, control characters, hidden and absolute system paths', async () => {
    const c = await client();
    const tricks = [
      '/inbound/../outbound/evil.csv',
      '/inbound/../../other/inbound/evil.csv',
      '/inbound//evil.csv',
      '/inbound/..\\..\\evil.csv',
      '/inbound/evil\u0000.csv',
      '/inbound/evil\n.csv',
      '/inbound/.evil.csv',
      '/etc/evil.csv',
      '/tmp/evil.csv',
      '/inbound/sub/evil.csv',
      `/inbound/${'a'.repeat(300)}.csv`,
    ];
    for (const p of tricks) {
      await expect(c.put(Buffer.from('evil'), p), JSON.stringify(p)).rejects.toThrow();
    }
    await c.end();
    expect(h.uploaded.filter((u) => u.name.includes('evil'))).toEqual([]);
    expect(readdirSync(outbound()).filter((n) => n.includes('evil'))).toEqual([]);
    expect(existsSync('/etc/evil.csv')).toBe(false);
    expect(hiddenIn(inbound()).filter((n) => n !== '.someone-elses-temp.part')).toEqual([]);
  });

  it('never follows a symlink planted in inbound/ or outbound/', async () => {
    const secret = join(dir, 'host-secret.txt');
    writeFileSync(secret, 'server secret\n');
    symlinkSync(secret, join(outbound(), 'link.ack.json'));
    symlinkSync(secret, join(inbound(), 'planted.csv'));
    symlinkSync(dir, join(outbound(), 'linkdir'));
    const c = await client();
    await expect(c.get('/outbound/link.ack.json')).rejects.toThrow(/Permission denied|No such file/i);
    await expect(c.stat('/outbound/link.ack.json')).rejects.toThrow(/No such file/i);
    await expect(c.list('/outbound/linkdir')).rejects.toThrow();
    const names = (await c.list('/outbound')).map((e) => e.name);
    expect(names).not.toContain('link.ack.json');
    expect(names).not.toContain('linkdir');
    expect((await c.list('/inbound')).map((e) => e.name)).not.toContain('planted.csv');
    // Uploading onto the symlink's name never writes through it.
    await c.put(Buffer.from('new bytes\n'), '/inbound/planted.csv');
    await c.end();
    expect(readFileSync(secret, 'utf8')).toBe('server secret\n');
    const u = await waitFor(() => h.uploaded.find((x) => x.name.startsWith('planted')));
    expect(u.name).toBe('planted (2).csv');
    expect(readFileSync(u.path, 'utf8')).toBe('new bytes\n');
  });

  it('same name twice: the second is " (2)", the third " (3)"; nothing is overwritten', async () => {
    const c = await client();
    for (const body of ['one\n', 'two\n', 'three\n']) await c.put(Buffer.from(body), '/inbound/dup.csv');
    await c.end();
    expect(readFileSync(join(inbound(), 'dup.csv'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(inbound(), 'dup (2).csv'), 'utf8')).toBe('two\n');
    expect(readFileSync(join(inbound(), 'dup (3).csv'), 'utf8')).toBe('three\n');
    expect(h.uploaded.filter((u) => u.name.startsWith('dup')).map((u) => u.name)).toEqual(['dup.csv', 'dup (2).csv', 'dup (3).csv']);
    const third = h.audit.find((a) => a.action === 'sftp.upload.close' && a.details.name === 'dup (3).csv')!;
    expect(third.details.requestedName).toBe('dup.csv');
  });

  it('.filepart upload then rename: delivered only after the rename, under the final name', async () => {
    const data = randomBytes(300_000);
    const c = await client();
    await c.put(data, '/inbound/results.csv.filepart');
    // Closed but not yet renamed: not delivered, not visible in inbound/ under any real name.
    expect(h.uploaded.find((u) => u.name.startsWith('results'))).toBeUndefined();
    expect(readdirSync(inbound()).filter((n) => n.startsWith('results'))).toEqual([]);
    expect((await c.stat('/inbound/results.csv.filepart')).size).toBe(data.length);
    expect((await c.list('/inbound')).map((e) => e.name)).toContain('results.csv.filepart');
    await c.rename('/inbound/results.csv.filepart', '/inbound/results.csv');
    const u = await waitFor(() => h.uploaded.find((x) => x.name === 'results.csv'));
    expect(u).toMatchObject({ size: data.length, sha256: sha(data) });
    expect(sha(readFileSync(join(inbound(), 'results.csv')))).toBe(sha(data));
    // A WinSCP-style re-upload of the same name then lands beside it.
    await c.put(Buffer.from('v2\n'), '/inbound/results.csv.filepart');
    await c.rename('/inbound/results.csv.filepart', '/inbound/results.csv');
    // A cancelled staged transfer may be removed by its uploader.
    await c.put(Buffer.from('cancel me'), '/inbound/cancelled.csv.part');
    await c.delete('/inbound/cancelled.csv.part');
    await expect(c.stat('/inbound/cancelled.csv.part')).rejects.toThrow(/No such file/i);
    await c.end();
    const v2 = await waitFor(() => h.uploaded.find((x) => x.name === 'results (2).csv'));
    expect(readFileSync(v2.path, 'utf8')).toBe('v2\n');
    expect(h.audit.find((a) => a.action === 'sftp.upload.close' && a.details.name === 'results.csv')?.details).toMatchObject({ via: 'rename', stagedAs: 'results.csv.filepart' });
    expect(h.audit.some((a) => a.action === 'sftp.upload.discarded' && a.details.name === 'cancelled.csv.part')).toBe(true);
    expect(h.uploaded.find((x) => x.name.startsWith('cancelled'))).toBeUndefined();
    expect(h.partials.find((x) => x.name.startsWith('cancelled'))).toBeUndefined();
    expect(hiddenIn(inbound()).filter((n) => n !== '.someone-elses-temp.part')).toEqual([]);
  });

  it('a resumed upload (reput) or any upload with holes is refused at CLOSE, never delivered', async () => {
    const full = randomBytes(300_000);
    const c = await client();
    await c.put(full.subarray(0, 100_000), '/inbound/resume.csv');
    await waitFor(() => h.uploaded.find((u) => u.name === 'resume.csv'));
    writeFileSync(join(dir, 'resume.csv'), full);
    // OpenSSH's reput opens the existing file for appending: refused up front.
    const r = await runSftp(h.port, key.privatePath, 'acme', ['reput resume.csv /inbound/resume.csv'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(readFileSync(join(inbound(), 'resume.csv')).equals(full.subarray(0, 100_000))).toBe(true);
    expect(h.uploaded.filter((u) => u.name.startsWith('resume'))).toHaveLength(1);
    expect(h.audit.some((a) => a.action === 'sftp.denied' && /^open-(append|existing)$/.test(String(a.details.op)))).toBe(true);
    // The same with a raw write past a hole.
    const raw = (c as unknown as { sftp: ssh2Sftp }).sftp;
    const handle = await new Promise<Buffer>((res, rej) => raw.open('/inbound/holey.csv', 'w', (e, hd) => (e ? rej(e) : res(hd))));
    await new Promise<void>((res, rej) => raw.write(handle, Buffer.from('tail'), 0, 4, 1000, (e) => (e ? rej(e) : res())));
    const closeErr = await new Promise<Error | undefined>((res) => raw.close(handle, (e) => res(e ?? undefined)));
    expect(closeErr?.message).toMatch(/never written/);
    await c.end();
    expect(h.uploaded.find((u) => u.name === 'holey.csv')).toBeUndefined();
    const p = await waitFor(() => h.partials.find((x) => x.name === 'holey.csv'));
    expect(p.size).toBe(1004);
    expect(p.reason).toMatch(/bytes 0-1000 never written/);
    expect(readFileSync(p.path).subarray(1000).toString()).toBe('tail');
  });

  it('a second staged upload under the same name supersedes the first, which is kept as a partial', async () => {
    const c = await client();
    await c.put(Buffer.from('attempt 1\n'), '/inbound/retry.csv.filepart');
    await c.put(Buffer.from('attempt 2\n'), '/inbound/retry.csv.filepart');
    await c.rename('/inbound/retry.csv.filepart', '/inbound/retry.csv');
    await c.end();
    const u = await waitFor(() => h.uploaded.find((x) => x.name === 'retry.csv'));
    expect(readFileSync(u.path, 'utf8')).toBe('attempt 2\n');
    const p = await waitFor(() => h.partials.find((x) => x.name === 'retry.csv.filepart'));
    expect(p.reason).toMatch(/superseded/);
    expect(readFileSync(p.path, 'utf8')).toBe('attempt 1\n');
    expect(hiddenIn(inbound()).filter((n) => n !== '.someone-elses-temp.part')).toEqual([]);
  });

  it('a staged upload never renamed is a partial when the session ends', async () => {
    const c = await client();
    await c.put(Buffer.from('staged forever\n'), '/inbound/forgotten.csv.tmp');
    await c.end();
    const p = await waitFor(() => h.partials.find((x) => x.name === 'forgotten.csv.tmp'));
    expect(p.reason).toMatch(/never renamed/);
    expect(p.path.startsWith(join(h.dropDir, 'acme', '.quarantine') + '/')).toBe(true);
    expect(readFileSync(p.path, 'utf8')).toBe('staged forever\n');
    expect(p.sha256).toBe(sha(Buffer.from('staged forever\n')));
    expect(h.uploaded.find((x) => x.name.startsWith('forgotten'))).toBeUndefined();
  });
});

describe('drop zone: partial uploads', () => {
  let dir: string;
  let key: KeyPair;
  let h: Harness;

  beforeAll(async () => {
    dir = tempDir();
    key = sshKeygen(dir, 'acme_key');
    // This suite hashes in the worker thread (the other one in-process, on small machines).
    h = await startZone({ dir, hashInWorker: true, partners: new Map([['acme', partner('acme', { publicKeys: [key.publicLine] })]]) });
  });
  afterAll(async () => {
    await h.close();
    cleanup(dir);
  });

  const inbound = () => join(h.dropDir, 'acme', 'inbound');
  const quarantine = () => join(h.dropDir, 'acme', '.quarantine');
  const tempBytes = () =>
    hiddenIn(inbound()).reduce((n, f) => {
      try {
        return n + statSync(join(inbound(), f)).size;
      } catch {
        return n;
      }
    }, 0);

  it('SIGKILL of OpenSSH sftp mid-transfer of 50 MB: onPartial, bytes in .quarantine, nothing in inbound', async () => {
    const data = randomBytes(50 * 1024 * 1024);
    writeFileSync(join(dir, 'huge.csv'), data);
    // -l limits bandwidth (Kbit/s) so the kill lands mid-transfer on any machine.
    const child = spawnSftp(h.port, key.privatePath, 'acme', ['put huge.csv /inbound/huge.csv'], dir, ['-l', '40000']);
    await waitFor(() => tempBytes() > 1024 * 1024, 30_000, 'some bytes to arrive');
    child.kill('SIGKILL');
    const p = await waitFor(() => h.partials.find((x) => x.name === 'huge.csv'), 30_000, 'onPartial');
    expect(p.size).toBeGreaterThan(0);
    expect(p.size).toBeLessThan(data.length);
    expect(p.path.startsWith(quarantine() + '/')).toBe(true);
    expect(readdirSync(quarantine())).toContain(p.path.slice(quarantine().length + 1));
    const kept = readFileSync(p.path);
    expect(kept.length).toBe(p.size);
    expect(sha(kept)).toBe(p.sha256);
    expect(kept.equals(data.subarray(0, kept.length))).toBe(true);
    expect(readdirSync(inbound())).toEqual([]);
    expect(h.uploaded.find((u) => u.name.startsWith('huge'))).toBeUndefined();
    const audit = h.audit.find((a) => a.action === 'sftp.upload.partial' && a.details.name === 'huge.csv')!;
    expect(audit.details).toMatchObject({ bytes: p.size, sha256: p.sha256, quarantinedAs: p.path });
  });

  it('ssh2-sftp-client socket destroyed mid-stream: onPartial, never onUploaded', async () => {
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: 'acme', privateKey: readFileSync(key.privatePath) });
    const first = randomBytes(2 * 1024 * 1024);
    let pushed = false;
    const slow = new Readable({
      read() {
        if (!pushed) {
          pushed = true;
          this.push(first);
        } // then never ends: the upload stays open
      },
    });
    const upload = c.put(slow, '/inbound/cut.csv').catch((e: Error) => e);
    await waitFor(() => tempBytes() >= first.length, 20_000, 'the first 2 MB');
    (c as unknown as { client: { _sock: { destroy(): void } } }).client._sock.destroy();
    await upload;
    const p = await waitFor(() => h.partials.find((x) => x.name === 'cut.csv'), 20_000, 'onPartial');
    expect(p.size).toBe(first.length);
    expect(p.sha256).toBe(sha(first));
    expect(readFileSync(p.path).equals(first)).toBe(true);
    expect(readdirSync(inbound())).toEqual([]);
    expect(h.uploaded.find((u) => u.name === 'cut.csv')).toBeUndefined();
    await c.end().catch(() => undefined);
  });

  it('close() of the server turns open uploads into partials before it resolves', async () => {
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: 'acme', privateKey: readFileSync(key.privatePath) });
    const first = randomBytes(512 * 1024);
    let pushed = false;
    const slow = new Readable({
      read() {
        if (!pushed) {
          pushed = true;
          this.push(first);
        }
      },
    });
    c.on('error', () => undefined);
    const upload = c.put(slow, '/inbound/shutdown.csv').catch((e: Error) => e);
    await waitFor(() => tempBytes() >= first.length, 20_000, 'bytes before shutdown');
    await h.zone.close();
    // Resolved close() means the partial has been reported already.
    const p = h.partials.find((x) => x.name === 'shutdown.csv');
    expect(p?.reason).toMatch(/shutting down/);
    expect(p?.size).toBe(first.length);
    expect(h.zone.connections()).toBe(0);
    expect(readdirSync(inbound())).toEqual([]);
    await upload;
  });
});
