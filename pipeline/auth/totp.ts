// TOTP (RFC 6238, 30 s steps, 6 digits, SHA-1 — what authenticator apps expect). A code is
// accepted for the current step or the one either side (clock drift); the step it matched is
// returned so the caller can refuse any step not newer than the last accepted one.

import { authenticator } from 'otplib';

const STEP_SECONDS = 30;

export function newTotpSecret(): string {
  return authenticator.generateSecret(20);
}

export function totpUri(secret: string, account: string, issuer = 'lotgate'): string {
  return authenticator.keyuri(account, issuer, secret);
}

/** The code for `secret` at `at` (tests, and nothing else, need this). */
export function totpCode(secret: string, at: Date): string {
  return authenticator.clone({ epoch: at.getTime() }).generate(secret);
}

/** The time step the code matches at `at` (±1 step), or null. */
export function matchTotp(secret: string, code: string, at: Date): number | null {
  if (!/^\d{6}$/.test(code.trim())) return null;
  const a = authenticator.clone({ epoch: at.getTime(), window: 1 });
  const delta = a.checkDelta(code.trim(), secret);
  if (delta === null) return null;
  return Math.floor(at.getTime() / 1000 / STEP_SECONDS) + delta;
}
