// Brute-force bans of the SFTP drop zone (pipeline/sftp/defender.ts), shared by every process of
// a data dir and kept across restarts. One row per banned IP or user name: the latest ban and
// how many strikes led to it (each further ban doubles). Times are epoch milliseconds.

import type { Sql } from './sql.js';

export type BanKind = 'ip' | 'user';

export interface BanRecord {
  kind: BanKind;
  key: string;
  /** When the ban ends (epoch ms). */
  until: number;
  /** 1 for the first ban of this key, 2 for the next one, ... */
  strike: number;
  /** When it was imposed (epoch ms). */
  bannedAt: number;
}

export interface BanDbRow {
  kind: BanKind;
  key: string;
  until_ms: number;
  strikes: number;
  banned_at_ms: number;
}

export const toBan = (r: BanDbRow): BanRecord => ({ kind: r.kind, key: r.key, until: r.until_ms, strike: r.strikes, bannedAt: r.banned_at_ms });

export function getBan(sql: Sql, kind: BanKind, key: string): BanRecord | undefined {
  const r = sql.q('SELECT * FROM sftp_bans WHERE kind = ? AND "key" = ?').get(kind, key) as BanDbRow | undefined;
  return r && toBan(r);
}

/** Keeps the later ban when two processes ban the same key at once. */
export function recordBan(sql: Sql, b: BanRecord): void {
  sql
    .q(
      `INSERT INTO sftp_bans (kind, "key", until_ms, strikes, banned_at_ms, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, "key") DO UPDATE SET until_ms = max(until_ms, excluded.until_ms), strikes = max(strikes, excluded.strikes),
         banned_at_ms = max(banned_at_ms, excluded.banned_at_ms), updated_at = excluded.updated_at`,
    )
    .run(b.kind, b.key, Math.round(b.until), b.strike, Math.round(b.bannedAt), sql.now());
}

/** Bans in force at `at` (epoch ms), longest first. */
export function listActiveBans(sql: Sql, at: number): BanRecord[] {
  return (sql.q('SELECT * FROM sftp_bans WHERE until_ms > ? ORDER BY until_ms DESC').all(Math.round(at)) as BanDbRow[]).map(toBan);
}

/** Lifts a ban (an operator's decision); strikes are kept. Returns whether one was in force. */
export function liftBan(sql: Sql, kind: BanKind, key: string, at: number): boolean {
  return sql.q('UPDATE sftp_bans SET until_ms = ?, updated_at = ? WHERE kind = ? AND "key" = ? AND until_ms > ?').run(Math.round(at), sql.now(), kind, key, Math.round(at)).changes > 0;
}

/** Forgets rows whose ban ended before `before` (epoch ms): their strikes are forgiven anyway. */
export function pruneBans(sql: Sql, before: number): number {
  return sql.q('DELETE FROM sftp_bans WHERE until_ms < ?').run(Math.round(before)).changes;
}
