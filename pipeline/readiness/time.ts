// Calendar arithmetic in whole UTC days. Readiness dates (expiry, planned receipt) are plain
// calendar dates; comparing them as day numbers avoids DST and time-of-day surprises.

const MS_PER_DAY = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:$|T)/;

// dayOf is pure and called many times per lot with few distinct dates per recompute (expiry,
// planned receipt): remembered, up to a bound. (Instants — event times — are mostly distinct:
// remembering them costs more than parsing them.)
const MEMO_MAX = 50_000;
const days = new Map<string, number | null>();

/** Day number (days since 1970-01-01) of a `YYYY-MM-DD` date (a datetime's date part is accepted), or null if invalid. */
export function dayOf(date: string | null | undefined): number | null {
  if (typeof date !== 'string') return null;
  const hit = days.get(date);
  if (hit !== undefined) return hit;
  if (days.size >= MEMO_MAX) days.clear();
  const day = parseDay(date);
  days.set(date, day);
  return day;
}

function parseDay(date: string): number | null {
  const m = DATE_RE.exec(date.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March; a real calendar date survives the round trip.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return Math.floor(ms / MS_PER_DAY);
}

/** The UTC calendar day the clock is on. */
export function todayOf(now: Date): number {
  const ms = now.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('readiness: the clock (now) is an invalid Date');
  return Math.floor(ms / MS_PER_DAY);
}

export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Milliseconds of an ISO instant; missing or unparseable instants sort before every real one. */
export function instantOf(iso: string | null | undefined): number {
  if (typeof iso !== 'string') return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}
