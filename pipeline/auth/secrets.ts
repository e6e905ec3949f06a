// Random secrets and their stored form. Session ids, service tokens and recovery codes carry
// enough entropy (≥128 bits, recovery codes 80) that a plain sha256 is the right stored form;
// passwords, chosen by people, get argon2id (passwords.ts).

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Service token: `lgt_` + 43 characters; the first 12 characters identify it in listings. */
export function newServiceToken(): { token: string; prefix: string } {
  const token = `lgt_${randomToken(32)}`;
  return { token, prefix: token.slice(0, 12) };
}

/** Recovery code: 4 groups of 4 from an alphabet without look-alikes (80 bits). */
export function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const b = randomBytes(16);
  let s = '';
  for (let i = 0; i < 16; i++) s += alphabet[b[i] % alphabet.length];
  return s.match(/.{4}/g)!.join('-');
}

export const normaliseCode = (c: string) => c.trim().toLowerCase().replace(/[\s-]/g, '');

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
