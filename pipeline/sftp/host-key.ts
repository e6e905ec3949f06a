// The drop zone's host key: generated once (ed25519), kept at hostKeyPath, reused on every
// start so partners' known_hosts entries stay valid. Partners pin it; losing it means every
// partner sees a "host key changed" warning, so it is never regenerated over an existing file.

import { mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';
import { keyFingerprint } from './keys.js';

const { utils } = ssh2;

export interface HostKey {
  /** OpenSSH-format private key, as ssh2's Server takes it. */
  privateKey: string;
  /** `ssh-ed25519 AAAA… lotgate drop zone` */
  publicKey: string;
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  fingerprint: string;
  created: boolean;
}

function describe(privateKey: string, path: string, created: boolean): HostKey {
  const parsed = utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error || !key.isPrivateKey()) {
    throw new Error(`E_HOST_KEY: ${path} is not an unencrypted OpenSSH private key${key instanceof Error ? `: ${key.message}` : ''}`);
  }
  const blob = key.getPublicSSH();
  return { privateKey, publicKey: `${key.type} ${blob.toString('base64')} lotgate drop zone`, fingerprint: keyFingerprint(blob), created };
}

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/**
 * A new ed25519 key in OpenSSH's `openssh-key-v1` container (unencrypted), built from
 * crypto.generateKeyPairSync. ssh2's parser does not take PKCS#8 PEM for ed25519, and ssh2's
 * own generator drops a leading zero byte of the public key (about 1 key in 250 comes out
 * malformed), so the container is written here, byte for byte as ssh-keygen does.
 */
export function generateEd25519OpenSSH(comment: string): string {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
  if (pub.length !== 32 || seed.length !== 32) throw new Error('E_HOST_KEY: unexpected ed25519 key length');
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  const pad = (8 - (priv.length % 8)) % 8;
  priv = Buffer.concat([priv, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(1);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), count, sshString(pubBlob), sshString(priv)]);
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Synchronous on purpose: it runs once at start-up, before the port opens. */
export function loadOrCreateHostKey(path: string): HostKey {
  try {
    return describe(readFileSync(path, 'utf8'), path, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const privateKey = generateEd25519OpenSSH('lotgate drop zone');
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeFileSync(fd, privateKey);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link, not rename: if another process created the key meanwhile, keep theirs.
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return describe(readFileSync(path, 'utf8'), path, false);
  } finally {
    unlinkSync(tmp);
  }
  const hk = describe(privateKey, path, true);
  try {
    writeFileSync(`${path}.pub`, hk.publicKey + '\n', { mode: 0o644 });
  } catch {
    // The .pub copy is a convenience for operators; the private key is what matters.
  }
  return hk;
}
