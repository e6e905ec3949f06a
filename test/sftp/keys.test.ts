import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import { parseAuthorizedKey, parseAuthorizedKeys, keyFingerprint, findAuthorizedKey, verifyKeySignature } from '../../pipeline/sftp/keys.js';
import { tempDir, sshKeygen, cleanup, type KeyPair } from './helpers.js';

const { utils } = ssh2;

describe('public keys', () => {
  let dir: string;
  let ed: KeyPair;
  let ed2: KeyPair;
  let ec: KeyPair;
  let rsa: KeyPair;

  beforeAll(() => {
    dir = tempDir();
    ed = sshKeygen(dir, 'ed');
    ed2 = sshKeygen(dir, 'ed2');
    ec = sshKeygen(dir, 'ec', 'ecdsa');
    rsa = sshKeygen(dir, 'rsa', 'rsa');
  });
  afterAll(() => cleanup(dir));

  it('fingerprints exactly like ssh-keygen -l', () => {
    for (const k of [ed, ec, rsa]) {
      const r = parseAuthorizedKey(k.publicLine);
      if (!r.ok) throw new Error(r.message);
      const out = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${k.privatePath}.pub`], { encoding: 'utf8' }).stdout;
      expect(out.split(' ')[1]).toBe(r.key.fingerprint);
    }
  });

  it('refuses lines that are not usable public keys', () => {
    const r1 = parseAuthorizedKey('ssh-ed25519 AAAAnotbase64');
    expect(r1.ok ? 'ok' : r1.code).toBe('E_KEY_FORMAT');
    const r2 = parseAuthorizedKey(`from="10.0.0.1" ${ed.publicLine}`);
    expect(r2.ok ? 'ok' : r2.code).toBe('E_KEY_FORMAT');
    const weak = utils.generateKeyPairSync('rsa', { bits: 1024 });
    const r3 = parseAuthorizedKey(weak.public);
    expect(r3.ok ? 'ok' : r3.code).toBe('E_KEY_WEAK');
    const { keys, errors } = parseAuthorizedKeys(['', '# comment', ed.publicLine, 'garbage', ec.publicLine]);
    expect(keys.map((k) => k.type)).toEqual(['ssh-ed25519', 'ecdsa-sha2-nistp256']);
    expect(errors.map((e) => e.line)).toEqual([4]);
  });

  it('matches on type AND blob', () => {
    const { keys } = parseAuthorizedKeys([ed.publicLine, ec.publicLine]);
    const blob = keys[0].blob;
    expect(findAuthorizedKey(keys, 'ssh-ed25519', blob)?.fingerprint).toBe(keys[0].fingerprint);
    expect(findAuthorizedKey(keys, 'ecdsa-sha2-nistp256', blob)).toBeNull();
    const other = parseAuthorizedKey(ed2.publicLine);
    if (!other.ok) throw new Error();
    expect(findAuthorizedKey(keys, 'ssh-ed25519', other.key.blob)).toBeNull();
    expect(findAuthorizedKey(keys, 'ssh-ed25519', blob.subarray(0, 20))).toBeNull();
  });

  it('verifies signatures: right key yes, wrong key or tampered data no', () => {
    const data = Buffer.concat([randomBytes(32), Buffer.from('session-bound userauth request')]);
    for (const [pair, hash] of [
      [ed, undefined],
      [ec, undefined],
      [rsa, 'sha256'],
      [rsa, 'sha512'],
    ] as const) {
      const priv = utils.parseKey(readFileSync(pair.privatePath)) as ssh2.ParsedKey;
      const pub = parseAuthorizedKey(pair.publicLine);
      if (!pub.ok) throw new Error(pub.message);
      const sig = priv.sign(data, hash);
      expect(verifyKeySignature(pub.key, data, sig, hash)).toBe(true);
      const tampered = Buffer.from(data);
      tampered[0] ^= 1;
      expect(verifyKeySignature(pub.key, tampered, sig, hash)).toBe(false);
      const badSig = Buffer.from(sig);
      badSig[badSig.length - 1] ^= 0xff;
      expect(verifyKeySignature(pub.key, data, badSig, hash)).toBe(false);
      expect(verifyKeySignature(pub.key, data, randomBytes(sig.length), hash)).toBe(false);
      expect(verifyKeySignature(pub.key, data, Buffer.alloc(0), hash)).toBe(false);
    }
    // A signature made by a different ed25519 key over the very same data.
    const other = utils.parseKey(readFileSync(ed2.privatePath)) as ssh2.ParsedKey;
    const pub = parseAuthorizedKey(ed.publicLine);
    if (!pub.ok) throw new Error();
    expect(verifyKeySignature(pub.key, data, other.sign(data), undefined)).toBe(false);
  });

  it('refuses SHA-1 RSA signatures even when valid', () => {
    const data = randomBytes(64);
    const priv = utils.parseKey(readFileSync(rsa.privatePath)) as ssh2.ParsedKey;
    const pub = parseAuthorizedKey(rsa.publicLine);
    if (!pub.ok) throw new Error();
    const sha1sig = priv.sign(data, 'sha1');
    expect(pub.key.parsed.verify(data, sha1sig, 'sha1')).toBe(true); // the signature itself is fine…
    expect(verifyKeySignature(pub.key, data, sha1sig, undefined)).toBe(false); // …but not modern
  });

  it('keyFingerprint is unpadded base64 of sha256', () => {
    const blob = Buffer.from('abc');
    expect(keyFingerprint(blob)).toBe('SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, ''));
    expect(keyFingerprint(blob)).not.toMatch(/=$/);
  });
});
