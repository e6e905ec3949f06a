// Which names in a partner's inbound/ folder are files to take, and where they are staged.
// Pure: no I/O. Tools that write in place (WinSCP, FileZilla, rsync, Office) use temporary names
// until the upload is complete; those are never taken — the final rename makes the file appear.

import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Names tools give a file while it is still being written (WinSCP, rclone, browsers, curl, …). */
export const TEMP_SUFFIXES: readonly string[] = ['.part', '.filepart', '.tmp', '.crdownload', '.partial'];

/**
 * The longest file name (UTF-8 bytes) that is taken. Every name lotgate derives from it must
 * still fit in the file system's 255-byte NAME_MAX: the claimed copy in .intake/ adds 22 bytes
 * (stagedName), a partial upload's quarantine name 25, the acknowledgments `.ack.json` /
 * `.ack.csv` 9, and a collision ` (n)` a few more; 55 bytes of room cover all of them with
 * margin. A longer name used to be accepted and then fail in intake (ENAMETOOLONG) forever.
 */
export const MAX_TAKEN_NAME_BYTES = 200;

/**
 * The longest name an upload may carry while staged (`<name>.filepart`): its final name is
 * checked again when it is renamed, and if it never is, its bytes are kept as a partial under
 * `<timestamp>-<name>` (25 bytes more), which must fit in NAME_MAX.
 */
export const MAX_STAGED_NAME_BYTES = 230;

/** Why a name in inbound/ is not a file to take, or null when it is. */
export function ignoredReason(name: string): string | null {
  if (name === '' || name.includes('/') || name.includes('\\')) return 'not a plain file name';
  if (name.startsWith('.')) return 'hidden file (temporary upload or system file)';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_TAKEN_NAME_BYTES) return `name too long (${bytes} bytes; at most ${MAX_TAKEN_NAME_BYTES} bytes in UTF-8)`;
  if (name.startsWith('~$')) return 'office lock file';
  const lower = name.toLowerCase();
  if (TEMP_SUFFIXES.some((s) => lower.endsWith(s))) return 'temporary upload name';
  if (lower.endsWith('.ack.json') || lower.endsWith('.ack.csv')) return 'acknowledgment (belongs in outbound/)';
  return null;
}

export function isIgnoredName(name: string): boolean {
  return ignoredReason(name) !== null;
}

/** What an upload named `name` becomes: a file to take, a staged upload (held back until it is
 * renamed to its final name), or refused — never accepted and then left alone by intake. */
export type UploadVerdict =
  | { kind: 'take' }
  | { kind: 'staged' }
  | { kind: 'refused'; code: 'E_NAME_TOO_LONG' | 'E_NAME_NOT_TAKEN'; message: string };

function tooLong(bytes: number): UploadVerdict {
  return { kind: 'refused', code: 'E_NAME_TOO_LONG', message: `file name too long (${bytes} bytes; at most ${MAX_TAKEN_NAME_BYTES} bytes in UTF-8); shorten the name and upload again` };
}

function isTempName(lower: string, suffixes: readonly string[]): boolean {
  return suffixes.some((s) => lower.endsWith(s) && lower.length > s.length);
}

/**
 * The drop zone's rule for an upload's name, built on ignoredReason so that whatever the drop
 * zone accepts as a file intake takes, and whatever intake would ignore the drop zone either
 * stages (temporary names in `stagedSuffixes`, delivered on rename) or refuses at OPEN.
 * `stagedSuffixes` are lower case.
 */
export function uploadVerdict(name: string, stagedSuffixes: readonly string[] = TEMP_SUFFIXES): UploadVerdict {
  const bytes = Buffer.byteLength(name, 'utf8');
  const lower = name.toLowerCase();
  if (isTempName(lower, stagedSuffixes) && !name.startsWith('.')) {
    if (bytes <= MAX_STAGED_NAME_BYTES) return { kind: 'staged' };
    return tooLong(bytes);
  }
  if (bytes > MAX_TAKEN_NAME_BYTES) return tooLong(bytes);
  const why = ignoredReason(name);
  if (why) return { kind: 'refused', code: 'E_NAME_NOT_TAKEN', message: `files named like this are not processed (${why}); rename the file and upload it again` };
  return { kind: 'take' };
}

/** The folders of one partner in the drop zone. */
export function partnerDirs(dropDir: string, partner: string) {
  const root = path.join(dropDir, partner);
  return {
    root,
    inbound: path.join(root, 'inbound'),
    outbound: path.join(root, 'outbound'),
    /** Files claimed by an intake process and not yet in the ledger. */
    intake: path.join(root, '.intake'),
    quarantine: path.join(root, '.quarantine'),
  };
}

/**
 * The staged name of a claimed file: `<receivedAt ms, base 36>-<random>~<original name>`.
 * The receivedAt the ledger row will carry is part of the name, so after a crash the reconciler
 * can tell exactly whether this very file already reached the ledger (same partner, name,
 * sha256 and receivedAt) — an earlier upload of the same bytes does not count.
 */
export function stagedName(originalName: string, receivedAtMs: number, nonce: string): string {
  return `${receivedAtMs.toString(36)}-${nonce}~${originalName}`;
}

export interface StagedInfo {
  originalName: string;
  receivedAtMs: number;
}

export function parseStagedName(staged: string): StagedInfo | null {
  const m = /^([0-9a-z]+)-([0-9a-z]+)~(.+)$/.exec(staged);
  if (!m) return null;
  const ms = Number.parseInt(m[1], 36);
  if (!Number.isSafeInteger(ms)) return null;
  return { originalName: m[3], receivedAtMs: ms };
}

/**
 * Splits a path under the drop folder into partner and file when it is `<partner>/inbound/<file>`
 * exactly (nothing nested deeper), else null.
 */
export function inboundFileOf(dropDir: string, file: string): { partner: string; name: string } | null {
  const rel = path.relative(dropDir, file);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  const parts = rel.split(path.sep);
  if (parts.length !== 3 || parts[1] !== 'inbound') return null;
  const [partner, , name] = parts;
  if (partner.startsWith('.')) return null;
  return { partner, name };
}

// The names the drop zone gives an upload in progress and a partial set aside, written by
// pipeline/sftp and read back by the reconciler: each writer next to its parser.

/** A machine's id as the drop zone writes it into temp names (pipeline/intake/host-id.ts). */
export const HOST_ID_PATTERN = /^[0-9a-z]{4,16}$/;

/**
 * The drop zone's temp name of an upload in progress, `.<name>.<12 hex>.part`, or with the id of
 * the machine writing it `.<name>.<12 hex>-<host id>.part` (several machines sharing one drop
 * folder: the reconciler's start-up rule answers only its own machine's temp files). Kept within
 * NAME_MAX: at most 236 bytes.
 */
export function tempNameFor(name: string, hostId?: string): string {
  if (hostId !== undefined && !HOST_ID_PATTERN.test(hostId)) throw new Error(`not a host id: ${JSON.stringify(hostId)}`);
  let stem = name;
  while (Buffer.byteLength(stem, 'utf8') > 200) stem = Array.from(stem).slice(0, -8).join('');
  return `.${stem}.${randomBytes(6).toString('hex')}${hostId ? `-${hostId}` : ''}.part`;
}

/**
 * The inverse of tempNameFor: the name the partner gave, and the machine that wrote it when the
 * name says (names written before host ids, or without one, carry none); null for any other name
 * (other tools' temp files are not ours to answer).
 */
export function parseUploadTempName(name: string): { originalName: string; hostId?: string } | null {
  const m = /^\.(.+)\.[0-9a-f]{12}(?:-([0-9a-z]{4,16}))?\.part$/.exec(name);
  if (!m) return null;
  return m[2] ? { originalName: m[1], hostId: m[2] } : { originalName: m[1] };
}

/**
 * The name under which an intake process claims a stranded partial in .quarantine/ (an atomic
 * rename: exactly one process answers it): stagedName's `<ms, base 36>-<nonce>~<name>`, read back
 * with parseStagedName. The name is shortened when needed to stay within NAME_MAX.
 */
export function claimedPartialName(originalName: string, atMs: number, nonce: string): string {
  let name = originalName;
  while (Buffer.byteLength(name, 'utf8') > MAX_STAGED_NAME_BYTES) name = Array.from(name).slice(0, -1).join('');
  return stagedName(name, atMs, nonce);
}

/** `2026-01-02T03-04-05-678Z`: sortable, and safe on every file system (no colons). */
export function stampForFileName(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

/** Where the drop zone sets a partial upload aside in .quarantine/: `<stamp>-<name>`. */
export function quarantineNameFor(ms: number, name: string): string {
  return `${stampForFileName(ms)}-${name}`;
}

/** The inverse of quarantineNameFor: the name and when it was set aside. */
export function parseQuarantinedName(name: string): { originalName: string; quarantinedAtMs: number } | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-(.+)$/.exec(name);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isFinite(ms) ? { originalName: m[6], quarantinedAtMs: ms } : null;
}
