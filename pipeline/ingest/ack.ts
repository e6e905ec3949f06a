// Acknowledgments: the answer every partner gets for every file, in its outbound/ folder.
// Building the object is pure; writing is atomic (temp name + rename) so a partner polling
// outbound/ never reads half an acknowledgment.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toLocalIso } from '../model/local-time.js';
import type { AckCounts, Acknowledgment, AckError, SubmissionRef, SubmissionState } from '../model/types.js';

/** How many errors an acknowledgment lists; the rest stay in the ledger (`lotgate submission show`). */
export const ACK_ERROR_LIMIT = 500;

const ADVICE: Record<SubmissionState, string> = {
  applied: 'All rows were applied.',
  applied_with_errors: 'The file was applied, but some rows were rejected: correct them and send those rows again in a new file.',
  rejected: 'Nothing from this file was applied. Correct the problem below and send the file again.',
  duplicate: 'These exact bytes were already received; nothing was applied again.',
  quarantined: 'The file could not be processed and was set aside; nothing was applied. The sponsor has been told; send it again if the upload was interrupted.',
  received: 'Received; processing has not finished yet.',
  processing: 'Received; processing has not finished yet.',
  pending_review: 'Received and parsed; it waits for review by the sponsor before it counts.',
};

/** Whole-file codes that mean the sponsor's mapping does not fit the file, not that the file is wrong. */
export const MAPPING_FAULTS: ReadonlySet<string> = new Set(['E_RECORD_PATH_NO_MATCH', 'E_HEADER_NOT_FOUND', 'E_MAPPING_INVALID']);

/**
 * The advice for a state, never "All rows were applied" while rows were filtered out or
 * overwritten: those are named with their counts.
 */
export function advice(state: SubmissionState, c: AckCounts, firstCode?: string): string {
  if (state === 'rejected' && firstCode !== undefined && MAPPING_FAULTS.has(firstCode)) {
    return 'Nothing from this file was applied: the sponsor\'s mapping for this feed does not fit the file (see below). This is for the sponsor to correct; the file will be processed again (replayed) once the mapping is fixed, or the sponsor will ask you for a different file.';
  }
  const skipped = c.filtered + c.superseded > 0 && (state === 'applied' || state === 'applied_with_errors' || state === 'pending_review');
  if (!skipped) return ADVICE[state];
  const parts = [
    c.filtered > 0 ? `${c.filtered} row(s) were filtered out by the mapping (filter / when / unmapped: skip) and not applied` : null,
    c.superseded > 0 ? `${c.superseded} row(s) were superseded by a later row of this file with the same key and not stored (see the W_SUPERSEDED_IN_FILE lines)` : null,
  ].filter(Boolean).join('; ');
  const head =
    state === 'applied'
      ? `${c.applied} of ${c.rows} row(s) were applied; ${parts}.`
      : state === 'applied_with_errors'
        ? `${c.applied} of ${c.rows} row(s) were applied and ${c.rejected} rejected: correct the rejected rows and send those rows again in a new file. Also, ${parts}.`
        : `${ADVICE[state]} ${parts}.`;
  return head;
}

/** XML: elements beside the records that this feed's record path does not read (they are not rows), said in the ack. */
export function notRowsNote(elements: Map<string, number> | undefined): string | null {
  if (elements === undefined || elements.size === 0) return null;
  const list = [...elements].map(([name, n]) => `${n} <${name}>`).join(', ');
  return `Not rows for this feed, and not read: ${list} beside the records.`;
}

export interface AckInput {
  submissionId: number;
  partner: string;
  file: string;
  sha256: string;
  receivedAt: string;
  state: SubmissionState;
  feed?: string | null;
  mapping?: { name: string; hash: string } | null;
  counts: AckCounts;
  errors: AckError[];
  totalErrors?: number;
  /** For a `duplicate`: the earlier submission whose content counts. */
  duplicateOf?: SubmissionRef;
  /** For a resend of rejected or quarantined content: the earlier submission. */
  resendOf?: SubmissionRef;
  note?: string;
  /** IANA zone for the *Local times and the message (the partner's, else the sponsor's). */
  timeZone?: string;
}

function refNote(kind: 'duplicate' | 'resend', r: SubmissionRef): string {
  const what = `"${r.file}" (submission ${r.submissionId}, ${r.state}, received ${r.receivedAtLocal ?? r.receivedAt}; its acknowledgment is ${r.ackFile})`;
  return kind === 'duplicate' ? `Same content as ${what}.` : `This resends ${what}; it was processed again.`;
}

export function buildAck(a: AckInput): Acknowledgment {
  const zone = a.timeZone;
  const localRef = (r: SubmissionRef | undefined): SubmissionRef | undefined => r && (zone ? { ...r, receivedAtLocal: toLocalIso(r.receivedAt, zone) } : r);
  a = { ...a, duplicateOf: localRef(a.duplicateOf), resendOf: localRef(a.resendOf) };
  const listed = a.errors.slice(0, ACK_ERROR_LIMIT);
  const total = Math.max(a.totalErrors ?? a.errors.length, a.errors.length);
  const ack: Acknowledgment = {
    file: a.file,
    sha256: a.sha256,
    receivedAt: a.receivedAt,
    ...(zone ? { receivedAtLocal: toLocalIso(a.receivedAt, zone), timeZone: zone } : {}),
    state: a.state,
    submissionId: a.submissionId,
    ackFile: ackFileName(a.file, a.submissionId, 'json'),
    partner: a.partner,
    feed: a.feed ?? null,
    mapping: a.mapping ?? null,
    counts: a.counts,
    // Warnings (W_*: e.g. a row superseded by a later one) did not reject anything: listed apart.
    errors: listed.filter((e) => !isWarning(e)).map((e) => stripUndefined(e)),
    message: [advice(a.state, a.counts, a.errors[0]?.code), a.duplicateOf && refNote('duplicate', a.duplicateOf), a.resendOf && refNote('resend', a.resendOf), a.note].filter(Boolean).join(' '),
  };
  const warnings = listed.filter(isWarning);
  if (warnings.length > 0) ack.warnings = warnings.map((e) => stripUndefined(e));
  if (total > listed.length) ack.errorsTruncated = total - listed.length;
  if (a.duplicateOf !== undefined) {
    ack.duplicateOf = a.duplicateOf.submissionId;
    ack.original = a.duplicateOf;
  }
  if (a.resendOf !== undefined) {
    ack.resendOf = a.resendOf.submissionId;
    ack.previous = a.resendOf;
  }
  return ack;
}

const isWarning = (e: AckError): boolean => e.code.startsWith('W_');

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

/** How the `.ack.csv` is written for the partner's spreadsheet program. */
export interface CsvDialect {
  delimiter: ',' | ';' | '\t' | '|';
  /** UTF-8 byte order mark first, so Excel reads umlauts right. */
  bom: boolean;
}

export const ACK_CSV_DELIMITERS: readonly CsvDialect['delimiter'][] = [',', ';', '\t', '|'];

/**
 * The `.ack.csv` dialect: the partner's `ack: { csvDelimiter, bom }` first, else the delimiter
 * of the feed the file was read with (a partner whose Excel writes ";" reads ";"), else ",".
 */
export function ackCsvDialect(partnerAck: { csvDelimiter?: string; bom?: boolean } | undefined, feedDelimiter: string | undefined): CsvDialect {
  const pick = (d: string | undefined) => ACK_CSV_DELIMITERS.find((x) => x === d);
  return { delimiter: pick(partnerAck?.csvDelimiter) ?? pick(feedDelimiter) ?? ',', bom: partnerAck?.bom ?? false };
}

// A cell a spreadsheet would run as a formula (= + - @, also their full-width forms, and a
// leading tab or CR, OWASP "CSV injection") is shown as text: a leading apostrophe.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

export function csvCell(v: unknown, delimiter: string): string {
  let s = v === undefined || v === null ? '' : String(v);
  if (typeof v !== 'number' && FORMULA_START.test(s)) s = `'${s}`;
  const needsQuotes = s.includes(delimiter) || /["\r\n]/.test(s) || /^\s|\s$/.test(s);
  return needsQuotes ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A spreadsheet-friendly twin: a summary line, then one line per error. */
export function ackToCsv(ack: Acknowledgment, dialect: CsvDialect = { delimiter: ',', bom: false }): string {
  const row = (cells: unknown[]) => cells.map((c) => csvCell(c, dialect.delimiter)).join(dialect.delimiter);
  const lines = [
    row(['file', 'state', 'rows', 'applied', 'rejected', 'filtered', 'superseded', 'sha256', 'receivedAt', 'message']),
    row([ack.file, ack.state, ack.counts.rows, ack.counts.applied, ack.counts.rejected, ack.counts.filtered, ack.counts.superseded, ack.sha256, ack.receivedAtLocal ?? ack.receivedAt, ack.message]),
    '',
    row(['line', 'column', 'field', 'code', 'message']),
    ...[...ack.errors, ...(ack.warnings ?? [])].map((e) => row([e.line, e.column, e.field, e.code, e.message])),
  ];
  return (dialect.bom ? '\uFEFF' : '') + lines.join('\r\n') + '\r\n';
}

/** Longest file name most file systems (and OpenSSH's sftp) accept, in UTF-8 bytes. */
const NAME_MAX_BYTES = 255;

/**
 * The file name of an acknowledgment in outbound/: `<name>.<submissionId>.ack.json` for the one
 * that belongs to a submission (never overwritten by another upload), `<name>.ack.json` for the
 * stable "latest" copy. A name too long for the file system is shortened (whole UTF-8
 * characters, marked with "~") so that the suffix always fits.
 */
export function ackFileName(file: string, submissionId: number | null, ext: 'json' | 'csv'): string {
  const suffix = submissionId === null ? `.ack.${ext}` : `.${submissionId}.ack.${ext}`;
  const room = NAME_MAX_BYTES - Buffer.byteLength(suffix, 'utf8');
  if (Buffer.byteLength(file, 'utf8') <= room) return file + suffix;
  let cut = '';
  for (const ch of file) {
    if (Buffer.byteLength(cut + ch, 'utf8') > room - 1) break;
    cut += ch;
  }
  return `${cut}~${suffix}`;
}

export interface AckPaths {
  /** This submission's own acknowledgment. */
  json: string;
  csv: string;
  /** The stable copy of the newest answered submission of this file name. */
  latestJson: string;
  latestCsv: string;
}

export function ackPaths(dropDir: string, partner: string, file: string, submissionId: number): AckPaths {
  const dir = path.join(dropDir, partner, 'outbound');
  return {
    json: path.join(dir, ackFileName(file, submissionId, 'json')),
    csv: path.join(dir, ackFileName(file, submissionId, 'csv')),
    latestJson: path.join(dir, ackFileName(file, null, 'json')),
    latestCsv: path.join(dir, ackFileName(file, null, 'csv')),
  };
}

/** The stable copy `<name>.ack.json`: the answer to the newest upload of that name that has one. */
export function latestAckPath(dropDir: string, partner: string, file: string): string {
  return path.join(dropDir, partner, 'outbound', ackFileName(file, null, 'json'));
}

async function writeAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  // A short hidden temp name, unique per write (the final name may already be as long as the file
  // system allows; several threads of one process may write the same ack at once).
  const tmp = path.join(path.dirname(file), `.ack-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    // A disk-full write leaves a truncated temp file: do not leave it taking space.
    await rm(tmp, { force: true }).catch(() => {});
    throw err;
  }
}

export interface WriteAckOptions {
  /** Also write the `.ack.csv` twin, in this dialect (null: no CSV). */
  csv: CsvDialect | null;
  /** Also refresh the stable `<name>.ack.json` (false when a newer upload of the name was answered). */
  latest: boolean;
}

/** Writes the submission's own acknowledgment (and the latest copy); returns the own JSON path. */
export async function writeAck(dropDir: string, ack: Acknowledgment, opts: WriteAckOptions): Promise<string> {
  if (ack.submissionId === undefined) throw new Error('writeAck: the acknowledgment has no submission id');
  const p = ackPaths(dropDir, ack.partner ?? 'unknown', ack.file, ack.submissionId);
  const json = JSON.stringify(ack, null, 2) + '\n';
  const csv = opts.csv ? ackToCsv(ack, opts.csv) : null;
  await writeAtomic(p.json, json);
  if (csv !== null) await writeAtomic(p.csv, csv);
  if (opts.latest) {
    await writeAtomic(p.latestJson, json);
    if (csv !== null) await writeAtomic(p.latestCsv, csv);
  }
  return p.json;
}
