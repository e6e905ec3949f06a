// The CSV state machine: text chunks in, records (string arrays with the physical line they
// start on) out. No I/O; the reader feeds it decoded text.
//
// Why not csv-parse: on this 2-core box its byte-at-a-time stream parser needs 4.6 s or more for
// a 1M-row, 93 MB file with default options, and 7 s or more with `info` (for line numbers) and
// trim; the read path has a budget of about 3 s for the whole pipeline. This tokenizer scans
// strings with charCodeAt and slices values once, and reads the same file in about 1 s.
// test/parse/csv-oracle.test.ts checks that both agree on RFC 4180 input, so csv-parse stays
// the reference for what "correct" means.
//
// Rules (RFC 4180 plus what real exports do):
// - Records end at LF, CRLF or a lone CR outside quotes; inside quotes line breaks are data.
// - A quote starts a quoted field only at the start of a field (after trimmed blanks when trim
//   is on); elsewhere it is an ordinary character (`12" pipe` stays `12" pipe`).
// - Inside a quoted field a doubled quote is one quote (or `escape` + char when escape differs).
// - Blanks after a closing quote are ignored; any other character there is a quote problem that
//   makes the record an error (reported, parsing goes on).
// - A quote still open at end of file is fatal: everything after it would be one value.
// - A record longer than maxRecordChars is fatal, checked while reading so memory stays bounded.

import { FileError } from '../model/types.js';

export interface CsvSyntax {
  delimiter: string;
  /** One character, or '' for no quoting. */
  quote: string;
  /** One character, or ''; equal to `quote` means a doubled quote escapes it. */
  escape: string;
  /** Lines starting with this are skipped; '' = none. */
  comment: string;
  trim: boolean;
  /** Physical lines to skip unparsed before the first record (preamble above the header). */
  skipLines: number;
  /** Upper bound of one record in characters (values plus separators). */
  maxRecordChars: number;
}

/** Text after a closing quote (or similar) in a record: where it is. */
export interface QuoteProblem {
  line: number;
  column: number;
}

export type RecordSink = (values: string[], line: number, problem: QuoteProblem | undefined) => void;

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;

const S_PREAMBLE = 0;
const S_RECORD_START = 1;
const S_FIELD_START = 2;
const S_UNQUOTED = 3;
const S_QUOTED = 4;
const S_QUOTE_SEEN = 5;
const S_AFTER_QUOTED = 6;
const S_ESCAPED = 7;
const S_COMMENT = 8;

export class CsvTokenizer {
  private state: number;
  private line = 1;
  private skipLeft: number;
  private lastWasCR = false;
  private carry = '';
  private values: string[] = [];
  private partial = '';
  private recLine = 0;
  private recChars = 0;
  private quoteLine = 0;
  private quoteColumn = 0;
  private problem: QuoteProblem | undefined = undefined;

  private readonly delim: string;
  private readonly d0: number;
  private readonly dlen: number;
  private readonly q: number;
  private readonly esc: number;
  private readonly escIsQuote: boolean;
  private readonly comment: string;
  private readonly trimSpace: boolean;
  private readonly trimTab: boolean;
  /** Characters that must be visible before a position can be decided (multi-char delimiter/comment). */
  private readonly look: number;
  private readonly max: number;

  constructor(syntax: CsvSyntax) {
    this.delim = syntax.delimiter;
    this.d0 = syntax.delimiter.charCodeAt(0);
    this.dlen = syntax.delimiter.length;
    this.q = syntax.quote === '' ? -1 : syntax.quote.charCodeAt(0);
    this.escIsQuote = syntax.quote !== '' && syntax.escape === syntax.quote;
    this.esc = syntax.escape === '' || this.escIsQuote ? -1 : syntax.escape.charCodeAt(0);
    this.comment = syntax.comment;
    // A blank that is the delimiter must not be trimmed away.
    this.trimSpace = syntax.trim && this.d0 !== SP;
    this.trimTab = syntax.trim && this.d0 !== TAB;
    this.look = Math.max(1, this.dlen, this.comment.length);
    this.max = syntax.maxRecordChars;
    this.skipLeft = syntax.skipLines;
    this.state = syntax.skipLines > 0 ? S_PREAMBLE : S_RECORD_START;
  }

  /** Physical line the tokenizer is on (1-based). */
  get currentLine(): number {
    return this.line;
  }

  feed(chunk: string, sink: RecordSink): void {
    this.run(this.carry.length === 0 ? chunk : this.carry + chunk, false, sink);
  }

  /** Flushes the last record; throws E_CSV_QUOTE when a quoted field is still open. */
  end(sink: RecordSink): void {
    this.run(this.carry, true, sink);
    this.carry = '';
    switch (this.state) {
      case S_QUOTED:
      case S_ESCAPED:
        throw new FileError(
          'E_CSV_QUOTE',
          `Unclosed quote: the quoted value in column ${this.quoteColumn} starting at line ${this.quoteLine} is never closed, ` +
            'so the rest of the file would be one value. Close the quote or double any quote inside the value ("").',
          this.quoteLine,
          this.quoteColumn,
        );
      case S_QUOTE_SEEN:
      case S_AFTER_QUOTED:
        this.pushValue(this.partial);
        this.emit(sink);
        break;
      case S_UNQUOTED:
        this.pushValue(this.rtrim(this.partial));
        this.emit(sink);
        break;
      case S_FIELD_START:
        this.pushValue('');
        this.emit(sink);
        break;
      default:
        break;
    }
    this.state = S_RECORD_START;
  }

  private rtrim(v: string): string {
    let e = v.length;
    while (e > 0) {
      const c = v.charCodeAt(e - 1);
      if (!((c === SP && this.trimSpace) || (c === TAB && this.trimTab))) break;
      e--;
    }
    return e === v.length ? v : v.slice(0, e);
  }

  private pushValue(v: string): void {
    this.values.push(v);
    this.recChars += v.length + 1;
    if (this.recChars > this.max) throw this.tooLarge(false);
  }

  private emit(sink: RecordSink): void {
    const values = this.values;
    const problem = this.problem;
    this.values = [];
    this.problem = undefined;
    this.partial = '';
    sink(values, this.recLine, problem);
  }

  private tooLarge(inQuotes: boolean): FileError {
    const hint = inQuotes
      ? ` The record is inside a quoted value opened at line ${this.quoteLine}, column ${this.quoteColumn}: if that quote is never meant to be closed, fix it.`
      : ' Check that the declared delimiter and line endings match the file.';
    return new FileError(
      'E_RECORD_TOO_LARGE',
      `The record starting at line ${this.recLine} is larger than the limit of ${this.max} characters; it was not read.${hint}`,
      this.recLine,
    );
  }

  private run(s: string, atEnd: boolean, sink: RecordSink): void {
    const n = s.length;
    const limit = atEnd ? n : n - this.look + 1;
    if (limit <= 0) {
      this.carry = s;
      return;
    }
    const { d0, dlen, delim, q, esc, escIsQuote, comment, trimSpace, trimTab } = this;
    const multiDelim = dlen > 1;
    let state = this.state;
    let line = this.line;
    let i = 0;
    // Start of the current value's text in `s`; a value carried over from the previous chunk
    // is in this.partial and continues at 0.
    let fieldStart = 0;

    outer: while (i < limit) {
      switch (state) {
        case S_PREAMBLE: {
          let c = 0;
          while (i < limit) {
            c = s.charCodeAt(i);
            if (c === LF || c === CR) break;
            i++;
          }
          if (i >= limit) break outer;
          // LF right after CR is the second half of one line break, already counted.
          if (c === CR || !(i > 0 ? s.charCodeAt(i - 1) === CR : this.lastWasCR)) {
            line++;
            if (--this.skipLeft === 0) state = S_RECORD_START;
          }
          i++;
          continue;
        }
        case S_COMMENT: {
          let c = 0;
          while (i < limit) {
            c = s.charCodeAt(i);
            if (c === LF || c === CR) break;
            i++;
          }
          if (i >= limit) break outer;
          line++;
          i++;
          state = S_RECORD_START;
          continue;
        }
        case S_RECORD_START: {
          const c = s.charCodeAt(i);
          if (c === LF) {
            if (!(i > 0 ? s.charCodeAt(i - 1) === CR : this.lastWasCR)) line++;
            i++;
            continue;
          }
          if (c === CR) {
            line++;
            i++;
            continue;
          }
          if (comment.length !== 0 && s.startsWith(comment, i)) {
            state = S_COMMENT;
            i += comment.length;
            continue;
          }
          this.recLine = line;
          this.recChars = 0;
          state = S_FIELD_START;
        }
        // falls through
        case S_FIELD_START: {
          let c = s.charCodeAt(i);
          while ((c === SP && trimSpace) || (c === TAB && trimTab)) {
            if (++i >= limit) break outer;
            c = s.charCodeAt(i);
          }
          this.partial = '';
          if (c === q) {
            state = S_QUOTED;
            this.quoteLine = line;
            this.quoteColumn = this.values.length + 1;
            fieldStart = ++i;
            continue;
          }
          state = S_UNQUOTED;
          fieldStart = i;
        }
        // falls through
        case S_UNQUOTED: {
          let j = i;
          let c = 0;
          for (; j < limit; j++) {
            c = s.charCodeAt(j);
            if (c === d0) {
              if (!multiDelim || s.startsWith(delim, j)) break;
            } else if (c === LF || c === CR) break;
          }
          if (j >= limit) {
            i = limit;
            break outer;
          }
          const raw = this.partial.length === 0 ? s.slice(fieldStart, j) : this.partial + s.slice(fieldStart, j);
          this.pushValue(trimSpace || trimTab ? this.rtrim(raw) : raw);
          if (c === d0) {
            i = j + dlen;
            state = S_FIELD_START;
            continue;
          }
          line++; // CR or LF ends the record here; an LF after it is skipped at record start
          i = j + 1;
          this.line = line;
          this.emit(sink);
          state = S_RECORD_START;
          continue;
        }
        case S_QUOTED: {
          let j = i;
          let c = 0;
          for (; j < limit; j++) {
            c = s.charCodeAt(j);
            if (c === q || c === esc) break;
            if (c === LF) {
              if (!(j > 0 ? s.charCodeAt(j - 1) === CR : this.lastWasCR)) line++;
            } else if (c === CR) line++;
          }
          if (j >= limit) {
            i = limit;
            break outer;
          }
          const piece = s.slice(fieldStart, j);
          this.partial = this.partial.length === 0 ? piece : this.partial + piece;
          if (this.recChars + this.partial.length > this.max) throw this.tooLarge(true);
          i = j + 1;
          state = c === q ? S_QUOTE_SEEN : S_ESCAPED;
          continue;
        }
        case S_ESCAPED: {
          // The escaped character is data whatever it is; it starts the next piece.
          const c = s.charCodeAt(i);
          if (c === LF) {
            if (!(i > 0 ? s.charCodeAt(i - 1) === CR : this.lastWasCR)) line++;
          } else if (c === CR) line++;
          fieldStart = i;
          i++;
          state = S_QUOTED;
          continue;
        }
        case S_QUOTE_SEEN: {
          if (escIsQuote && s.charCodeAt(i) === q) {
            this.partial += s[i];
            fieldStart = ++i;
            state = S_QUOTED;
            continue;
          }
          state = S_AFTER_QUOTED;
        }
        // falls through
        case S_AFTER_QUOTED: {
          const c = s.charCodeAt(i);
          if (c === d0 && (!multiDelim || s.startsWith(delim, i))) {
            this.pushValue(this.partial);
            this.partial = '';
            i += dlen;
            state = S_FIELD_START;
            continue;
          }
          if (c === LF || c === CR) {
            this.pushValue(this.partial);
            line++;
            i++;
            this.line = line;
            this.emit(sink);
            state = S_RECORD_START;
            continue;
          }
          if (c === SP || c === TAB) {
            i++;
            continue;
          }
          // Text after the closing quote: keep reading the value to the next delimiter so the
          // rest of the record stays aligned, but flag the record.
          if (this.problem === undefined) this.problem = { line, column: this.values.length + 1 };
          state = S_UNQUOTED;
          fieldStart = i;
          continue;
        }
        default:
          throw new Error(`csv tokenizer: impossible state ${state}`);
      }
    }

    if (state === S_UNQUOTED || state === S_QUOTED) {
      if (i > fieldStart) this.partial = this.partial.length === 0 ? s.slice(fieldStart, i) : this.partial + s.slice(fieldStart, i);
      if (this.recChars + this.partial.length > this.max) throw this.tooLarge(state === S_QUOTED);
    }
    if (i > 0) this.lastWasCR = s.charCodeAt(i - 1) === CR;
    this.carry = i < n ? s.slice(i) : '';
    this.state = state;
    this.line = line;
  }
}
