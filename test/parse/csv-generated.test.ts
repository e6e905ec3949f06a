// readCsv on generated files with the characters that make CSV hard (delimiters, quotes, CR, LF,
// blanks, non-ASCII), plus blank lines, comment lines and a preamble between and above the
// records. The expectation is built alongside the text: the values that were written and the
// physical line each record starts on (LF, CRLF and a lone CR each end one line).

import { describe, expect, it } from 'vitest';
import type { CsvDialect } from '../../pipeline/mapping/spec.js';
import { readCsv, type CsvItem } from '../../pipeline/parse/csv-reader.js';
import { chunked, collect } from './helpers.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'B', '7', ' ', ',', ';', '"', '\n', '\r\n', '\r', 'é', '€', '😀', '\t', '.', '#', '""'];

const lineBreaks = (s: string) => (s.match(/\r\n|\r|\n/g) ?? []).length;

interface Generated {
  text: string;
  dialect: CsvDialect;
  expected: CsvItem[];
}

function makeFile(rand: () => number): Generated {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const delimiter = pick([',', ';', '\t']);
  const trim = rand() < 0.5;
  const comment = rand() < 0.5 ? '#' : undefined;
  const preamble = rand() < 0.3 ? 1 + Math.floor(rand() * 3) : 0;
  const eol = pick(['\n', '\r\n', '\r']);
  const width = 1 + Math.floor(rand() * 6);
  const records = 1 + Math.floor(rand() * 12);

  let text = '';
  let line = 1;
  const emit = (s: string) => {
    text += s;
    line += lineBreaks(s);
  };
  // Anything may stand above the header, even an unbalanced quote.
  for (let p = 0; p < preamble; p++) emit(`Report "${pick(['Q1', 'x,y', '"'])}${pick(['\n', '\r\n', '\r'])}`);

  const expected: CsvItem[] = [];
  for (let r = 0; r < records; r++) {
    // Blank and comment lines between records are skipped but still count as lines.
    while (r > 0 && rand() < 0.25) emit(pick(['', '   ', '\t']) + eol);
    if (comment !== undefined) while (rand() < 0.2) emit(`# note "${pick(['open', 'a,b', ''])}${eol}`);
    const values: string[] = [];
    const fields: string[] = [];
    for (let c = 0; c < width; c++) {
      // The first value is never blank and never starts like a comment, so every record is kept.
      let v = c === 0 ? 'k' : '';
      const len = Math.floor(rand() * 8);
      for (let k = 0; k < len; k++) v += pick(ALPHABET);
      const special = /[",;\t\r\n]/.test(v) || /^\s|\s$/.test(v);
      fields.push(special || rand() < 0.2 ? `"${v.replace(/"/g, '""')}"` : v);
      values.push(v);
    }
    expected.push({ kind: r === 0 ? 'header' : 'row', line, values });
    emit(fields.join(delimiter) + (r < records - 1 || rand() < 0.5 ? eol : ''));
  }
  return { text, dialect: { delimiter, trim, comment, headerRow: preamble + 1 }, expected };
}

describe('readCsv on generated files', () => {
  it('1500 files: values, and the line each record starts on, whatever the chunking', async () => {
    const rand = prng(20240501);
    for (let n = 0; n < 1500; n++) {
      const { text, dialect, expected } = makeFile(rand);
      const chunk = Math.floor(rand() * 9); // 0 = all at once
      const got = await collect(readCsv(chunked(text, chunk), dialect));
      expect(got, JSON.stringify({ text, dialect, chunk })).toEqual(expected);
    }
  });

  it('the generator covers records spanning lines and skipped lines between them', async () => {
    const rand = prng(7);
    let multiLine = 0;
    for (let n = 0; n < 200; n++) {
      const { text, dialect, expected } = makeFile(rand);
      const got = await collect(readCsv(chunked(text), dialect));
      if (expected.some((item, i) => i > 0 && item.line !== expected[i - 1].line + 1)) multiLine++;
      expect(got).toEqual(expected);
    }
    // Most files have records that span lines or blank/comment lines between them.
    expect(multiLine).toBeGreaterThan(100);
  });
});
