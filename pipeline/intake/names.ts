// Which names in a partner's inbound/ folder are files to take, and where they are staged.
// Pure: no I/O. Tools that write in place (WinSCP, FileZilla, rsync, Office) use temporary names
// until the upload is complete; those are never taken — the final rename makes the file appear.

import path from 'node:path';

const TEMP_SUFFIXES = ['.part', '.filepart', '.tmp', '.crdownload', '.partial'];

/** Why a name in inbound/ is not a file to take, or null when it is. */
export function ignoredReason(name: string): string | null {
  if (name === '' || name.includes('/') || name.includes('\\')) return 'not a plain file name';
  if (name.startsWith('.')) return 'hidden file (temporary upload or system file)';
  if (name.startsWith('~$')) return 'office lock file';
  const lower = name.toLowerCase();
  if (TEMP_SUFFIXES.some((s) => lower.endsWith(s))) return 'temporary upload name';
  if (lower.endsWith('.ack.json') || lower.endsWith('.ack.csv')) return 'acknowledgment (belongs in outbound/)';
  return null;
}

export function isIgnoredName(name: string): boolean {
  return ignoredReason(name) !== null;
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

/**
 * The drop zone's temp name of an upload in progress, `.<name>.<12 hex>.part` (see
 * pipeline/sftp/upload.ts tempNameFor; very long names are shortened there). Returns the name the
 * partner gave, or null for any other name (other tools' temp files are not ours to answer).
 */
export function parseUploadTempName(name: string): { originalName: string } | null {
  const m = /^\.(.+)\.[0-9a-f]{12}\.part$/.exec(name);
  return m ? { originalName: m[1] } : null;
}

/**
 * A partial upload set aside by the drop zone: `<ISO time with - for : and .>-<name>` in
 * .quarantine/ (pipeline/sftp/sftp-session.ts). Returns the name and when it was set aside.
 */
export function parseQuarantinedName(name: string): { originalName: string; quarantinedAtMs: number } | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-(.+)$/.exec(name);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isFinite(ms) ? { originalName: m[6], quarantinedAtMs: ms } : null;
}
