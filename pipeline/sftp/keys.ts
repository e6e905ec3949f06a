// Public keys: parsing the OpenSSH lines in partners/<id>.yaml, fingerprints as OpenSSH prints
// them, and the signature check that proves the client holds the private key.

import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import type { ErrorCode } from '../codes.js';

const { utils } = ssh2;

/** Key types we accept for partner logins: no DSA, no RSA below 2048 bits. */
const ACCEPTED_TYPES = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']);
const MIN_RSA_BITS = 2048;

export interface AuthorizedKey {
  type: string;
  /** The SSH wire-format public key blob. */
  blob: Buffer;
  fingerprint: string;
  comment: string;
  parsed: ParsedKey;
}

export type KeyParseResult = { ok: true; key: AuthorizedKey } | { ok: false; code: 'E_KEY_FORMAT' | 'E_KEY_TYPE' | 'E_KEY_WEAK'; message: string };

/** `SHA256:<unpadded base64>` of the key blob, exactly as `ssh-keygen -l` prints it. */
export function keyFingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/**
 * Parse one OpenSSH public key line (`type base64 [comment]`). authorized_keys options
 * (`from="…" ssh-ed25519 …`) are refused rather than ignored: silently dropping a restriction
 * the partner file asks for would be worse than rejecting the line.
 */
export function parseAuthorizedKey(line: string): KeyParseResult {
  const trimmed = line.trim();
  const parsed = utils.parseKey(trimmed);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed) {
    return { ok: false, code: 'E_KEY_FORMAT', message: `not an OpenSSH public key line (${parsed instanceof Error ? parsed.message : 'unparseable'})` };
  }
  if (parsed.isPrivateKey()) return { ok: false, code: 'E_KEY_FORMAT', message: 'a private key was given where a public key line belongs' };
  if (!ACCEPTED_TYPES.has(parsed.type)) return { ok: false, code: 'E_KEY_TYPE', message: `key type ${parsed.type} is not accepted` };
  if (parsed.type === 'ssh-rsa') {
    const bits = createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) return { ok: false, code: 'E_KEY_WEAK', message: `RSA key of ${bits} bits; at least ${MIN_RSA_BITS} required` };
  }
  const blob = parsed.getPublicSSH();
  return { ok: true, key: { type: parsed.type, blob, fingerprint: keyFingerprint(blob), comment: parsed.comment ?? '', parsed } };
}

/** Find the partner's key matching what the client offered: same type AND same blob. */
export function findAuthorizedKey(keys: readonly AuthorizedKey[], algo: string, blob: Buffer): AuthorizedKey | null {
  let found: AuthorizedKey | null = null;
  for (const k of keys) {
    // Compare every candidate (no early exit) so the position of a match is not observable.
    const sameLen = k.blob.length === blob.length;
    const same = timingSafeEqual(sameLen ? k.blob : blob, blob) && sameLen && k.type === algo;
    if (same && !found) found = k;
  }
  return found;
}

/**
 * Does `signature` over `signedData` (the session-bound blob ssh2 hands us as ctx.blob) verify
 * with `key`? SHA-1 RSA signatures (`ssh-rsa` without rsa-sha2-*) are refused as not modern.
 */
export function verifyKeySignature(key: AuthorizedKey, signedData: Buffer, signature: Buffer, hashAlgo: string | undefined): boolean {
  if (key.type === 'ssh-rsa' && hashAlgo !== 'sha256' && hashAlgo !== 'sha512') return false;
  try {
    return key.parsed.verify(signedData, signature, hashAlgo) === true;
  } catch {
    return false;
  }
}

/** Parse a partner's key list, skipping (and reporting) lines that cannot be used. */
export function parseAuthorizedKeys(lines: readonly string[] | undefined): { keys: AuthorizedKey[]; errors: { line: number; code: ErrorCode; message: string }[] } {
  const keys: AuthorizedKey[] = [];
  const errors: { line: number; code: ErrorCode; message: string }[] = [];
  (lines ?? []).forEach((l, i) => {
    if (!l.trim() || l.trim().startsWith('#')) return;
    const r = parseAuthorizedKey(l);
    if (r.ok) keys.push(r.key);
    else errors.push({ line: i + 1, code: r.code, message: r.message });
  });
  return { keys, errors };
}
