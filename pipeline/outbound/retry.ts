// Retry arithmetic for the push job (pure: the clock and the randomness are parameters).

import type { DeliveryResult, RetryPolicy } from './delivery.js';

/**
 * When to try again after `attempts` failed attempts (1 after the first failure): exponential
 * backoff base·2^(attempts−1), capped at maxMs, with "equal jitter" — half the delay fixed, half
 * random — so many messages failing together against one receiver do not come back in lockstep,
 * while no retry is ever sooner than half the backoff. `random` returns a number in [0, 1).
 * Returns the epoch ms of the next attempt.
 */
export function nextAttempt(attempts: number, baseMs: number, maxMs: number, now: number, random: () => number): number {
  if (!(attempts >= 1)) return now;
  const exp = Math.min(attempts - 1, 52); // 2^52 ms is beyond any cap; avoids Infinity arithmetic
  const backoff = Math.min(maxMs, baseMs * 2 ** exp);
  const r = Math.min(Math.max(random(), 0), 1);
  return now + Math.round(backoff / 2 + (backoff / 2) * r);
}

/** After `attempts` failed attempts, whether the message goes to the dead letter state. */
export function shouldDeadLetter(attempts: number, maxAttempts: number): boolean {
  return attempts >= maxAttempts;
}

export type FailureDecision = { action: 'retry'; at: number } | { action: 'dead'; reason: string };

/**
 * What the push job does with a failed delivery: dead letter at once when the receiver refused
 * the message, or after the last attempt; otherwise retry at the backoff time, never sooner than
 * the receiver's Retry-After.
 */
export function decideAfterFailure(
  result: Extract<DeliveryResult, { ok: false }>,
  attempts: number,
  policy: RetryPolicy,
  now: number,
  random: () => number,
): FailureDecision {
  if (!result.retryable) return { action: 'dead', reason: `not retryable: ${result.error}` };
  if (shouldDeadLetter(attempts, policy.maxAttempts)) {
    return { action: 'dead', reason: `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${result.error}` };
  }
  const backoffAt = nextAttempt(attempts, policy.baseMs, policy.maxMs, now, random);
  const hinted = result.retryAfterMs !== undefined ? now + Math.min(result.retryAfterMs, policy.maxMs) : 0;
  return { action: 'retry', at: Math.max(backoffAt, hinted) };
}
