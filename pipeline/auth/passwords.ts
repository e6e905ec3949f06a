// Passwords: argon2id (OWASP parameters: m=19 MiB, t=2, p=1) and a minimal length policy.

import { hash, verify } from '@node-rs/argon2';

const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

/** Why a password is not acceptable, or null. */
export function passwordProblem(pw: string): string | null {
  if (pw.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (pw.length > 1024) return 'a password may have at most 1024 characters';
  return null;
}

export function hashPassword(pw: string): Promise<string> {
  return hash(pw, OPTIONS);
}

export async function verifyPassword(stored: string | null, pw: string): Promise<boolean> {
  if (!stored) {
    // Same cost as a real check, so timing does not tell which users exist.
    await hash(pw, OPTIONS);
    return false;
  }
  try {
    return await verify(stored, pw);
  } catch {
    return false;
  }
}
