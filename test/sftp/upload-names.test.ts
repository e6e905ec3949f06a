// File names: whatever the drop zone accepts, intake takes; whatever intake would ignore, the
// drop zone stages (temporary names) or refuses at OPEN. One rule (intake/names.ts) for both.

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import SftpClient from 'ssh2-sftp-client';
import { ignoredReason, stagedName, uploadVerdict, TEMP_SUFFIXES, MAX_TAKEN_NAME_BYTES, MAX_STAGED_NAME_BYTES } from '../../pipeline/intake/names.js';
import { numberedName } from '../../pipeline/sftp/place.js';
import { stampForFileName } from '../../pipeline/intake/names.js';
import { DEFAULT_STAGED_SUFFIXES } from '../../pipeline/sftp/drop-zone.js';
import { startZone, sshKeygen, partner, tempDir, cleanup, runSftp, waitFor, type Harness, type KeyPair } from './helpers.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const NAME_MAX = 255;

describe('uploadVerdict: one rule with intake', () => {
  const names = [
    'lots.csv',
    'a'.repeat(200),
    'a'.repeat(201),
    'ü'.repeat(100),
    'ü'.repeat(101),
    `${'b'.repeat(233)}`,
    `${'c'.repeat(250)}.csv`,
    '~$report.xlsx',
    'report.xlsx',
    'x.csv.ack.json',
    'x.csv.ACK.CSV',
    'x.csv.crdownload',
    'x.csv.partial',
    'x.csv.3f2a9b1c.partial',
    'x.csv.filepart',
    'x.csv.part',
    'x.csv.tmp',
    `${'d'.repeat(215)}.filepart`,
    `${'d'.repeat(225)}.filepart`,
    'part',
    '~report.csv',
  ];

  it('a name the drop zone takes is one intake takes, and every name derived from it fits in 255 bytes', () => {
    for (const name of names) {
      const v = uploadVerdict(name, DEFAULT_STAGED_SUFFIXES);
      if (v.kind !== 'take') continue;
      expect(ignoredReason(name), name).toBeNull();
      expect(bytes(stagedName(name, Date.now(), 'a1b2c3d4e5f6')), name).toBeLessThanOrEqual(NAME_MAX);
      expect(bytes(`${name}.ack.json`), name).toBeLessThanOrEqual(NAME_MAX);
      expect(bytes(`${stampForFileName(Date.now())}-${name}`), name).toBeLessThanOrEqual(NAME_MAX);
      expect(bytes(numberedName(name, 9999, MAX_TAKEN_NAME_BYTES)), name).toBeLessThanOrEqual(MAX_TAKEN_NAME_BYTES);
    }
  });

  it('a name intake ignores is staged (a temporary name) or refused with a code and a reason', () => {
    for (const name of names) {
      if (ignoredReason(name) === null) continue;
      const v = uploadVerdict(name, DEFAULT_STAGED_SUFFIXES);
      expect(v.kind, name).not.toBe('take');
      if (v.kind === 'refused') {
        expect(v.code).toMatch(/^E_NAME_(TOO_LONG|NOT_TAKEN)$/);
        expect(v.message.length).toBeGreaterThan(20);
      }
      if (v.kind === 'staged') expect(bytes(`${stampForFileName(Date.now())}-${name}`), name).toBeLessThanOrEqual(NAME_MAX);
    }
  });

  it('the drop zone stages every temporary suffix intake ignores (rclone .partial, .crdownload)', () => {
    for (const s of TEMP_SUFFIXES) expect(uploadVerdict(`x.csv${s}`, DEFAULT_STAGED_SUFFIXES)).toEqual({ kind: 'staged' });
    // With a narrower staging list, the others are refused, not delivered and then ignored.
    expect(uploadVerdict('x.csv.partial', ['.filepart'])).toMatchObject({ kind: 'refused', code: 'E_NAME_NOT_TAKEN' });
  });

  it('long names: refused beyond the limits, with the numbers in the message', () => {
    expect(uploadVerdict('a'.repeat(MAX_TAKEN_NAME_BYTES))).toEqual({ kind: 'take' });
    const v = uploadVerdict('a'.repeat(234));
    expect(v).toMatchObject({ kind: 'refused', code: 'E_NAME_TOO_LONG' });
    expect(v.kind === 'refused' && v.message).toContain('234 bytes');
    expect(uploadVerdict(`${'a'.repeat(MAX_STAGED_NAME_BYTES - 9)}.filepart`)).toEqual({ kind: 'staged' });
    expect(uploadVerdict(`${'a'.repeat(MAX_STAGED_NAME_BYTES - 8)}.filepart`)).toMatchObject({ kind: 'refused', code: 'E_NAME_TOO_LONG' });
    expect(ignoredReason('a'.repeat(201))).toMatch(/too long/);
  });
});

describe('drop zone: names intake would not take are never accepted silently', () => {
  let dir: string;
  let key: KeyPair;
  let h: Harness;
  const inbound = () => join(h.dropDir, 'acme', 'inbound');

  async function client(): Promise<SftpClient> {
    const c = new SftpClient();
    await c.connect({ host: '127.0.0.1', port: h.port, username: 'acme', privateKey: readFileSync(key.privatePath), readyTimeout: 10_000 });
    return c;
  }

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

  it.each([
    ['a 234-byte name', 'n'.repeat(230) + '.csv', /Permission denied: file name too long \(234 bytes; at most 200 bytes/, 'E_NAME_TOO_LONG'],
    ['a 255-byte name', 'n'.repeat(251) + '.csv', /file name too long \(255 bytes/, 'E_NAME_TOO_LONG'],
    ['an office lock file', '~$Chargen.xlsx', /office lock file/, 'E_NAME_NOT_TAKEN'],
    ['an acknowledgment name', 'lots.csv.ack.json', /acknowledgment/, 'E_NAME_NOT_TAKEN'],
  ])('%s is refused at OPEN with a clear message', async (_what, name, message, code) => {
    // OpenSSH's sftp prints only the status ("Permission denied"); other clients show our text.
    const r = await runSftp(h.port, key.privatePath, 'acme', [`put a.csv "/inbound/${name}"`], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Permission denied/);
    const c = await client();
    await expect(c.put(Buffer.from('x\n'), `/inbound/${name}`)).rejects.toThrow(message);
    await c.end();
    expect(h.uploaded.some((u) => u.name === name)).toBe(false);
    expect(existsSync(join(inbound(), name))).toBe(false);
    const denied = h.audit.find((a) => a.action === 'sftp.denied' && a.details.path === `/inbound/${name}`);
    expect(denied?.details).toMatchObject({ op: 'open-write', code });
  });

  it('a temporary name (.crdownload, rclone .partial) is held back and delivered when renamed', async () => {
    const c = await client();
    await c.put(Buffer.from('lot;status\nL2;released\n'), '/inbound/b.csv.crdownload');
    await c.put(Buffer.from('lot;status\nL3;released\n'), '/inbound/c.csv.9a8b7c6d.partial');
    expect(h.uploaded.some((u) => u.name.endsWith('.crdownload') || u.name.endsWith('.partial'))).toBe(false);
    await c.rename('/inbound/b.csv.crdownload', '/inbound/b.csv');
    await c.rename('/inbound/c.csv.9a8b7c6d.partial', '/inbound/c.csv');
    await c.end();
    await waitFor(() => h.uploaded.find((u) => u.name === 'b.csv'));
    await waitFor(() => h.uploaded.find((u) => u.name === 'c.csv'));
    expect(readdirSync(inbound()).filter((n) => /crdownload|partial/.test(n))).toEqual([]);
  });

  it('a staged upload cannot be renamed to a name intake would not take; it ends as a partial, answered', async () => {
    const c = await client();
    await c.put(Buffer.from('x\n'), '/inbound/d.xlsx.filepart');
    await expect(c.rename('/inbound/d.xlsx.filepart', '/inbound/~$d.xlsx')).rejects.toThrow(/office lock file/);
    await c.end();
    const p = await waitFor(() => h.partials.find((x) => x.name === 'd.xlsx.filepart'));
    expect(p.reason).toMatch(/never renamed/);
    expect(h.uploaded.some((u) => u.name.includes('d.xlsx'))).toBe(false);
  });

  it('a second upload of a 200-byte name gets a numbered name that is still within 200 bytes', async () => {
    const name = `${'m'.repeat(196)}.csv`;
    const c = await client();
    await c.put(Buffer.from('one\n'), `/inbound/${name}`);
    await c.put(Buffer.from('two\n'), `/inbound/${name}`);
    await c.end();
    const second = await waitFor(() => h.uploaded.find((u) => u.name !== name && u.name.endsWith(' (2).csv')));
    expect(Buffer.byteLength(second.name, 'utf8')).toBeLessThanOrEqual(MAX_TAKEN_NAME_BYTES);
    expect(ignoredReason(second.name)).toBeNull();
  });

  it('every file the drop zone delivered is one intake takes', () => {
    expect(h.uploaded.length).toBeGreaterThan(0);
    for (const u of h.uploaded) expect(ignoredReason(u.name), u.name).toBeNull();
  });
});
