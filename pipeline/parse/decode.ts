// Bytes → text for a declared encoding. The encoding is declared (mapping dialect or XML
// declaration), never guessed: bytes that do not fit it are an E_ENCODING error with the line,
// not silently replaced characters that would later become wrong lot numbers.

import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { FileError } from '../model/types.js';
import { describeBinary } from './sniff.js';
import { countLf, countLfText, firstInvalidUtf8, incompleteTailLength } from './utf8.js';

export type TextEncoding = 'utf-8' | 'windows-1252' | 'latin1' | 'utf-16le' | 'utf-16be' | 'utf-16';

/** Anything that yields the file's bytes in order: a Readable, a NodeJS.ReadableStream, a generator. */
export type ByteSource = AsyncIterable<Uint8Array | string>;

const ALIASES: Record<string, TextEncoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'windows-1252': 'windows-1252',
  windows1252: 'windows-1252',
  cp1252: 'windows-1252',
  'cp-1252': 'windows-1252',
  latin1: 'latin1',
  'latin-1': 'latin1',
  'iso-8859-1': 'latin1',
  'iso8859-1': 'latin1',
  iso88591: 'latin1',
  'iso_8859-1': 'latin1',
  l1: 'latin1',
  'utf-16le': 'utf-16le',
  utf16le: 'utf-16le',
  'utf-16be': 'utf-16be',
  utf16be: 'utf-16be',
  'utf-16': 'utf-16',
  utf16: 'utf-16',
};

export const SUPPORTED_ENCODINGS: readonly TextEncoding[] = ['utf-8', 'windows-1252', 'latin1', 'utf-16le', 'utf-16be', 'utf-16'];

/** Canonical name of a declared encoding (default utf-8); E_ENCODING for names lotgate does not read. */
export function resolveEncoding(declared?: string | null, declaredBy = DECLARED_IN_MAPPING): TextEncoding {
  if (declared === undefined || declared === null || declared.trim() === '') return 'utf-8';
  const enc = ALIASES[declared.trim().toLowerCase()];
  if (enc === undefined) {
    throw new FileError(
      'E_ENCODING',
      `Encoding "${declared}" is not supported (${declaredBy}). Use one of: ${SUPPORTED_ENCODINGS.join(', ')}.`,
    );
  }
  return enc;
}

const DECLARED_IN_MAPPING = "as declared in the mapping's dialect.encoding";
const MAPPING_DEFAULT = "the default: the mapping's dialect.encoding is not set";

export interface DecodeOptions {
  /**
   * Why this encoding is used, for messages: "the file is read as X (<declaredBy>)".
   * Default: the mapping's dialect.encoding (or its default when not set).
   */
  declaredBy?: string;
  /** What the user should do when the bytes do not match; ends every E_ENCODING message. */
  fixHint?: string;
}

type Bom = 'utf-8' | 'utf-16le' | 'utf-16be';

function bomOf(head: Buffer): Bom | undefined {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return undefined;
}

const BOM_LENGTH: Record<Bom, number> = { 'utf-8': 3, 'utf-16le': 2, 'utf-16be': 2 };

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** What peekBytes returns: the first bytes, the whole file again, and a way to let go of the input. */
export interface Peeked {
  head: Buffer;
  /** Yields the whole file from the start (head first). */
  source: AsyncIterable<Buffer>;
  /** Releases the input (destroys a stream) if the source is not read to the end. */
  close(): Promise<void>;
}

/**
 * Reads at least `min` bytes (fewer only at end of file) so a caller can look before choosing
 * a decoder, and hands back a source that yields the whole file again from the start.
 */
export async function peekBytes(input: ByteSource, min: number): Promise<Peeked> {
  const it = input[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let size = 0;
  let ended = false;
  try {
    while (size < min) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      const b = toBuffer(r.value);
      parts.push(b);
      size += b.length;
    }
  } catch (e) {
    await it.return?.();
    throw e;
  }
  const head = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
  async function* source(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    while (true) {
      const r = await it.next();
      if (r.done) return;
      yield toBuffer(r.value);
    }
  }
  return {
    head,
    source: source(),
    close: async () => {
      await it.return?.();
    },
  };
}

/** Lets go of an input that will not be read (destroys a stream), e.g. after a configuration error. */
export async function releaseInput(input: ByteSource): Promise<void> {
  // A stream's iterator that was never started would not destroy the stream on return().
  const destroy = (input as { destroy?: unknown }).destroy;
  if (typeof destroy === 'function') destroy.call(input);
  else await input[Symbol.asyncIterator]().return?.();
}

interface ChunkDecoder {
  write(buf: Buffer): string;
  end(): string;
}

interface Ctx {
  encoding: TextEncoding;
  declaredBy: string;
  fixHint: string;
}

function hex(b: number): string {
  return `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;
}

function binaryError(line: number): FileError {
  return new FileError(
    'E_BINARY',
    `This does not look like a text file: it contains NUL bytes (first at line ${line}). ` +
      'Send the data as a text export (CSV or XML), not a binary file.',
    line,
  );
}

function encodingError(ctx: Ctx, line: number, what: string): FileError {
  return new FileError(
    'E_ENCODING',
    `${what} at line ${line}: the file is read as ${ctx.encoding} (${ctx.declaredBy}) but is not valid ${ctx.encoding}. ${ctx.fixHint}`,
    line,
  );
}

function utf8Decoder(ctx: Ctx): ChunkDecoder {
  let carry: Buffer | undefined;
  let lf = 0;
  return {
    write(input) {
      const buf = carry ? Buffer.concat([carry, input]) : input;
      carry = undefined;
      const tail = incompleteTailLength(buf);
      const body = tail === 0 ? buf : buf.subarray(0, buf.length - tail);
      if (tail !== 0) carry = Buffer.from(buf.subarray(buf.length - tail));
      const nul = body.indexOf(0);
      if (nul !== -1) throw binaryError(lf + countLf(body, 0, nul) + 1);
      if (!isUtf8(body)) {
        const at = Math.max(0, firstInvalidUtf8(body));
        throw encodingError(ctx, lf + countLf(body, 0, at) + 1, `Invalid UTF-8 byte sequence (byte ${hex(body[at])})`);
      }
      lf += countLf(body);
      return body.toString('utf8');
    },
    end() {
      if (carry) throw encodingError(ctx, lf + 1, 'The file ends in the middle of a UTF-8 character');
      return '';
    },
  };
}

function singleByteDecoder(ctx: Ctx): ChunkDecoder {
  let lf = 0;
  const cp1252 = ctx.encoding === 'windows-1252';
  return {
    write(buf) {
      const nul = buf.indexOf(0);
      if (nul !== -1) throw binaryError(lf + countLf(buf, 0, nul) + 1);
      const text = cp1252 ? iconv.decode(buf, 'windows-1252') : buf.toString('latin1');
      if (cp1252) {
        // Five bytes have no windows-1252 character; they usually mean the file is really UTF-8.
        const bad = text.indexOf('\ufffd');
        if (bad !== -1) {
          throw encodingError(ctx, lf + countLf(buf, 0, bad) + 1, `Byte ${hex(buf[bad])} is not a windows-1252 character (is the file UTF-8?)`);
        }
      }
      lf += countLf(buf);
      return text;
    },
    end() {
      return '';
    },
  };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function utf16Decoder(ctx: Ctx, endian: 'utf-16le' | 'utf-16be'): ChunkDecoder {
  const dec = iconv.getDecoder(endian === 'utf-16le' ? 'utf16le' : 'utf16be', { stripBOM: false });
  let bytes = 0;
  let lf = 0;
  let high = ''; // a high surrogate whose low half is in the next chunk
  const check = (text: string): string => {
    const nul = text.indexOf('\u0000');
    if (nul !== -1) throw binaryError(lf + countLfText(text, 0, nul) + 1);
    const bad = text.search(LONE_SURROGATE);
    if (bad !== -1) throw encodingError(ctx, lf + countLfText(text, 0, bad) + 1, 'Unpaired UTF-16 surrogate');
    lf += countLfText(text);
    return text;
  };
  return {
    write(buf) {
      bytes += buf.length;
      let text = high + dec.write(buf);
      high = '';
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        high = text.slice(-1);
        text = text.slice(0, -1);
      }
      return check(text);
    },
    end() {
      if (bytes % 2 !== 0) throw encodingError(ctx, lf + 1, 'The file has an odd number of bytes, which is impossible in UTF-16');
      return check(high + (dec.end() ?? ''));
    },
  };
}

function isWsCode(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b;
}

function hasNonWhitespace(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isWsCode(text.charCodeAt(i))) return true;
  return false;
}

/** Leading whitespace is held back (up to this much) so an all-blank file fails as E_EMPTY_FILE before anything is emitted. */
const MAX_HELD_WHITESPACE = 1 << 20;

/**
 * Decodes a byte stream in the declared encoding (default utf-8) to text chunks.
 * Strips a BOM that matches the encoding; `utf-16` needs a BOM to pick the byte order.
 * Throws FileError: E_EMPTY_FILE (no bytes, or only BOM/whitespace), E_BINARY (NUL bytes or a
 * known binary format such as PDF or ZIP), E_ENCODING (bytes invalid in the encoding, a BOM of
 * another encoding, an unsupported encoding name), each with the line where it happens.
 */
export async function* decodeText(input: ByteSource, declared?: string | null, opts: DecodeOptions = {}): AsyncGenerator<string> {
  const isSet = declared !== undefined && declared !== null && declared.trim() !== '';
  const declaredBy = opts.declaredBy ?? (isSet ? DECLARED_IN_MAPPING : MAPPING_DEFAULT);
  const { head, source, close } = await peekBytes(input, 16);
  const it = source[Symbol.asyncIterator]();
  try {
    const declaredEnc = resolveEncoding(declared, declaredBy);
    if (head.length === 0) throw new FileError('E_EMPTY_FILE', 'The file is empty (0 bytes).');
    const what = describeBinary(head);
    if (what !== undefined) {
      throw new FileError('E_BINARY', `This does not look like a text file: it is ${what}. Send the data as a text export (CSV or XML).`);
    }

    const bom = bomOf(head);
    let encoding = declaredEnc;
    if (declaredEnc === 'utf-16') {
      if (bom !== 'utf-16le' && bom !== 'utf-16be') {
        throw new FileError(
          'E_ENCODING',
          `The file is to be read as utf-16 (${declaredBy}) but does not start with a UTF-16 byte order mark, so its byte order is unknown. Declare utf-16le or utf-16be, or re-export with a BOM.`,
          1,
        );
      }
      encoding = bom;
    } else if (bom !== undefined && bom !== declaredEnc) {
      throw new FileError(
        'E_ENCODING',
        `The file starts with a ${bom.toUpperCase()} byte order mark but is to be read as ${declaredEnc} (${declaredBy}). ` +
          (opts.fixHint ?? `Set dialect.encoding in the mapping to ${bom} or re-export the file as ${declaredEnc}.`),
        1,
      );
    }
    const ctx: Ctx = {
      encoding,
      declaredBy,
      fixHint:
        opts.fixHint ?? `Set dialect.encoding in the mapping to the file's real encoding (for example windows-1252) or re-export the file as ${encoding}.`,
    };
    const dec =
      encoding === 'utf-8'
        ? utf8Decoder(ctx)
        : encoding === 'utf-16le' || encoding === 'utf-16be'
          ? utf16Decoder(ctx, encoding)
          : singleByteDecoder(ctx);

    let skip = bom === encoding ? BOM_LENGTH[bom] : 0;
    let sawContent = false;
    let held = '';
    while (true) {
      const r = await it.next();
      if (r.done) break;
      let chunk = r.value;
      if (skip > 0) {
        // The BOM can straddle tiny chunks; `head` guarantees it has been seen whole.
        const n = Math.min(skip, chunk.length);
        chunk = chunk.subarray(n);
        skip -= n;
        if (chunk.length === 0) continue;
      }
      const text = dec.write(chunk);
      if (text.length === 0) continue;
      if (!sawContent) {
        if (!hasNonWhitespace(text)) {
          held += text;
          if (held.length > MAX_HELD_WHITESPACE) {
            yield held;
            held = '';
          }
          continue;
        }
        sawContent = true;
        if (held.length > 0) {
          yield held;
          held = '';
        }
      }
      yield text;
    }
    const last = dec.end();
    if (!sawContent && !hasNonWhitespace(last)) {
      throw new FileError('E_EMPTY_FILE', 'The file contains no data (only whitespace or a byte order mark).');
    }
    if (held.length > 0) yield held;
    if (last.length > 0) yield last;
  } finally {
    await close();
  }
}
