// Streaming CSV reader: bytes in the declared encoding → header, rows and row-level errors,
// each with the physical line it starts on. csv-parse does the parsing; this file maps a
// mapping's dialect to its options, skips the preamble, works out line numbers and turns
// records and csv-parse errors into items and coded FileErrors. Memory stays bounded by the
// largest record (maxRecordBytes) plus one chunk, whatever the file size.

import type { Readable } from 'node:stream';
import { CsvError, Parser, type Options as CsvParseOptions } from 'csv-parse';
import type { CsvDialect } from '../mapping/spec.js';
import { FileError } from '../model/types.js';
import { decodeText, releaseInput, type ByteSource } from './decode.js';
import type { ErrorCode } from '../codes.js';

export type CsvItem =
  | { kind: 'header'; line: number; values: string[] }
  | { kind: 'row'; line: number; values: string[] }
  | { kind: 'error'; line: number; column?: number; code: ErrorCode; message: string }
  /** A line above the header row, unparsed (only with CsvReadOptions.preamble). */
  | { kind: 'preamble'; line: number; text: string; cells?: string[] };

export interface CsvReadOptions {
  /**
   * Largest record accepted, default 16 MiB, in bytes of UTF-8 text: a record whose values hold
   * more is refused (csv-parse's max_record_size, checked as it reads, so a 100 MB single line
   * never sits in memory), and so is one with more values than this, or whose text read so far
   * (delimiters included) is longer than this at the end of a chunk.
   */
  maxRecordBytes?: number;
  /** Hand over the lines above the header row as 'preamble' items (for key/value blocks). */
  preamble?: boolean;
  /**
   * Every record as a 'row' item, blank lines included (as [""]), no header and no width check:
   * for files of several sections, whose structure the caller works out (headerRow is ignored).
   */
  raw?: boolean;
}

export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

const LF = 10;
const CR = 13;

function dialectError(message: string): FileError {
  return new FileError('E_DIALECT', `Invalid CSV dialect in the mapping: ${message}`);
}

/** Checks a dialect and turns it into csv-parse options. Throws E_DIALECT for a dialect that cannot work. */
export function csvParseOptionsOf(dialect: CsvDialect, opts: CsvReadOptions = {}): CsvParseOptions {
  const delimiter = dialect.delimiter ?? ',';
  const quote = dialect.quote ?? '"';
  const escape = dialect.escape ?? quote;
  const comment = dialect.comment ?? '';
  const headerRow = dialect.headerRow ?? 1;
  const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  if (delimiter.length === 0) throw dialectError('delimiter must not be empty.');
  if (/[\r\n]/.test(delimiter)) throw dialectError('delimiter must not contain a line break.');
  if (quote.length > 1) throw dialectError(`quote must be one character, got "${quote}".`);
  if (escape.length > 1) throw dialectError(`escape must be one character, got "${escape}".`);
  if (quote !== '' && delimiter.includes(quote)) throw dialectError('delimiter and quote must differ.');
  if (/[\r\n]/.test(quote + escape + comment)) throw dialectError('quote, escape and comment must not contain line breaks.');
  if (!Number.isInteger(headerRow) || headerRow < 0) throw dialectError(`headerRow must be a whole number ≥ 0, got ${headerRow}.`);
  // max_record_size 0 would mean "no limit" to csv-parse.
  if (!Number.isFinite(max) || max < 2) throw dialectError(`maxRecordBytes must be at least 2, got ${max}.`);
  return {
    delimiter,
    quote: quote === '' ? false : quote,
    escape: quote === '' || escape === '' ? false : escape,
    comment: comment === '' ? undefined : comment,
    // A comment character inside a value is data.
    comment_no_infix: true,
    trim: dialect.trim ?? true,
    // Real exports write `12" pipe`: a quote inside an unquoted value is data.
    relax_quotes: true,
    // Ragged rows become error items (reading goes on) instead of stopping the file.
    relax_column_count: true,
    skip_empty_lines: true,
    // Files mix line ends (a CRLF export with LF-only lines appended); auto-detection would
    // lock onto the first one it sees.
    record_delimiter: ['\r\n', '\n', '\r'],
    // csv-parse checks before adding each byte, so a record may hold maxRecordBytes bytes of values.
    max_record_size: max - 1,
  };
}

/**
 * A csv-parse Parser that hands each record straight to `onRecord` together with its own
 * counters at that moment, instead of queueing it on the readable side. `info: true` and
 * `on_record` give the same counters but copy the whole info object per record: on a 1M-row,
 * 93 MB file that took 7.6 s of CPU against 5.0 s for this, which reads the live `info`.
 */
class RecordSinkParser extends Parser {
  constructor(
    options: CsvParseOptions,
    private readonly onRecord: (values: string[], info: Parser['info']) => void,
  ) {
    super(options);
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) return super.push(null, encoding);
    this.onRecord(chunk as string[], this.info);
    return true;
  }
}

/**
 * Drops the first `count` physical lines (each ended by LF, CRLF or a lone CR) from a stream of
 * text chunks, unparsed: a preamble above the header may hold anything, even a stray quote.
 */
function lineSkipper(count: number, onLine?: (text: string) => void, maxLine = Infinity): (text: string) => string {
  let left = count;
  let pendingLf = false; // a skipped line ended with CR at the end of the previous chunk
  let cur = ''; // the skipped line being collected (only with onLine), capped at maxLine chars
  return (text) => {
    if (text.length === 0 || (left === 0 && !pendingLf)) return text;
    let i = 0;
    if (pendingLf) {
      pendingLf = false;
      if (text.charCodeAt(0) === LF) i = 1;
    }
    let start = i;
    const take = (end: number): void => {
      if (onLine !== undefined && cur.length < maxLine) cur += text.slice(start, Math.min(end, start + maxLine - cur.length));
    };
    while (left > 0 && i < text.length) {
      const c = text.charCodeAt(i++);
      if (c === LF || c === CR) {
        take(i - 1);
        onLine?.(cur);
        cur = '';
        left--;
        if (c === CR) {
          if (i === text.length) pendingLf = true;
          else if (text.charCodeAt(i) === LF) i++;
        }
        start = i;
      }
    }
    if (left > 0) take(text.length);
    return left > 0 ? '' : text.slice(i);
  };
}

/**
 * Physical line numbers for csv-parse records. csv-parse counts every CR and LF byte it sees as
 * a line (a CRLF inside a quoted value counts twice, a CRLF record end once) and counts the blank
 * and comment lines it skips; the record's start follows from the previous record's end.
 */
class LineCounter {
  /** csv-parse's line count when the last record ended (0 before the first). */
  private lastEnd = 0;
  /** Blank plus comment lines skipped up to the last record. */
  private lastSkipped = 0;
  /** How far csv-parse's count is ahead of physical lines: CRLFs inside values so far. */
  private ahead = 0;
  /** Byte offset (into the text given to csv-parse) where the last record ended. */
  lastEndByte = 0;

  constructor(private readonly offset: number) {}

  /** csv-parse's count for the first line of the record being read now. */
  private startCount(info: Parser['info']): number {
    return this.lastEnd + 1 + info.empty_lines + info.comment_lines - this.lastSkipped;
  }

  /** Physical line of a record csv-parse has just completed; advances past it. */
  recordLine(values: string[], info: Parser['info']): number {
    const start = this.startCount(info);
    const line = start - this.ahead + this.offset;
    if (info.lines !== start) this.ahead += crlfCount(values);
    this.lastEnd = info.lines;
    this.lastSkipped = info.empty_lines + info.comment_lines;
    this.lastEndByte = info.bytes;
    return line;
  }

  /** Physical line where the record being read now (not yet complete) starts. */
  currentRecordLine(info: Parser['info']): number {
    return this.startCount(info) - this.ahead + this.offset;
  }

  /** Whether the record being read has crossed a line break (only possible inside quotes). */
  currentRecordSpansLines(info: Parser['info']): boolean {
    return info.lines > this.startCount(info);
  }
}

function crlfCount(values: string[]): number {
  let n = 0;
  for (const v of values) {
    for (let i = v.indexOf('\r'); i !== -1; i = v.indexOf('\r', i + 1)) if (v.charCodeAt(i + 1) === LF) n++;
  }
  return n;
}

function isBlank(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

function allBlank(values: string[]): boolean {
  for (let i = 0; i < values.length; i++) if (values[i].length !== 0 && !isBlank(values[i])) return false;
  return true;
}

function tooLarge(line: number, max: number, spansLines: boolean, column: number | undefined): FileError {
  const hint = spansLines
    ? ` It already runs over more than one line, which happens inside a quoted value: if a quote in it${column === undefined ? '' : ` (the value being read is column ${column})`} is never meant to be closed, fix it.`
    : ' Check that the declared delimiter and line endings match the file.';
  return new FileError('E_RECORD_TOO_LARGE', `The record starting at line ${line} is larger than the limit of ${max} bytes; it was not read.${hint}`, line);
}

/**
 * Turns records into items: the header (the first record at or after headerRow, or synthesized
 * "1","2",… when headerRow is 0), rows, and E_RAGGED_ROW errors. Pushes into `out`.
 */
function itemSink(noHeader: boolean, skipEmptyRows: boolean, out: CsvItem[]) {
  let width = -1;
  const sink = (values: string[], line: number): void => {
    if (skipEmptyRows && allBlank(values)) return;
    if (width < 0) {
      width = values.length;
      if (!noHeader) {
        out.push({ kind: 'header', line, values });
        return;
      }
      const names = new Array<string>(width);
      for (let k = 0; k < width; k++) names[k] = String(k + 1);
      out.push({ kind: 'header', line: 0, values: names });
    }
    if (values.length !== width) {
      out.push({
        kind: 'error',
        line,
        code: 'E_RAGGED_ROW',
        message: `Expected ${width} columns (as in the ${noHeader ? 'first row' : 'header'}), found ${values.length}. Check for a missing or extra delimiter, or a value containing the delimiter that is not quoted.`,
      });
    } else {
      out.push({ kind: 'row', line, values });
    }
  };
  return { sink, hasHeader: () => width >= 0 };
}

/** A csv-parse error as a FileError located at the record it happened in. */
function fromCsvError(e: CsvError, lines: LineCounter, info: Parser['info'], max: number, inHeader: boolean): FileError {
  const line = lines.currentRecordLine(info);
  // csv-parse's column is the 0-based index of the value being read.
  const column = typeof e.column === 'number' ? e.column + 1 : undefined;
  const where = `column ${column ?? '?'} of the ${inHeader ? 'header row' : 'record'} starting at line ${line}`;
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new FileError(
        'E_CSV_QUOTE',
        `Unclosed quote: the quoted value in ${where} is never closed, so the rest of the file would be one value. ` +
          'Close the quote or double any quote inside the value ("").',
        line,
        column,
      );
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'INVALID_OPENING_QUOTE':
      return new FileError(
        'E_CSV_QUOTE',
        `Unexpected text after a closing quote in ${where}: a quoted value must be followed by the delimiter or the end of the line. ` +
          'Quote the whole value and double any quote inside it ("").',
        line,
        column,
      );
    case 'CSV_MAX_RECORD_SIZE':
      return tooLarge(line, max, lines.currentRecordSpansLines(info), column);
    default:
      return new FileError('E_CSV_PARSE', `The CSV could not be parsed in the record starting at line ${line}: ${e.message}`, line, column);
  }
}

function write(parser: Parser, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    parser.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

function end(parser: Parser): Promise<void> {
  return new Promise((resolve, reject) => {
    parser.end((err?: Error | null) => (err ? reject(err) : resolve()));
  });
}

/**
 * Reads a CSV file as a stream of items: first `header`, then `row`s and `error`s in file
 * order. Throws FileError for problems that make the whole file unusable: E_EMPTY_FILE,
 * E_BINARY, E_ENCODING (from decoding), E_CSV_QUOTE (unclosed quote or text after a closing
 * quote, with line and column), E_CSV_PARSE, E_RECORD_TOO_LARGE, E_DIALECT.
 */
export async function* readCsv(
  input: NodeJS.ReadableStream | Readable | ByteSource,
  dialect: CsvDialect = {},
  opts: CsvReadOptions = {},
): AsyncGenerator<CsvItem> {
  for await (const batch of readCsvBatches(input, dialect, opts)) yield* batch;
}

/**
 * `readCsv` by the chunk: the items of each chunk of text as one array (never empty), so that a
 * caller looping over rows pays one promise per chunk, not one per row.
 */
export async function* readCsvBatches(
  input: NodeJS.ReadableStream | Readable | ByteSource,
  dialect: CsvDialect = {},
  opts: CsvReadOptions = {},
): AsyncGenerator<CsvItem[]> {
  const raw = opts.raw === true;
  const headerRow = raw ? 1 : dialect.headerRow ?? 1;
  const max = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const items: CsvItem[] = [];
  const cooked = itemSink(headerRow === 0, dialect.skipEmptyRows ?? true, items);
  let seen = false;
  const sink = raw
    ? (values: string[], line: number): void => {
        seen = true;
        items.push({ kind: 'row', line, values });
      }
    : cooked.sink;
  const hasHeader = raw ? () => seen : cooked.hasHeader;
  const skipLines = headerRow > 1 ? headerRow - 1 : 0;
  const lines = new LineCounter(skipLines);
  let preambleLine = 0;
  const skipPreamble = lineSkipper(skipLines, opts.preamble === true ? (text) => items.push({ kind: 'preamble', line: ++preambleLine, text }) : undefined, max);
  let fatal: FileError | undefined;

  let parser: RecordSinkParser;
  try {
    const options = csvParseOptionsOf(dialect, opts);
    // Sections: a blank line ends a table, so blank lines are records too.
    if (raw) options.skip_empty_lines = false;
    parser = new RecordSinkParser(options, (values, info) => {
      if (fatal !== undefined) return;
      const line = lines.recordLine(values, info);
      // csv-parse limits the bytes of the values, not how many there are: a line of millions
      // of delimiters would build a huge array.
      if (values.length > max) fatal = tooLarge(line, max, false, undefined);
      else sink(values, line);
    });
  } catch (e) {
    await releaseInput(input as ByteSource);
    throw e instanceof CsvError ? dialectError(e.message) : e;
  }
  // Errors arrive through the write and end callbacks; without a listener the 'error' event
  // that follows would crash the process.
  parser.on('error', () => {});

  const failure = (e: unknown): unknown => {
    if (fatal !== undefined) return fatal;
    return e instanceof CsvError ? fromCsvError(e, lines, parser.info, max, !hasHeader()) : e;
  };
  try {
    try {
      for await (const text of decodeText(input as ByteSource, dialect.encoding)) {
        const body = skipPreamble(text);
        if (body.length !== 0) {
          await write(parser, body);
          if (fatal !== undefined) throw fatal;
          // Bytes of the record being read that csv-parse has already split into values: the
          // same limit, for records with many small values arriving over several chunks.
          if (parser.info.bytes - lines.lastEndByte > max) {
            throw tooLarge(lines.currentRecordLine(parser.info), max, lines.currentRecordSpansLines(parser.info), undefined);
          }
        }
        if (items.length !== 0) yield items.splice(0);
      }
      await end(parser);
      if (fatal !== undefined) throw fatal;
    } catch (e) {
      // Rows completed before a fatal error are still delivered, whatever the chunking was.
      if (items.length !== 0) yield items.splice(0);
      throw failure(e);
    }
    if (items.length !== 0) yield items.splice(0);
  } finally {
    parser.destroy();
  }
  if (!hasHeader()) {
    const where = headerRow > 1 ? ` at or after line ${headerRow}` : '';
    throw new FileError('E_EMPTY_FILE', `The file has no header row${where}: it contains only blank, comment or preamble lines.`);
  }
}
