import { describe, it, expect } from 'vitest';
import { hashPassword, verifyPassword, parsePasswordHash } from '../../pipeline/sftp/passwords.js';

describe('passwords', () => {
  it('hashes as scrypt$N$r$p$salt$hash with the agreed parameters and a fresh salt', () => {
    const a = hashPassword('s3cret');
    const b = hashPassword('s3cret');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    const p = parsePasswordHash(a)!;
    expect(p).toMatchObject({ N: 16384, r: 8, p: 1 });
    expect(p.salt.length).toBe(16);
    expect(p.hash.length).toBe(32);
  });

  it('verifies the right password and rejects others', async () => {
    const h = hashPassword('correct horse');
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('correct hors', h)).toBe(false);
    expect(await verifyPassword('Correct horse', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('treats Unicode spellings of the same password alike (NFC)', async () => {
    const h = hashPassword('Pa\u00dfw\u00f6rter');
    expect(await verifyPassword('Pa\u00dfwo\u0308rter', h)).toBe(true);
  });

  it('never accepts without a usable hash', async () => {
    expect(await verifyPassword('x', undefined)).toBe(false);
    expect(await verifyPassword('x', '')).toBe(false);
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
    const h = hashPassword('x');
    // Tampered parameters: an absurd N must not be honoured (memory/CPU bomb), nor a truncated hash.
    expect(parsePasswordHash(h.replace('$16384$', '$1073741824$'))).toBeNull();
    expect(parsePasswordHash(h.replace('$16384$', '$1000$'))).toBeNull(); // not a power of two
    expect(parsePasswordHash(h.replace('scrypt$', 'bcrypt$'))).toBeNull();
    expect(parsePasswordHash(h.split('$').slice(0, 5).join('$'))).toBeNull();
    expect(await verifyPassword('x', h.replace(/\$[^$]+$/, '$AAAA'))).toBe(false);
  });
});
