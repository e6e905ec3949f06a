// Anchors of the audit trail: the head of the hash chain (seq + hash) written outside the
// database — one JSON line per anchor appended to a file, and an `audit.anchor` message in the
// outbox for the ERP/QMS connectors — so that removing events from the end of the chain, or
// rewriting events and recomputing every hash after them, no longer goes unnoticed: the chain
// must still contain every head that was anchored (`lotgate audit verify`).

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { LotgateConfig } from '../config/config.js';
import type { Store } from '../store/store.js';
import { messageId } from '../outbound/messages.js';

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditAnchor extends AuditHead {
  /** When the anchor was taken (ISO). */
  at: string;
  /** What took it: `job` (audit-anchor), `shutdown`, `cli`. */
  source: string;
  host?: string;
  pid?: number;
}

/** A head the chain must contain, and where the expectation comes from (for messages). */
export interface ExpectedHead extends AuditHead {
  from: string;
}

export interface AnchorProblem {
  code: 'E_AUDIT_TRUNCATED' | 'E_AUDIT_REWRITTEN' | 'E_AUDIT_ANCHOR_FILE';
  message: string;
}

export const AUDIT_ANCHOR_TOPIC = 'audit.anchor';
const HASH_RE = /^[0-9a-f]{64}$/;

export function anchorFileOf(config: LotgateConfig): string {
  return config.audit?.anchorFile ?? path.join(config.dataDir, 'audit-anchors.log');
}

/** `--expect <seq>:<hash>`; null when malformed. */
export function parseExpectedHead(text: string): AuditHead | null {
  const m = /^\s*(\d+):([0-9a-fA-F]{64})\s*$/.exec(text);
  if (!m) return null;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? { seq, hash: m[2].toLowerCase() } : null;
}

/** Reads the anchor file: every well-formed line, and a problem per line that is not. */
export function readAnchors(file: string): { anchors: (AuditAnchor & { line: number })[]; problems: AnchorProblem[] } {
  const anchors: (AuditAnchor & { line: number })[] = [];
  const problems: AnchorProblem[] = [];
  if (!existsSync(file)) return { anchors, problems };
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    try {
      const a = JSON.parse(text) as Partial<AuditAnchor>;
      if (!Number.isSafeInteger(a.seq) || (a.seq as number) < 0 || typeof a.hash !== 'string' || !HASH_RE.test(a.hash)) throw new Error('needs seq (a whole number) and hash (64 hex digits)');
      anchors.push({ ...(a as AuditAnchor), line: i + 1 });
    } catch (err) {
      // A torn last line (crash mid-append) is reported too: an anchor file is never edited by hand.
      problems.push({ code: 'E_AUDIT_ANCHOR_FILE', message: `${file}:${i + 1}: not an anchor line (${(err as Error).message}); anchor files are append-only, one JSON object per line` });
    }
  });
  return { anchors, problems };
}

/**
 * Every expected head must be in the chain: an anchor beyond the head means events were removed
 * from the end; a different hash at an anchored seq means events were rewritten (and rehashed).
 * Pure: `hashAt` looks the chain up.
 */
export function checkHeads(head: AuditHead, expected: readonly ExpectedHead[], hashAt: (seq: number) => string | undefined): AnchorProblem[] {
  const problems: AnchorProblem[] = [];
  for (const e of expected) {
    if (e.seq === 0) continue; // the empty chain: nothing to compare
    if (e.seq > head.seq) {
      problems.push({
        code: 'E_AUDIT_TRUNCATED',
        message: `${e.from} says the chain had event ${e.seq} (hash ${e.hash.slice(0, 16)}…), but it ends at ${head.seq}: events were removed from the end of the audit trail`,
      });
      continue;
    }
    const hash = hashAt(e.seq);
    if (hash !== e.hash) {
      problems.push({
        code: 'E_AUDIT_REWRITTEN',
        message: `${e.from} says event ${e.seq} has hash ${e.hash.slice(0, 16)}…, the chain has ${hash ? `${hash.slice(0, 16)}…` : 'no such event'}: the audit trail was rewritten and rehashed`,
      });
    }
  }
  return problems;
}

/** Appends one anchor line and syncs it to disk. */
export function appendAnchor(file: string, anchor: AuditAnchor): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'a', 0o640);
  try {
    writeSync(fd, JSON.stringify(anchor) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AnchorOutcome {
  head: AuditHead;
  /** False when the file's last anchor already is this head. */
  written: boolean;
  file: string;
  /** True when an `audit.anchor` message was added to the outbox. */
  outbox: boolean;
}

/** Writes the current head to the anchor file and the outbox (skipped when nothing changed since the last anchor). */
export async function anchorAuditHead(deps: { store: Store; config: LotgateConfig; now: () => Date }, source: string): Promise<AnchorOutcome> {
  const file = anchorFileOf(deps.config);
  const head = await deps.store.audit.auditHead();
  const { anchors } = readAnchors(file);
  const last = anchors.at(-1);
  if (last && last.seq === head.seq && last.hash === head.hash) return { head, written: false, file, outbox: false };
  const anchor: AuditAnchor = { seq: head.seq, hash: head.hash, at: deps.now().toISOString(), source, host: hostname(), pid: process.pid };
  appendAnchor(file, anchor);
  const outbox = await deps.store.outbox.enqueueOutbox({
    id: messageId(AUDIT_ANCHOR_TOPIC, 'audit', { seq: head.seq, hash: head.hash }),
    topic: AUDIT_ANCHOR_TOPIC,
    key: 'audit',
    payload: { seq: head.seq, hash: head.hash, at: anchor.at, source, host: anchor.host },
  });
  return { head, written: true, file, outbox };
}

export interface AnchoredVerification {
  ok: boolean;
  count: number;
  head: AuditHead;
  brokenAt?: number;
  reason?: string;
  anchorFile: string;
  anchorsChecked: number;
  latestAnchor: AuditAnchor | null;
  problems: AnchorProblem[];
}

/** The chain walk, then every anchor of the file and the heads given on the command line. */
export async function verifyWithAnchors(store: Store, file: string, expected: readonly AuditHead[]): Promise<AnchoredVerification> {
  const chain = await store.audit.verifyAudit();
  const head = await store.audit.auditHead();
  const { anchors, problems } = readAnchors(file);
  const heads: ExpectedHead[] = [
    ...anchors.map((a) => ({ seq: a.seq, hash: a.hash, from: `the anchor of ${a.at} (${path.basename(file)} line ${a.line})` })),
    ...expected.map((e) => ({ ...e, from: '--expect' })),
  ];
  // checkHeads is pure: the hashes at the anchored seqs (those the chain reaches) are read first.
  const hashes = new Map<number, string | undefined>();
  for (const h of heads) {
    if (h.seq !== 0 && h.seq <= head.seq && !hashes.has(h.seq)) hashes.set(h.seq, await store.audit.auditHashAt(h.seq));
  }
  problems.push(...checkHeads(head, heads, (seq) => hashes.get(seq)));
  const latest = anchors.at(-1);
  return {
    ok: chain.ok && problems.length === 0,
    count: chain.count,
    head,
    ...(chain.ok ? {} : { brokenAt: chain.brokenAt, reason: chain.reason }),
    anchorFile: file,
    anchorsChecked: heads.length,
    latestAnchor: latest ? { seq: latest.seq, hash: latest.hash, at: latest.at, source: latest.source, host: latest.host, pid: latest.pid } : null,
    problems,
  };
}
