// Fixed-width text: lines cut at declared character positions into cells; short, overlong and
// trailing lines, trailer record counts, line ends split across chunks, characters (not bytes).

import { describe, expect, it } from 'vitest';
import { readFixedWidth } from '../../pipeline/parse/fixed-width-reader.js';
import type { FixedOptions } from '../../pipeline/mapping/spec.js';
import type { CsvItem } from '../../pipeline/parse/csv-reader.js';
import { FileError } from '../../pipeline/model/types.js';
import { load, yaml } from '../mapping/helpers.js';

const LAYOUT: FixedOptions = { columns: [{ name: 'LOT', start: 1, width: 6 }, { name: 'QTY', start: 8, end: 12 }] };

async function items(chunks: (string | Uint8Array)[], opts: FixedOptions = LAYOUT): Promise<CsvItem[]> {
  const out: CsvItem[] = [];
  for await (const i of readFixedWidth((async function* () { yield* chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)); })(), opts)) out.push(i);
  return out;
}

describe('fixed-width reader', () => {
  it('cuts lines at the declared positions; the names are the header', async () => {
    expect(await items(['L-0001 00012\nL-0002 00003\n'])).toEqual([
      { kind: 'header', line: 1, values: ['LOT', 'QTY'] },
      { kind: 'row', line: 1, values: ['L-0001', '00012'] },
      { kind: 'row', line: 2, values: ['L-0002', '00003'] },
    ]);
  });

  it('counts characters after decoding, and line ends split across chunks', async () => {
    const r = await items(['Lö-001 0001', '2\r', '\nLÄ-002 00003\r\n']);
    expect(r.filter((i) => i.kind === 'row').map((i) => [i.line, (i as { values: string[] }).values])).toEqual([
      [1, ['Lö-001', '00012']],
      [2, ['LÄ-002', '00003']],
    ]);
  });

  it('short and overlong lines are row errors naming line and column; a line ending inside the last column is fine', async () => {
    const r = await items(['L-0001\nL-0002 000\nL-0003 00012  X\n']);
    expect(r.slice(1)).toEqual([
      expect.objectContaining({ kind: 'error', line: 1, column: 8, code: 'E_FIXED_SHORT_LINE' }),
      { kind: 'row', line: 2, values: ['L-0002', '000'] },
      expect.objectContaining({ kind: 'error', line: 3, column: 15, code: 'E_FIXED_LONG_LINE' }),
    ]);
  });

  it('skips heading lines, checks the trailer count and refuses data after the trailer', async () => {
    const opts: FixedOptions = { ...LAYOUT, skip: 2, trailer: '^TRL', trailerCount: { start: 4, width: 3 } };
    const ok = await items(['TITLE\nLOT    QTY\nL-0001 00012\nL-0002 00003\nTRL002\n'], opts);
    expect(ok.filter((i) => i.kind === 'row')).toHaveLength(2);
    await expect(items(['TITLE\nLOT    QTY\nL-0001 00012\nTRL002\n'], opts)).rejects.toMatchObject({ code: 'E_FIXED_TRAILER_COUNT', line: 4, column: 4 });
    const after = await items(['T\nH\nL-0001 00012\nTRL001\nL-0002 00003\n'], { ...opts, trailerCount: undefined });
    expect(after.at(-1)).toMatchObject({ kind: 'error', code: 'E_FIXED_AFTER_TRAILER', line: 5 });
    await expect(items(['T\nH\nL-0001 00012\n'], { ...opts, trailerRequired: true })).rejects.toBeInstanceOf(FileError);
  });

  it('an endless line is refused with bounded memory', async () => {
    const big = 'x'.repeat(64 * 1024);
    const chunks = Array.from({ length: 20 }, () => big);
    const out: CsvItem[] = [];
    await expect((async () => { for await (const i of readFixedWidth((async function* () { yield* chunks.map((c) => Buffer.from(c)); })(), LAYOUT, {}, 256 * 1024)) out.push(i); })()).rejects.toMatchObject({ code: 'E_FIXED_LONG_LINE' });
  });
});

describe('fixed-width mappings are checked when they load', () => {
  it('a field naming an undeclared column, a column without end or width', () => {
    const m = yaml`
      partner: erp
      feed: lots
      format: fixed
      match: ["*.txt"]
      fixed:
        columns:
          - { name: LOT, start: 1, width: 6 }
          - { name: QTY, start: 8 }
      records:
        - emit: lot
          fields:
            lotNumber: { from: LOTNO }
            quantity: { from: QTY }
    `;
    const d = load(m).diagnostics.map((x) => `${x.code} ${x.message}`);
    expect(d).toEqual(expect.arrayContaining([expect.stringMatching(/^E_BAD_SOURCE 'LOTNO' is not a column of fixed.columns.*the columns are LOT, QTY/), expect.stringMatching(/^E_SCHEMA column 'QTY' needs exactly one of end/)]));
  });
});

describe('mapping test on a fixed-width file', () => {
  it('shows the declared columns and what they read on the first data line (padding kept, so a shifted position shows)', async () => {
    const { readFileSync } = await import('node:fs');
    const { dryRun } = await import('../../pipeline/mapping/dry-run.js');
    const { compile, specOf } = await import('../mapping/helpers.js');
    const text = readFileSync('fixtures/shapes/fixed-width.yaml', 'utf8');
    const r = await dryRun(compile(text), specOf(text), 'fixtures/shapes/fixed-width.txt', { now: new Date('2026-02-05T00:00:00Z') });
    expect(r.fixedColumns?.slice(0, 3)).toEqual([
      { name: 'LOT-NO', start: 1, end: 10, firstRow: { line: 4, value: 'NW26-0411 ' } },
      { name: 'MATERIAL', start: 12, end: 29, firstRow: { line: 4, value: '000000000010012345' } },
      { name: 'QTY', start: 31, end: 39, firstRow: { line: 4, value: '12.500,00' } },
    ]);
    expect(r.fixedColumns?.at(-1)).toEqual({ name: 'SITE', start: 59, end: 70, firstRow: { line: 4, value: 'Lörrach' } });
  });
});
