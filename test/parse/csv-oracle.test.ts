// Differential test: on RFC 4180 input, readCsv must agree with csv-parse (the reference
// implementation the project depends on) value for value. Inputs are generated from a fixed
// seed with the characters that make CSV hard: delimiters, quotes, CR, LF, blanks, non-ASCII.

import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../pipeline/parse/csv-reader.js';
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

const ALPHABET = ['a', 'B', '7', ' ', ',', ';', '"', '\n', '\r\n', '\r', 'é', '€', '😀', '\t', '.', '#'];

function makeFile(rand: () => number, delimiter: string): { text: string; width: number } {
  const width = 1 + Math.floor(rand() * 6);
  const rows = 1 + Math.floor(rand() * 12);
  const eol = rand() < 0.5 ? '\n' : '\r\n';
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const fields: string[] = [];
    for (let c = 0; c < width; c++) {
      // The first value is never blank, so no record is an "empty row" for either parser.
      let v = c === 0 ? 'k' : '';
      const len = Math.floor(rand() * 8);
      for (let k = 0; k < len; k++) v += ALPHABET[Math.floor(rand() * ALPHABET.length)];
      const special = /[",;\r\n]/.test(v) || /^\s|\s$/.test(v);
      fields.push(special || rand() < 0.2 ? `"${v.replace(/"/g, '""')}"` : v);
    }
    lines.push(fields.join(delimiter));
  }
  return { text: lines.join(eol) + (rand() < 0.5 ? eol : ''), width };
}

describe('readCsv agrees with csv-parse on RFC 4180 input', () => {
  for (const delimiter of [',', ';']) {
    it(`400 generated files, delimiter "${delimiter}", untrimmed and trimmed`, async () => {
      const rand = prng(delimiter === ',' ? 20240501 : 7);
      for (let n = 0; n < 400; n++) {
        const { text, width } = makeFile(rand, delimiter);
        for (const trim of [false, true]) {
          const expected = parse(text, { delimiter, trim, relax_column_count: true }) as string[][];
          const chunk = 1 + Math.floor(rand() * 9);
          const items = await collect(readCsv(chunked(text, chunk), { delimiter, trim }));
          const got = items.map((i) => {
            if (i.kind === 'error') throw new Error(`unexpected error item ${JSON.stringify(i)} for ${JSON.stringify(text)}`);
            return i.values;
          });
          expect(got, JSON.stringify({ text, trim, chunk })).toEqual(expected);
          expect(got.every((r) => r.length === width)).toBe(true);
        }
      }
    });
  }
});
