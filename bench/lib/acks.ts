// Waiting for acknowledgments: <dropDir>/<partner>/outbound/<name>.ack.json, the stable copy of
// the newest answer for that name (each submission also keeps <name>.<id>.ack.json), written
// atomically (temp + rename) by lotgate when it has finished with a file. Its mtime is the
// moment it was written. The bench's file names are unique, so the copy is that file's answer.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './net.js';

export interface AckSeen {
  partner: string;
  file: string;
  state: string;
  rows: number;
  applied: number;
  rejected: number;
  sha256: string;
  errorCodes: string[];
  /** mtime of the .ack.json, ms since the epoch. */
  writtenAt: number;
}

export function ackPath(dropDir: string, partner: string, file: string): string {
  return path.join(dropDir, partner, 'outbound', `${file}.ack.json`);
}

export function readAck(dropDir: string, partner: string, file: string): AckSeen | null {
  const p = ackPath(dropDir, partner, file);
  let st;
  try {
    st = statSync(p);
  } catch {
    return null;
  }
  const a = JSON.parse(readFileSync(p, 'utf8')) as {
    state: string;
    sha256: string;
    counts: { rows: number; applied: number; rejected: number };
    errors?: { code: string }[];
  };
  return {
    partner,
    file,
    state: a.state,
    rows: a.counts.rows,
    applied: a.counts.applied,
    rejected: a.counts.rejected,
    sha256: a.sha256,
    errorCodes: (a.errors ?? []).map((e) => e.code),
    writtenAt: st.mtimeMs,
  };
}

/**
 * Polls until every (partner, file) has an acknowledgment in a terminal state, or the timeout.
 * Returns what was seen; missing ones are absent from the map.
 */
export async function waitForAcks(dropDir: string, wanted: { partner: string; file: string }[], timeoutMs: number, pollMs = 50): Promise<Map<string, AckSeen>> {
  const seen = new Map<string, AckSeen>();
  const key = (p: string, f: string) => `${p}/${f}`;
  const until = Date.now() + timeoutMs;
  const outstanding = new Map(wanted.map((w) => [key(w.partner, w.file), w]));
  while (outstanding.size > 0 && Date.now() < until) {
    // One directory listing per partner per round keeps polling cheap with 2,000 files.
    const byPartner = new Map<string, Set<string>>();
    for (const w of outstanding.values()) {
      if (!byPartner.has(w.partner)) {
        let names: string[] = [];
        try {
          names = readdirSync(path.join(dropDir, w.partner, 'outbound'));
        } catch {
          /* not created yet */
        }
        byPartner.set(w.partner, new Set(names));
      }
      if (!byPartner.get(w.partner)!.has(`${w.file}.ack.json`)) continue;
      const a = readAck(dropDir, w.partner, w.file);
      if (a && a.state !== 'received' && a.state !== 'processing') {
        seen.set(key(w.partner, w.file), a);
        outstanding.delete(key(w.partner, w.file));
      }
    }
    if (outstanding.size > 0) await sleep(pollMs);
  }
  return seen;
}
