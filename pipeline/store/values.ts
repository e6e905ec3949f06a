// Column values the store writes and reads the same way on both dialects: instants as one
// string form (ISO-8601 UTC with milliseconds), event times normalised so equal instants are
// equal strings, 0/1 booleans, JSON text.

import type { Instant } from './types.js';

/** Normalises an instant to the one string form the store compares: ISO-8601 UTC with milliseconds. */
export function isoInstant(t: Instant): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new Error(`not a valid point in time: ${String(t)}`);
  return d.toISOString();
}

const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const ZONE_RE = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * Event times are compared as text (latest version wins, idempotency keys), so equal instants
 * must be equal strings: "…T10:00Z", "…T10:00:00.000Z" and "…T12:00+02:00" become one form.
 * Dates without a time and unparseable text are kept as sent.
 */
export function normTime(v: string | null | undefined): string | null {
  if (v == null || v === '') return null;
  if (!DATETIME_RE.test(v)) return v;
  // The mapping engine emits UTC; a time without a zone is read as UTC, never as local time.
  const ms = Date.parse(ZONE_RE.test(v) ? v : `${v}Z`);
  return Number.isNaN(ms) ? v : new Date(ms).toISOString();
}

export const bool = (v: unknown): boolean => v === 1 || v === true;

export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text == null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
