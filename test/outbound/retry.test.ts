import { describe, expect, it } from 'vitest';
import { decideAfterFailure, nextAttempt, shouldDeadLetter } from '../../pipeline/outbound/retry.js';

const NOW = 1_700_000_000_000;
const fixed = (r: number) => () => r;

describe('nextAttempt', () => {
  it('doubles the backoff per attempt, with jitter between half and all of it', () => {
    expect(nextAttempt(1, 1000, 60_000, NOW, fixed(0))).toBe(NOW + 500);
    expect(nextAttempt(1, 1000, 60_000, NOW, fixed(1))).toBe(NOW + 1000);
    expect(nextAttempt(2, 1000, 60_000, NOW, fixed(0))).toBe(NOW + 1000);
    expect(nextAttempt(3, 1000, 60_000, NOW, fixed(0.5))).toBe(NOW + 3000);
    expect(nextAttempt(4, 1000, 60_000, NOW, fixed(1))).toBe(NOW + 8000);
  });

  it('caps the backoff, even after very many attempts', () => {
    expect(nextAttempt(10, 1000, 60_000, NOW, fixed(1))).toBe(NOW + 60_000);
    expect(nextAttempt(5000, 1000, 60_000, NOW, fixed(0))).toBe(NOW + 30_000);
  });

  it('spreads retries of messages that failed together', () => {
    const randoms = [0.1, 0.4, 0.7, 0.95];
    const times = randoms.map((r) => nextAttempt(3, 1000, 60_000, NOW, fixed(r)));
    expect(new Set(times).size).toBe(randoms.length);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(NOW + 2000);
      expect(t).toBeLessThanOrEqual(NOW + 4000);
    }
  });

  it('is due at once before any failure and clamps a misbehaving random', () => {
    expect(nextAttempt(0, 1000, 60_000, NOW, fixed(0.5))).toBe(NOW);
    expect(nextAttempt(1, 1000, 60_000, NOW, fixed(7))).toBe(NOW + 1000);
    expect(nextAttempt(1, 1000, 60_000, NOW, fixed(-3))).toBe(NOW + 500);
  });
});

describe('shouldDeadLetter / decideAfterFailure', () => {
  const policy = { maxAttempts: 3, baseMs: 1000, maxMs: 60_000 };

  it('dead letters after the last attempt', () => {
    expect(shouldDeadLetter(2, 3)).toBe(false);
    expect(shouldDeadLetter(3, 3)).toBe(true);
    expect(decideAfterFailure({ ok: false, retryable: true, error: 'HTTP 503' }, 3, policy, NOW, fixed(0))).toEqual({
      action: 'dead',
      reason: 'gave up after 3 attempts: HTTP 503',
    });
  });

  it('dead letters a refused message at once', () => {
    expect(decideAfterFailure({ ok: false, retryable: false, error: 'HTTP 400' }, 1, policy, NOW, fixed(0))).toEqual({
      action: 'dead',
      reason: 'not retryable: HTTP 400',
    });
  });

  it("retries at the backoff, never before the receiver's Retry-After (itself capped)", () => {
    expect(decideAfterFailure({ ok: false, retryable: true, error: 'x' }, 1, policy, NOW, fixed(0))).toEqual({ action: 'retry', at: NOW + 500 });
    expect(decideAfterFailure({ ok: false, retryable: true, error: 'x', retryAfterMs: 20_000 }, 1, policy, NOW, fixed(0))).toEqual({
      action: 'retry',
      at: NOW + 20_000,
    });
    expect(decideAfterFailure({ ok: false, retryable: true, error: 'x', retryAfterMs: 10 }, 2, policy, NOW, fixed(0))).toEqual({ action: 'retry', at: NOW + 1000 });
    expect(decideAfterFailure({ ok: false, retryable: true, error: 'x', retryAfterMs: 9e9 }, 1, policy, NOW, fixed(0))).toEqual({ action: 'retry', at: NOW + 60_000 });
  });
});
