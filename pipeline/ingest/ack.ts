// Acknowledgments: the answer every partner gets for every file, in its outbound/ folder.
// Building the object is pure; writing is atomic (temp name + rename) so a partner polling
// outbound/ never reads half an acknowledgment.

import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AckCounts, Acknowledgment, AckError, SubmissionState } from '../model/types.js';

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
  duplicateOf?: number;
  note?: string;
}

export function buildAck(a: AckInput): Acknowledgment {
  const listed = a.errors.slice(0, ACK_ERROR_LIMIT);
  const total = Math.max(a.totalErrors ?? a.errors.length, a.errors.length);
  const ack: Acknowledgment = {
    file: a.file,
    sha256: a.sha256,
    receivedAt: a.receivedAt,
    state: a.state,
    submissionId: a.submissionId,
    partner: a.partner,
    feed: a.feed ?? null,
    mapping: a.mapping ?? null,
    counts: a.counts,
    // Warnings (W_*: e.g. a row superseded by a later one) did not reject anything: listed apart.
    errors: listed.filter((e) => !isWarning(e)).map((e) => stripUndefined(e)),
    message: [advice(a.state, a.counts, a.errors[0]?.code), a.note].filter(Boolean).join(' '),
  };
  const warnings = listed.filter(isWarning);
  if (warnings.length > 0) ack.warnings = warnings.map((e) => stripUndefined(e));
  if (total > listed.length) ack.errorsTruncated = total - listed.length;
  if (a.duplicateOf !== undefined) ack.duplicateOf = a.duplicateOf;
  return ack;
}

const isWarning = (e: AckError): boolean => e.code.startsWith('W_');

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",;\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A spreadsheet-friendly twin: a summary line, then one line per error. */
export function ackToCsv(ack: Acknowledgment): string {
  const lines = [
    ['file', 'state', 'rows', 'applied', 'rejected', 'filtered', 'superseded', 'sha256', 'receivedAt', 'message'].join(','),
    [ack.file, ack.state, ack.counts.rows, ack.counts.applied, ack.counts.rejected, ack.counts.filtered, ack.counts.superseded, ack.sha256, ack.receivedAt, ack.message].map(csvCell).join(','),
    '',
    ['line', 'column', 'field', 'code', 'message'].join(','),
    ...[...ack.errors, ...(ack.warnings ?? [])].map((e) => [e.line, e.column, e.field, e.code, e.message].map(csvCell).join(',')),
  ];
  return lines.join('\r\n') + '\r\n';
}

export function ackPaths(dropDir: string, partner: string, file: string): { json: string; csv: string } {
  const dir = path.join(dropDir, partner, 'outbound');
  return { json: path.join(dir, `${file}.ack.json`), csv: path.join(dir, `${file}.ack.csv`) };
}

async function writeAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(tmp, content);
  await rename(tmp, file);
}

export async function writeAck(dropDir: string, ack: Acknowledgment, withCsv: boolean): Promise<string> {
  const p = ackPaths(dropDir, ack.partner ?? 'unknown', ack.file);
  await writeAtomic(p.json, JSON.stringify(ack, null, 2) + '\n');
  if (withCsv) await writeAtomic(p.csv, ackToCsv(ack));
  return p.json;
}
