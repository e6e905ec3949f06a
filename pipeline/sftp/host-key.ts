// The drop zone's host key: generated once (ed25519), kept at hostKeyPath, reused on every
// start so partners' known_hosts entries stay valid. Partners pin it; losing it means every
// partner sees a "host key changed" warning, so it is never regenerated over an existing file.

import { mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
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

/** Synchronous on purpose: it runs once at start-up, before the port opens. */
export function loadOrCreateHostKey(path: string): HostKey {
  try {
    return describe(readFileSync(path, 'utf8'), path, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // ssh2's generator wraps crypto.generateKeyPairSync('ed25519') and writes the OpenSSH
  // container format, which ssh2's parser (unlike PKCS#8 PEM for ed25519) accepts.
  const pair = utils.generateKeyPairSync('ed25519', { comment: 'lotgate drop zone' });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeFileSync(fd, pair.private);
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
  const hk = describe(pair.private, path, true);
  try {
    writeFileSync(`${path}.pub`, hk.publicKey + '\n', { mode: 0o644 });
  } catch {
    // The .pub copy is a convenience for operators; the private key is what matters.
  }
  return hk;
}
