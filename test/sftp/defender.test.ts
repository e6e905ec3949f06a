import { describe, it, expect } from 'vitest';
import { createDefender } from '../../pipeline/sftp/defender.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('defender', () => {
  it('bans an IP and a user after maxFailures inside the window', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 3, windowMs: 10_000, banMs: 60_000 }, c.now);
    expect(d.recordFailure('10.0.0.1', 'acme')).toEqual([]);
    expect(d.recordFailure('10.0.0.1', 'acme')).toEqual([]);
    const bans = d.recordFailure('10.0.0.1', 'acme');
    expect(bans.map((b) => [b.kind, b.key, b.durationMs, b.strike])).toEqual([
      ['ip', '10.0.0.1', 60_000, 1],
      ['user', 'acme', 60_000, 1],
    ]);
    expect(d.check('10.0.0.1')?.kind).toBe('ip');
    expect(d.check('10.9.9.9', 'acme')?.kind).toBe('user');
    expect(d.check('10.9.9.9', 'other')).toBeNull();
    c.advance(60_000);
    expect(d.check('10.0.0.1', 'acme')).toBeNull();
  });

  it('forgets failures older than the window (sliding)', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 3, windowMs: 10_000, banMs: 60_000 }, c.now);
    d.recordFailure('ip', 'u');
    c.advance(6_000);
    d.recordFailure('ip', 'u');
    c.advance(6_000); // the first failure is now outside the window
    expect(d.recordFailure('ip', 'u')).toEqual([]);
    expect(d.check('ip', 'u')).toBeNull();
    expect(d.recordFailure('ip', 'u').length).toBe(2);
  });

  it('counts IPs and users independently (a spray over many users from one IP)', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 3, windowMs: 10_000, banMs: 1_000 }, c.now);
    d.recordFailure('1.1.1.1', 'a');
    d.recordFailure('1.1.1.1', 'b');
    const bans = d.recordFailure('1.1.1.1', 'c');
    expect(bans.map((b) => b.kind)).toEqual(['ip']);
    expect(d.check('2.2.2.2', 'a')).toBeNull();
  });

  it('doubles each further ban, capped', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 1, windowMs: 1_000, banMs: 1_000, maxBanMs: 5_000 }, c.now);
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [ban] = d.recordFailure('ip');
      durations.push(ban.durationMs);
      c.advance(ban.durationMs);
      expect(d.check('ip')).toBeNull();
    }
    expect(durations).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('does not count attempts while banned, and forgives strikes after a quiet period', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 2, windowMs: 1_000, banMs: 1_000, maxBanMs: 10_000 }, c.now);
    d.recordFailure('ip');
    expect(d.recordFailure('ip')[0].strike).toBe(1);
    expect(d.recordFailure('ip')).toEqual([]); // banned: not counted
    c.advance(1_000);
    d.recordFailure('ip');
    expect(d.recordFailure('ip')[0].strike).toBe(2);
    c.advance(2_000 + 10_001); // ban over + a full max-ban period of calm
    d.recordFailure('ip');
    const [ban] = d.recordFailure('ip');
    expect(ban.strike).toBe(1);
    expect(ban.durationMs).toBe(1_000);
  });

  it('a success clears the user counter but not the IP counter', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 3, windowMs: 10_000, banMs: 1_000 }, c.now);
    d.recordFailure('ip', 'u');
    d.recordFailure('ip', 'u');
    d.recordSuccess('u');
    const bans = d.recordFailure('ip', 'u');
    expect(bans.map((b) => b.kind)).toEqual(['ip']);
  });

  it('stays bounded under a flood of distinct addresses', () => {
    const c = clock();
    const d = createDefender({ maxFailures: 5, windowMs: 10_000, banMs: 1_000, maxEntries: 100 }, c.now);
    for (let i = 0; i < 1_000; i++) d.recordFailure(`10.0.${i >> 8}.${i & 255}`);
    expect(d.size()).toBeLessThanOrEqual(100);
  });

  it('rejects nonsense configuration', () => {
    expect(() => createDefender({ maxFailures: 0 })).toThrow();
    expect(() => createDefender({ banMs: 0 })).toThrow();
  });
});

describe('defender with a shared ban store', () => {
  function memoryStore() {
    const rows = new Map<string, { until: number; strike: number; bannedAt: number }>();
    return {
      get: (kind: string, key: string) => rows.get(`${kind}:${key}`),
      save: (b: { kind: string; key: string; until: number; strike: number; bannedAt: number }) => void rows.set(`${b.kind}:${b.key}`, { until: b.until, strike: b.strike, bannedAt: b.bannedAt }),
    };
  }

  it('a ban imposed by one process holds in another, and the next ban doubles there', () => {
    const c = clock();
    const store = memoryStore();
    const one = createDefender({ maxFailures: 2, windowMs: 10_000, banMs: 1_000 }, c.now, store);
    const two = createDefender({ maxFailures: 2, windowMs: 10_000, banMs: 1_000 }, c.now, store);
    one.recordFailure('ip');
    expect(one.recordFailure('ip')[0]).toMatchObject({ strike: 1, durationMs: 1_000 });
    expect(two.check('ip')).toMatchObject({ kind: 'ip', strike: 1 });
    expect(two.recordFailure('ip')).toEqual([]); // banned: not counted
    c.advance(1_000);
    expect(two.check('ip')).toBeNull();
    two.recordFailure('ip');
    expect(two.recordFailure('ip')[0]).toMatchObject({ strike: 2, durationMs: 2_000 });
    expect(one.check('ip')).toMatchObject({ strike: 2 });
  });
});
