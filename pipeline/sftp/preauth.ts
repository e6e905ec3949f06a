// Limits on what a stranger gets before logging in: a bounded number of unauthenticated
// connections per IP (slots), and a bounded number of audit rows per IP and window — beyond it
// the events of that IP are counted and written as one `auth.failures` summary when the window
// ends (or the drop zone closes). Authenticated traffic and bans are always written one by one.

import type { AuditFn } from './auth.js';

type AuditEvent = Parameters<AuditFn>[0];

export interface PreauthLimits {
  /** Unauthenticated connections at once from one IP. Default 10. */
  maxConnectionsPerIp: number;
  /** Audit rows written one by one per IP and window before counting starts. Default 20. */
  auditEventsPerIp: number;
  /** Window of the audit budget. Default 60 000 ms. */
  auditWindowMs: number;
  /** IPs tracked at once; more are counted together under `ip:*`. Default 10 000. */
  maxTrackedIps: number;
}

export const PREAUTH_DEFAULTS: PreauthLimits = { maxConnectionsPerIp: 10, auditEventsPerIp: 20, auditWindowMs: 60_000, maxTrackedIps: 10_000 };

export function preauthLimits(over: Partial<PreauthLimits> = {}): PreauthLimits {
  const l = { ...PREAUTH_DEFAULTS, ...Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) } as PreauthLimits;
  for (const [k, v] of Object.entries(l)) if (!Number.isFinite(v) || v < 1) throw new Error(`sftp pre-auth limit ${k} must be a positive number, got ${v}`);
  return l;
}

/** Counts unauthenticated connections per IP. `take` returns a release function, or null when the IP is at its limit. */
export function createPreauthSlots(maxPerIp: number): { take(ip: string): (() => void) | null; count(ip: string): number } {
  const open = new Map<string, number>();
  return {
    take(ip) {
      const n = open.get(ip) ?? 0;
      if (n >= maxPerIp) return null;
      open.set(ip, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(ip) ?? 1) - 1;
        if (left <= 0) open.delete(ip);
        else open.set(ip, left);
      };
    },
    count: (ip) => open.get(ip) ?? 0,
  };
}

/** Events a stranger can cause without logging in. */
export function isPreauthEvent(e: AuditEvent): boolean {
  if (typeof e.details?.ip !== 'string') return false;
  switch (e.action) {
    case 'sftp.connect':
    case 'sftp.refused':
    case 'sftp.login_timeout':
      return true;
    case 'sftp.auth':
      return e.details.result === 'failure';
    case 'sftp.disconnect':
      return !e.details.partner;
    default:
      return false;
  }
}

interface Window {
  start: number;
  written: number;
  counted: number;
  byAction: Record<string, number>;
  users: Set<string>;
}

const MAX_USERS_LISTED = 20;

export interface PreauthAudit {
  audit: AuditFn;
  /** Writes the summaries of every window that has ended (all of them with `all`). */
  flush(all?: boolean): void;
  /** Stops the timer and writes every pending summary. */
  close(): void;
}

export function createPreauthAudit(write: AuditFn, limits: PreauthLimits, opts: { now?: () => number; onError?: (err: unknown) => void } = {}): PreauthAudit {
  const now = opts.now ?? Date.now;
  const windows = new Map<string, Window>();

  function summarize(ip: string, w: Window, end: number): void {
    if (w.counted === 0) return;
    try {
      write({
        actor: 'sftp',
        action: 'auth.failures',
        subject: `ip:${ip}`,
        details: {
          ip,
          from: new Date(w.start).toISOString(),
          to: new Date(end).toISOString(),
          count: w.counted,
          written: w.written,
          byAction: w.byAction,
          users: [...w.users],
        },
      });
    } catch (err) {
      opts.onError?.(err);
    }
  }

  function flush(all = false): void {
    const t = now();
    for (const [ip, w] of windows) {
      if (!all && t - w.start < limits.auditWindowMs) continue;
      summarize(ip, w, Math.min(t, w.start + limits.auditWindowMs));
      windows.delete(ip);
    }
  }

  const timer = setInterval(() => flush(), Math.max(1000, Math.min(limits.auditWindowMs, 60_000)));
  timer.unref();

  return {
    audit(e) {
      if (!isPreauthEvent(e)) return write(e);
      const t = now();
      let ip = e.details.ip as string;
      let w = windows.get(ip);
      if (w && t - w.start >= limits.auditWindowMs) {
        summarize(ip, w, w.start + limits.auditWindowMs);
        windows.delete(ip);
        w = undefined;
      }
      if (!w) {
        if (windows.size >= limits.maxTrackedIps) {
          ip = '*';
          w = windows.get(ip);
        }
        if (!w) {
          w = { start: t, written: 0, counted: 0, byAction: {}, users: new Set() };
          windows.set(ip, w);
        }
      }
      if (w.written < limits.auditEventsPerIp) {
        w.written++;
        return write(e);
      }
      w.counted++;
      w.byAction[e.action] = (w.byAction[e.action] ?? 0) + 1;
      const user = e.details.user;
      if (typeof user === 'string' && w.users.size < MAX_USERS_LISTED) w.users.add(user.slice(0, 64));
    },
    flush,
    close() {
      clearInterval(timer);
      flush(true);
    },
  };
}
