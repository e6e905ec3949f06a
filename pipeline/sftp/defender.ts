// Brute-force defender: failure counters per remote IP and per user name inside a sliding
// window; reaching the limit bans that IP or user. Each further ban of the same key doubles
// in length (capped), and the count of earlier bans is forgiven after a quiet period.
// Pure apart from the injected clock; state lives in the returned object.
//
// Trade-off, stated plainly: a per-user ban lets someone who knows a partner's user name lock
// that partner out for a while by failing on purpose. The per-IP ban alone cannot stop a
// distributed guesser, so both are kept; operators see every ban in the audit trail.

export interface DefenderConfig {
  maxFailures: number;
  windowMs: number;
  banMs: number;
  /** Upper bound of a doubled ban; default 24 h or banMs, whichever is larger. */
  maxBanMs?: number;
  /** Memory bound on tracked IPs + users; default 50 000. */
  maxEntries?: number;
}

export const DEFENDER_DEFAULTS: DefenderConfig = { maxFailures: 5, windowMs: 5 * 60_000, banMs: 15 * 60_000 };

export type BanKind = 'ip' | 'user';

export interface Ban {
  kind: BanKind;
  key: string;
  until: number;
  durationMs: number;
  /** 1 for the first ban of this key, 2 for the next one, ... */
  strike: number;
}

interface Entry {
  failures: number[];
  bannedUntil: number;
  strikes: number;
}

export interface Defender {
  /** The ban currently in force for this IP or user, if any. */
  banned(kind: BanKind, key: string): Ban | null;
  /** The first ban in force for this IP or (when given) this user. */
  check(ip: string, user?: string): Ban | null;
  /** Count one failed login; returns the bans this failure imposed (0, 1 or 2). */
  recordFailure(ip: string, user?: string): Ban[];
  /** A successful login clears the user's counter (not the IP's: one valid account must not
   *  let an address keep guessing others). */
  recordSuccess(user: string): void;
  /** Number of tracked keys (for tests and metrics). */
  size(): number;
}

export function createDefender(config: Partial<DefenderConfig> = {}, now: () => number = Date.now): Defender {
  const banMs = config.banMs ?? DEFENDER_DEFAULTS.banMs;
  const cfg: Required<DefenderConfig> = {
    maxFailures: config.maxFailures ?? DEFENDER_DEFAULTS.maxFailures,
    windowMs: config.windowMs ?? DEFENDER_DEFAULTS.windowMs,
    banMs,
    maxBanMs: config.maxBanMs ?? Math.max(24 * 3600_000, banMs),
    maxEntries: config.maxEntries ?? 50_000,
  };
  if (cfg.maxFailures < 1 || cfg.windowMs <= 0 || cfg.banMs <= 0) throw new Error('defender: maxFailures, windowMs and banMs must be positive');

  const entries = new Map<string, Entry>();
  const k = (kind: BanKind, key: string) => `${kind}\u0000${key}`;

  function banOf(kind: BanKind, key: string, e: Entry | undefined, t: number): Ban | null {
    if (!e || e.bannedUntil <= t) return null;
    return { kind, key, until: e.bannedUntil, durationMs: durationFor(e.strikes), strike: e.strikes };
  }

  function durationFor(strike: number): number {
    const d = cfg.banMs * 2 ** Math.max(0, strike - 1);
    return Math.min(d, cfg.maxBanMs);
  }

  function prune(t: number): void {
    if (entries.size <= cfg.maxEntries) return;
    for (const [key, e] of entries) {
      const idle = e.bannedUntil <= t && (e.failures.length === 0 || e.failures[e.failures.length - 1] <= t - cfg.windowMs);
      // Entries with strikes are kept while they might still double a ban.
      if (idle && (e.strikes === 0 || e.bannedUntil <= t - cfg.maxBanMs)) entries.delete(key);
    }
    // Still over (a flood of distinct addresses): drop the oldest, which Map order gives us.
    for (const key of entries.keys()) {
      if (entries.size <= cfg.maxEntries) break;
      entries.delete(key);
    }
  }

  function fail1(kind: BanKind, key: string, t: number): Ban | null {
    const id = k(kind, key);
    let e = entries.get(id);
    if (!e) {
      e = { failures: [], bannedUntil: 0, strikes: 0 };
      entries.set(id, e);
    }
    if (e.bannedUntil > t) return null; // already banned: attempts are refused before they count
    // A full max-ban period without a ban forgives earlier strikes.
    if (e.strikes > 0 && e.bannedUntil > 0 && t - e.bannedUntil > cfg.maxBanMs) e.strikes = 0;
    const from = t - cfg.windowMs;
    e.failures = e.failures.filter((x) => x > from);
    e.failures.push(t);
    if (e.failures.length < cfg.maxFailures) return null;
    e.strikes += 1;
    e.failures = [];
    const durationMs = durationFor(e.strikes);
    e.bannedUntil = t + durationMs;
    return { kind, key, until: e.bannedUntil, durationMs, strike: e.strikes };
  }

  return {
    banned(kind, key) {
      return banOf(kind, key, entries.get(k(kind, key)), now());
    },
    check(ip, user) {
      const t = now();
      return banOf('ip', ip, entries.get(k('ip', ip)), t) ?? (user !== undefined ? banOf('user', user, entries.get(k('user', user)), t) : null);
    },
    recordFailure(ip, user) {
      const t = now();
      const bans: Ban[] = [];
      const b1 = fail1('ip', ip, t);
      if (b1) bans.push(b1);
      if (user !== undefined && user !== '') {
        const b2 = fail1('user', user, t);
        if (b2) bans.push(b2);
      }
      prune(t);
      return bans;
    },
    recordSuccess(user) {
      const e = entries.get(k('user', user));
      if (e) e.failures = [];
    },
    size() {
      return entries.size;
    },
  };
}
