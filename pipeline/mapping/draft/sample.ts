// Reads the head of a sample file for `lotgate mapping suggest`: which kind of file it is, its
// text encoding (a byte order mark, else valid UTF-8, else Windows-1252), and its first lines
// or — for a workbook — its first rows as cells. Bounded: at most MAX_BYTES of text and
// MAX_ROWS rows are looked at. Guessing happens only here, for a draft; ingest never guesses.

import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { FileError } from '../../model/types.js';
import { decodeText, type TextEncoding } from '../../parse/decode.js';
import { describeBinary, sniffFormat } from '../../parse/sniff.js';
import { readXlsx } from '../../parse/xlsx-reader.js';
import { incompleteTailLength } from '../../parse/utf8.js';

export const MAX_BYTES = 512 * 1024;
export const MAX_ROWS = 400;

export interface TextSample {
  kind: 'text';
  encoding: TextEncoding;
  /** Why this encoding: "byte order mark", "valid UTF-8", "not UTF-8: …". */
  encodingWhy: string;
  /** Physical lines (1-based line = index + 1); the last partial line of a cut-off head dropped. */
  lines: string[];
}

export interface XlsxSample {
  kind: 'xlsx';
  /** Rows by line (sheet row number), blank rows as []. */
  rows: { line: number; cells: string[] }[];
  sheet?: string;
}

export interface XmlSample {
  kind: 'xml';
  text: string;
}

export type Sample = TextSample | XlsxSample | XmlSample;

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The encoding a text sample is most likely in, and why. */
export function detectEncoding(bytes: Buffer, cut: boolean): { encoding: TextEncoding; why: string } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', why: 'UTF-8 byte order mark' };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', why: 'UTF-16LE byte order mark' };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', why: 'UTF-16BE byte order mark' };
  const body = cut ? bytes.subarray(0, bytes.length - incompleteTailLength(bytes)) : bytes;
  if (isUtf8(body)) {
    const ascii = body.every((b) => b < 0x80);
    return { encoding: 'utf-8', why: ascii ? 'plain ASCII (UTF-8 reads it)' : 'valid UTF-8 with non-ASCII characters' };
  }
  return { encoding: 'windows-1252', why: 'not valid UTF-8: bytes such as ä = 0xE4 point to Windows-1252 (Excel "CSV" on Windows)' };
}

export async function readSample(path: string, sheet?: string | number): Promise<Sample> {
  const first = await head(path, 8);
  if (first.length === 0) throw new FileError('E_EMPTY_FILE', 'The file is empty (0 bytes).');
  if (first[0] === 0x50 && first[1] === 0x4b) {
    const rows: { line: number; cells: string[] }[] = [];
    let last = 0;
    for await (const item of readXlsx(path, sheet === undefined ? {} : { sheet }, {}, { raw: true })) {
      if (item.kind !== 'row') continue;
      for (let l = last + 1; l < item.line; l++) rows.push({ line: l, cells: [] });
      last = item.line;
      rows.push({ line: item.line, cells: item.values.length === 1 && item.values[0] === '' ? [] : item.values });
      if (rows.length >= MAX_ROWS) break;
    }
    return { kind: 'xlsx', rows, ...(typeof sheet === 'string' ? { sheet } : {}) };
  }
  const bytes = await head(path, MAX_BYTES);
  const what = describeBinary(bytes);
  if (what !== undefined) throw new FileError('E_BINARY', `This does not look like a text file: it is ${what}. Give a CSV/TXT, .xlsx or XML sample.`);
  const cut = bytes.length === MAX_BYTES;
  const { encoding, why } = detectEncoding(bytes, cut);
  let text = '';
  // A head cut off mid-character ends before that character.
  const usable = !cut ? bytes.length : encoding === 'utf-8' ? bytes.length - incompleteTailLength(bytes) : encoding.startsWith('utf-16') ? bytes.length - (bytes.length % 2) : bytes.length;
  for await (const chunk of decodeText(createReadStream(path, { end: usable - 1 }), encoding, { declaredBy: `detected: ${why}` })) text += chunk;
  if (sniffFormat(bytes) === 'xml') return { kind: 'xml', text };
  let lines = text.split(/\r\n|\n|\r/);
  if (cut) lines = lines.slice(0, -1);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { kind: 'text', encoding, encodingWhy: why, lines: lines.slice(0, MAX_ROWS) };
}
