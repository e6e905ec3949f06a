// Brute-force defender: failure counters per remote IP and per user name inside a sliding
// window; reaching the limit bans that IP or user. Each further ban of the same key doubles
// in length (capped), and the count of earlier bans is forgiven after a quiet period.
// Counters live in this object (per process); bans go through a BanStore, so every process of
// a data dir refuses the same addresses and a restart does not lift a ban (server.ts stores
// them in the store). Pure apart from the injected clock and store. An asynchronous store is
// read by `load(ip, user)`, which the callers await right before the checks that need it; the
// checks themselves stay synchronous and use what the last load read.
//
// What counts against a user name is decided by the caller (auth.ts): only wrong passwords of a
// partner that has a password, never a failed key, and a user ban only closes the password door
// (`check(ip)` without a user for key logins). So nobody can lock a key-only partner out, and a
// stranger cannot stop a partner's key login by failing passwords on purpose. What remains, and
// is stated plainly: someone who knows the user name of a partner that logs in with a password
// only can keep that partner's password login banned; the per-IP ban alone cannot stop a
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
  /** When this process imposed or adopted the current ban. */
  bannedAt: number;
  strikes: number;
}

/** A ban as kept outside this process. */
export interface StoredBan {
  until: number;
  strike: number;
  bannedAt: number;
}

/** Where bans are shared (all processes of a data dir) and survive a restart. */
export interface BanStore {
  /** Synchronous, or a promise (then read through `Defender.load`). */
  get(kind: BanKind, key: string): StoredBan | undefined | PromiseLike<StoredBan | undefined>;
  /** A rejected promise is ignored like a throw: the ban still holds in this process. */
  save(ban: Ban & { bannedAt: number }): void | PromiseLike<unknown>;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | undefined)?.then === 'function';

export interface Defender {
  /**
   * Reads the store's bans of this IP and (when given) this user, for the checks that follow
   * (`banned`, `check`, `recordFailure`). Never rejects: an unreachable store leaves this
   * process's own bans in force. Needed only with an asynchronous BanStore.
   */
  load(ip: string, user?: string): Promise<void>;
  /** The ban currently in force for this IP or user, if any. */
  banned(kind: BanKind, key: string): Ban | null;
  /**
   * The first ban in force for this IP or (when given) this user. Give the user only for a
   * password attempt: a user ban closes the password door, never the key door.
   */
  check(ip: string, user?: string): Ban | null;
  /**
   * Count one failed login against the IP and (when given) the user name; returns the bans this
   * failure imposed (0, 1 or 2). Give the user only when the failure is a wrong password of a
   * user who has one (auth.ts decides).
   */
  recordFailure(ip: string, user?: string): Ban[];
  /** A successful login clears the user's counter (not the IP's: one valid account must not
   *  let an address keep guessing others). */
  recordSuccess(user: string): void;
  /** Number of tracked keys (for tests and metrics). */
  size(): number;
}

export function createDefender(config: Partial<DefenderConfig> = {}, now: () => number = Date.now, store?: BanStore): Defender {
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
  // What load() read from an asynchronous store, per key (bounded like entries).
  const loaded = new Map<string, StoredBan | undefined>();

  function stored(kind: BanKind, key: string): StoredBan | undefined {
    if (!store) return undefined;
    const id = k(kind, key);
    if (loaded.has(id)) return loaded.get(id);
    try {
      const v = store.get(kind, key);
      if (!isThenable(v)) return v;
      // Not loaded first: answer from this process's own bans (the read is dropped, quietly).
      void Promise.resolve(v).catch(() => {});
      return undefined;
    } catch {
      return undefined; // the store is unreachable: this process's own bans still hold
    }
  }

  async function load1(kind: BanKind, key: string): Promise<void> {
    if (!store) return;
    const id = k(kind, key);
    try {
      const v = await store.get(kind, key);
      loaded.delete(id); // re-inserted last: the oldest read goes first when over the bound
      loaded.set(id, v);
    } catch {
      loaded.delete(id); // the store is unreachable: this process's own bans still hold
    }
    for (const old of loaded.keys()) {
      if (loaded.size <= cfg.maxEntries) break;
      loaded.delete(old);
    }
  }

  function banOf(kind: BanKind, key: string, e: Entry | undefined, t: number): Ban | null {
    const s = stored(kind, key);
    if (e && e.bannedUntil > t) {
      // Lifted in the store (`lotgate bans lift`) since this ban was imposed: it ends here too.
      if (s && s.bannedAt >= e.bannedAt && s.until <= t) {
        e.bannedUntil = t;
        return null;
      }
      return { kind, key, until: e.bannedUntil, durationMs: durationFor(e.strikes), strike: e.strikes };
    }
    if (s && s.until > t) return { kind, key, until: s.until, durationMs: durationFor(s.strike), strike: s.strike };
    return null;
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
      e = { failures: [], bannedUntil: 0, bannedAt: 0, strikes: 0 };
      entries.set(id, e);
    }
    if (e.bannedUntil > t) return null; // already banned: attempts are refused before they count
    // Another process (or this one before a restart) may have banned this key: adopt its ban.
    const s = stored(kind, key);
    if (s && s.strike > e.strikes) {
      e.strikes = s.strike;
      e.bannedUntil = s.until;
      e.bannedAt = s.bannedAt;
      if (s.until > t) return null;
    }
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
    e.bannedAt = t;
    const ban: Ban = { kind, key, until: e.bannedUntil, durationMs, strike: e.strikes };
    try {
      const saved = store?.save({ ...ban, bannedAt: t });
      if (isThenable(saved)) void Promise.resolve(saved).catch(() => {}); // not shared this time; it still holds in this process
    } catch {
      // not shared this time; it still holds in this process
    }
    return ban;
  }

  return {
    async load(ip, user) {
      if (!store) return;
      await Promise.all([load1('ip', ip), ...(user !== undefined && user !== '' ? [load1('user', user)] : [])]);
    },
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
