// Fixed-width text (mainframe / legacy ERP exports): every data line is cut at the column
// positions the mapping declares (1-based, in characters after decoding) into an array of cells,
// then goes through the same row engine as a CSV row. The declared column names are the header.
// Streaming: one line in memory at a time (bounded by maxLineChars).

import type { Readable } from 'node:stream';
import type { CsvDialect, FixedOptions } from '../mapping/spec.js';
import { FileError } from '../model/types.js';
import type { CsvItem } from './csv-reader.js';
import { decodeText, type ByteSource } from './decode.js';

export const DEFAULT_MAX_LINE_CHARS = 1024 * 1024;

export interface FixedColumnPlan {
  name: string;
  /** 0-based first character. */
  from: number;
  /** 0-based end (exclusive). */
  to: number;
}

function optionError(message: string): FileError {
  return new FileError('E_DIALECT', `Invalid fixed-width layout in the mapping: ${message}`);
}

/** Declared columns → 0-based [from, to) slices. Throws E_DIALECT for a layout that cannot work. */
export function fixedColumnsOf(opts: FixedOptions): FixedColumnPlan[] {
  if (opts.columns.length === 0) throw optionError('fixed.columns is empty.');
  const seen = new Set<string>();
  return opts.columns.map((c) => {
    const end = c.end ?? (c.width !== undefined ? c.start + c.width - 1 : undefined);
    if (!Number.isInteger(c.start) || c.start < 1) throw optionError(`column "${c.name}": start must be a whole number ≥ 1, got ${c.start}.`);
    if (end === undefined || !Number.isInteger(end) || end < c.start) throw optionError(`column "${c.name}": give end (≥ start) or width (≥ 1).`);
    const key = c.name.trim().toLowerCase();
    if (seen.has(key)) throw optionError(`column "${c.name}" is declared twice.`);
    seen.add(key);
    return { name: c.name, from: c.start - 1, to: end };
  });
}

/** Characters of a line as the mapping counts them: code points (an emoji is one position). */
function charsOf(line: string): string[] | string {
  return /[\uD800-\uDFFF]/.test(line) ? Array.from(line) : line;
}

function slice(chars: string[] | string, from: number, to: number): string {
  return typeof chars === 'string' ? chars.slice(from, to) : chars.slice(from, to).join('');
}

function lineItem(
  text: string,
  line: number,
  cols: FixedColumnPlan[],
  last: number,
  overlong: 'error' | 'ignore',
): CsvItem {
  const chars = charsOf(text);
  const len = chars.length;
  const missing = cols.find((c) => c.from >= len);
  if (missing !== undefined) {
    return {
      kind: 'error',
      line,
      column: missing.from + 1,
      code: 'E_FIXED_SHORT_LINE',
      message: `The line is ${len} characters long, but column "${missing.name}" starts at position ${missing.from + 1}: the line ends before it. Re-export the file with every column, or check fixed.columns in the mapping.`,
    };
  }
  if (overlong === 'error' && len > last) {
    const rest = slice(chars, last, len);
    const at = rest.search(/\S/);
    if (at >= 0) {
      return {
        kind: 'error',
        line,
        column: last + at + 1,
        code: 'E_FIXED_LONG_LINE',
        message: `The line has text after the last declared column (which ends at position ${last}): "${rest.trim().slice(0, 40)}" at position ${last + at + 1}. The columns have probably shifted: check the export, or fixed.columns in the mapping (fixed.overlong: ignore if trailing text is expected).`,
      };
    }
  }
  const values = cols.map((c) => slice(chars, c.from, c.to));
  return { kind: 'row', line, values };
}

/**
 * Reads a fixed-width text file as header (the declared column names) then rows and row errors.
 * Lines: the first `fixed.skip` are skipped (titles, header lines), blank lines are skipped,
 * lines matching `fixed.trailer` are control lines (not rows); a trailer with a record count
 * (`fixed.trailerCount`) is checked against the data lines read. Throws FileError:
 * E_EMPTY_FILE, E_BINARY, E_ENCODING (decoding), E_DIALECT (layout), E_FIXED_LONG_LINE (a line
 * longer than maxLineChars), E_FIXED_TRAILER_COUNT.
 */
export async function* readFixedWidth(
  input: NodeJS.ReadableStream | Readable | ByteSource,
  opts: FixedOptions,
  dialect: CsvDialect = {},
  maxLineChars = DEFAULT_MAX_LINE_CHARS,
): AsyncGenerator<CsvItem> {
  const cols = fixedColumnsOf(opts);
  const last = Math.max(...cols.map((c) => c.to));
  const skip = opts.skip ?? 0;
  let trailer: RegExp | null = null;
  try {
    trailer = opts.trailer !== undefined ? new RegExp(opts.trailer) : null;
  } catch (e) {
    throw optionError(`fixed.trailer is not a regular expression: ${(e as Error).message}`);
  }
  const countCol = opts.trailerCount !== undefined ? fixedColumnsOf({ columns: [{ name: 'count', ...opts.trailerCount }] })[0] : null;
  const overlong = opts.overlong ?? 'error';
  const skipEmpty = dialect.skipEmptyRows ?? true;
  let lineNo = 0;
  let pending = '';
  let dataLines = 0;
  let trailerSeen: { line: number; count: number | null; text: string } | null = null;
  let headerSent = false;
  const out: CsvItem[] = [];

  const take = (text: string): void => {
    lineNo++;
    if (lineNo <= skip) return;
    if (!headerSent) {
      out.push({ kind: 'header', line: Math.max(1, skip), values: cols.map((c) => c.name) });
      headerSent = true;
    }
    if (trailer !== null && trailer.test(text)) {
      const n = countCol === null ? null : Number.parseInt(slice(charsOf(text), countCol.from, countCol.to).trim(), 10);
      trailerSeen = { line: lineNo, count: n, text };
      return;
    }
    if (skipEmpty && text.trim() === '') return;
    if (trailerSeen !== null) {
      out.push({ kind: 'error', line: lineNo, code: 'E_FIXED_AFTER_TRAILER', message: `A data line follows the trailer line ${trailerSeen.line}: the file was probably concatenated or cut. Re-export it as one file.` });
      dataLines++;
      return;
    }
    dataLines++;
    out.push(lineItem(text, lineNo, cols, last, overlong));
  };

  let afterCr = false;
  for await (const chunk of decodeText(input as ByteSource, dialect.encoding)) {
    // A CR that ended the previous chunk may be the first half of a CRLF.
    let i = afterCr && chunk.charCodeAt(0) === 10 ? 1 : 0;
    afterCr = false;
    let start = i;
    for (; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      take(pending + chunk.slice(start, i));
      pending = '';
      if (c === 13) {
        if (i + 1 === chunk.length) afterCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    pending += chunk.slice(start);
    if (pending.length > maxLineChars) {
      throw new FileError('E_FIXED_LONG_LINE', `Line ${lineNo + 1} is longer than ${maxLineChars} characters; the file was not read further. Is this a fixed-width text export?`, lineNo + 1);
    }
    for (const item of out) yield item;
    out.length = 0;
  }
  if (pending !== '') take(pending);
  for (const item of out) yield item;
  out.length = 0;
  if (!headerSent) throw new FileError('E_EMPTY_FILE', `The file has no data lines${skip > 0 ? ` after the ${skip} skipped line(s) (fixed.skip)` : ''}.`);
  const t = trailerSeen as { line: number; count: number | null; text: string } | null;
  if (opts.trailer !== undefined && opts.trailerRequired === true && t === null) {
    throw new FileError('E_FIXED_TRAILER_COUNT', `The file has no trailer line (fixed.trailer /${opts.trailer}/): it may have been cut off. Send the complete export.`);
  }
  if (t !== null && countCol !== null) {
    if (t.count === null || Number.isNaN(t.count) || t.count !== dataLines) {
      throw new FileError(
        'E_FIXED_TRAILER_COUNT',
        `The trailer (line ${t.line}) announces ${t.count === null || Number.isNaN(t.count) ? `"${slice(charsOf(t.text), countCol.from, countCol.to).trim()}" (not a number)` : t.count} records, but the file holds ${dataLines} data line(s): lines are missing or added. Send the complete export.`,
        t.line,
        countCol.from + 1,
      );
    }
  }
}
