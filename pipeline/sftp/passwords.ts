// scrypt password hashes for partner SFTP logins, stored in partners/<id>.yaml as
// `scrypt$N$r$p$<salt base64>$<hash base64>` so parameters can be raised later without
// invalidating existing hashes.

import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

export const SCRYPT_DEFAULTS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const SALT_LEN = 16;

// Bounds on parameters read back from a file: a typo (or a hostile edit) must not make one
// login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function maxmemFor(N: number, r: number, p: number): number {
  return 128 * N * r * (p + 1) + 1024 * 1024;
}

/** Hash a password for partners/<id>.yaml. Synchronous: it runs once, from the CLI. */
export function hashPassword(password: string): string {
  const { N, r, p } = SCRYPT_DEFAULTS;
  const salt = randomBytes(SALT_LEN);
  const hash = scryptSync(password.normalize('NFC'), salt, KEY_LEN, { N, r, p, maxmem: maxmemFor(N, r, p) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** null when the string is not a well-formed hash within our parameter bounds. */
export function parsePasswordHash(s: string): ParsedHash | null {
  const parts = s.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((x) => (/^[0-9]{1,8}$/.test(x) ? Number(x) : NaN));
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return null;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) return null;
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) return null;
  if (!B64.test(parts[4]) || !B64.test(parts[5])) return null;
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) return null;
  return { N, r, p, salt, hash };
}

function scryptAsync(password: string, h: ParsedHash): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: maxmemFor(h.N, h.r, h.p) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

// Used when there is no hash to check against (unknown user, partner without a password), so
// such a login costs the same scrypt work as a real one and timing tells nothing.
const DUMMY: ParsedHash = {
  ...SCRYPT_DEFAULTS,
  salt: Buffer.alloc(SALT_LEN, 7),
  hash: Buffer.alloc(KEY_LEN, 0),
};

/**
 * Constant-time check of `password` against a stored hash. Asynchronous (scrypt runs on the
 * thread pool) so logins never stall transfers. A missing or malformed hash is checked against
 * a dummy hash and always yields false.
 */
export async function verifyPassword(password: string, stored: string | undefined | null): Promise<boolean> {
  const parsed = stored ? parsePasswordHash(stored) : null;
  const h = parsed ?? DUMMY;
  let derived: Buffer;
  try {
    derived = await scryptAsync(password, h);
  } catch {
    return false;
  }
  const same = derived.length === h.hash.length && timingSafeEqual(derived, h.hash);
  return parsed !== null && same;
}
