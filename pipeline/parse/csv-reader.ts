// Streaming CSV reader: bytes in the declared encoding → header, rows and row-level errors,
// each with the physical line it starts on. Memory stays bounded by the largest record
// (maxRecordBytes) plus one chunk, whatever the file size.

import type { Readable } from 'node:stream';
import type { CsvDialect } from '../mapping/spec.js';
import { FileError } from '../model/types.js';
import { CsvTokenizer, type CsvSyntax, type QuoteProblem } from './csv-tokenizer.js';
import { decodeText, releaseInput, type ByteSource } from './decode.js';

export type CsvItem =
  | { kind: 'header'; line: number; values: string[] }
  | { kind: 'row'; line: number; values: string[] }
  | { kind: 'error'; line: number; column?: number; code: string; message: string };

export interface CsvReadOptions {
  /**
   * Largest record accepted, default 16 MiB. Counted in characters of decoded text (one per
   * byte for ASCII), so a 100 MB single line is refused after reading this much of it.
   */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

function dialectError(message: string): FileError {
  return new FileError('E_DIALECT', `Invalid CSV dialect in the mapping: ${message}`);
}

/** Checks a dialect and fills in defaults. Throws E_DIALECT for a dialect that cannot work. */
export function csvSyntaxOf(dialect: CsvDialect, opts: CsvReadOptions = {}): CsvSyntax {
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
  if (!Number.isFinite(max) || max < 1) throw dialectError(`maxRecordBytes must be positive, got ${max}.`);
  return {
    delimiter,
    quote,
    escape,
    comment,
    trim: dialect.trim ?? true,
    skipLines: headerRow > 0 ? headerRow - 1 : 0,
    maxRecordChars: max,
  };
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

function quoteProblemMessage(p: QuoteProblem): string {
  return (
    `Unexpected text after a closing quote in column ${p.column}: a quoted value must be followed by the delimiter or the end of the line. ` +
    'Quote the whole value and double any quote inside it ("").'
  );
}

/**
 * Turns tokenizer records into items: the header (the first record at or after headerRow, or
 * synthesized "1","2",… when headerRow is 0), rows, and per-row errors for ragged rows and
 * misplaced quotes. Pushes into `out`.
 */
function itemSink(noHeader: boolean, skipEmptyRows: boolean, out: CsvItem[]) {
  let width = -1;
  const sink = (values: string[], line: number, problem: QuoteProblem | undefined): void => {
    if (skipEmptyRows && allBlank(values)) return;
    if (width < 0) {
      if (problem !== undefined) {
        throw new FileError('E_CSV_QUOTE', `Header row: ${quoteProblemMessage(problem)}`, problem.line, problem.column);
      }
      width = values.length;
      if (!noHeader) {
        out.push({ kind: 'header', line, values });
        return;
      }
      const names = new Array<string>(width);
      for (let k = 0; k < width; k++) names[k] = String(k + 1);
      out.push({ kind: 'header', line: 0, values: names });
    }
    if (problem !== undefined) {
      out.push({ kind: 'error', line: problem.line, column: problem.column, code: 'E_CSV_QUOTE', message: quoteProblemMessage(problem) });
    } else if (values.length !== width) {
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

/**
 * Reads a CSV file as a stream of items: first `header`, then `row`s and `error`s in file
 * order. Throws FileError for problems that make the whole file unusable: E_EMPTY_FILE,
 * E_BINARY, E_ENCODING (from decoding), E_CSV_QUOTE (unclosed quote, with line and column),
 * E_RECORD_TOO_LARGE, E_DIALECT.
 */
export async function* readCsv(
  input: NodeJS.ReadableStream | Readable | ByteSource,
  dialect: CsvDialect = {},
  opts: CsvReadOptions = {},
): AsyncGenerator<CsvItem> {
  let syntax: CsvSyntax;
  try {
    syntax = csvSyntaxOf(dialect, opts);
  } catch (e) {
    await releaseInput(input as ByteSource);
    throw e;
  }
  const tokenizer = new CsvTokenizer(syntax);
  const items: CsvItem[] = [];
  const { sink, hasHeader } = itemSink((dialect.headerRow ?? 1) === 0, dialect.skipEmptyRows ?? true, items);

  try {
    for await (const text of decodeText(input as ByteSource, dialect.encoding)) {
      tokenizer.feed(text, sink);
      if (items.length !== 0) {
        for (let k = 0; k < items.length; k++) yield items[k];
        items.length = 0;
      }
    }
    tokenizer.end(sink);
  } catch (e) {
    // Rows completed before a fatal error are still delivered, whatever the chunking was.
    const done = items.splice(0);
    for (const item of done) yield item;
    throw e;
  }
  for (let k = 0; k < items.length; k++) yield items[k];
  items.length = 0;
  if (!hasHeader()) {
    const where = (dialect.headerRow ?? 1) > 1 ? ` at or after line ${dialect.headerRow}` : '';
    throw new FileError('E_EMPTY_FILE', `The file has no header row${where}: it contains only blank, comment or preamble lines.`);
  }
}
