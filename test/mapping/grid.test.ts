// Plate-reader grids: the splitter on raw lines (plates, markers, layouts before or after the
// values, tables, malformed lines), the dry run's view of the grids, and load-time checks.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { GridSplitter, normalizeWell, type GridEvent } from '../../pipeline/mapping/grid.js';
import type { GridSpec } from '../../pipeline/mapping/spec.js';
import { compile, load, specOf, yaml } from './helpers.js';

function split(spec: GridSpec, lines: string[]): GridEvent[] {
  const s = new GridSplitter(spec);
  const out: GridEvent[] = [];
  lines.forEach((l, i) => out.push(...s.push(l.split(';'), i + 1)));
  out.push(...s.end());
  return out;
}

const plates = (evs: GridEvent[]) => evs.filter((e): e is Extract<GridEvent, { kind: 'plate' }> => e.kind === 'plate');

describe('GridSplitter', () => {
  it('pairs each values grid with the layout next to it, before or after; a plate without one uses the previous layout', () => {
    const evs = split({ values: { after: '^Results' }, samples: { after: '^Layout' } }, [
      'Plate ID:;P-1', // 1
      'Layout', // 2
      ';1;2', // 3
      'A;S-1;S-2', // 4
      'Results', // 5
      ';1;2', // 6
      'A;0,1;0,2', // 7
      '', // 8
      'Plate ID:;P-2', // 9: after plate 1's values: heads plate 2
      'Results;1;2', // 10: the marker line is the header
      'A;0,3;', // 11
    ]);
    const [p1, p2] = plates(evs);
    expect(p1.cells.map((c) => [c.well, c.value, c.sample, c.line, c.col])).toEqual([['A1', '0,1', 'S-1', 7, 1], ['A2', '0,2', 'S-2', 7, 2]]);
    expect(p1.preamble.map((l) => l.cells[1])).toEqual(['P-1']);
    expect(p2.cells.map((c) => [c.well, c.value, c.sample])).toEqual([['A1', '0,3', 'S-1'], ['A2', '', 'S-2']]);
    expect(p2.preamble.map((l) => l.cells[1])).toEqual(['P-2', 'P-1']);
    expect(evs.filter((e) => e.kind === 'grid').map((e) => e.kind === 'grid' && [e.info.kind, e.info.label, e.info.lines, e.info.rows, e.info.columns])).toEqual([
      ['samples', 'Layout', [2, 4], 1, 2],
      ['values', 'Results', [5, 7], 1, 2],
      ['values', 'Results', [10, 11], 1, 2],
    ]);
  });

  it('plate markers group several values grids (one per wavelength) with one layout', () => {
    const evs = split({ plate: '^Plate \\d+$', values: { after: '^OD' }, samples: { after: '^Layout' } }, [
      'Plate 1', 'OD450', ';1', 'A;1,0', 'B;2,0', 'OD620', ';1', 'A;0,1', 'B;0,2', 'Layout', ';1', 'A;S-1', 'B;S-2',
      'Plate 2', 'OD450', ';1', 'A;3,0',
    ]);
    const ps = plates(evs);
    expect(ps.map((p) => [p.info.plate, p.info.label, p.cells.map((c) => `${c.well}=${c.value}@${c.sample}`).join(' ')])).toEqual([
      ['Plate 1', 'OD450', 'A1=1,0@S-1 B1=2,0@S-2'],
      ['Plate 1', 'OD620', 'A1=0,1@S-1 B1=0,2@S-2'],
      ['Plate 2', 'OD450', 'A1=3,0@S-1'],
    ]);
  });

  it('a sample table (well ids as A01, a 1) instead of a layout grid', () => {
    const evs = split({ values: { after: '^Results' }, samples: { table: '^Samples', well: 'Pos', sample: 'Name' } }, [
      'Samples', 'Name;Pos', 'S-1;A01', 'S-2;a 2', '', 'Results', ';1;2', 'A;5;6',
    ]);
    expect(plates(evs)[0].cells.map((c) => `${c.well}=${c.sample}`)).toEqual(['A1=S-1', 'A2=S-2']);
    expect(evs.find((e) => e.kind === 'grid' && e.info.table === true)).toMatchObject({ info: { kind: 'samples', lines: [1, 4], rows: 2 } });
  });

  it('reports lines that do not fit a grid, and a marker without column numbers', () => {
    const evs = split({ values: { after: '^Results' } }, [
      'Results', ';1;2', 'A;1;2', 'A;3;4', 'B;5;6;7', 'C;8;9', '', 'Results', 'no numbers here',
    ]);
    expect(evs.filter((e) => e.kind === 'error').map((e) => e.kind === 'error' && [e.line, e.column ?? null, e.message.slice(0, 30)])).toEqual([
      [4, 1, 'row A appears twice in the gri'],
      [5, 4, 'row B of the grid "Results" ha'],
      [9, null, 'the line after the grid marker'],
    ]);
    expect(plates(evs)[0].cells.map((c) => c.well)).toEqual(['A1', 'A2', 'C1', 'C2']);
  });

  it('refuses a plate beyond the well limit instead of buffering it', () => {
    const s = new GridSplitter({ values: { after: '^Results' } });
    s.push(['Results'], 1);
    s.push(['', ...Array.from({ length: 999 }, (_, i) => String(i + 1))], 2);
    const row = (label: string) => [label, ...Array.from({ length: 999 }, () => '1')];
    const letter = (i: number) => String.fromCharCode(65 + i);
    const labels = Array.from({ length: 60 }, (_, i) => (i < 26 ? letter(i) : letter(Math.floor((i - 26) / 26)) + letter((i - 26) % 26)));
    expect(() => labels.forEach((l, i) => s.push(row(l), 3 + i))).toThrow(/more than 50000 wells/);
  });

  it('a header with a column number twice is not a grid header', () => {
    const evs = split({ values: { after: '^Results' } }, ['Results', ';1;1', 'A;5;6', '', 'Results', ';1;2', 'A;7;8']);
    expect(evs.filter((e) => e.kind === 'error').map((e) => e.kind === 'error' && e.line)).toEqual([2]);
    expect(plates(evs).map((p) => p.cells.map((c) => `${c.well}=${c.value}`).join(' '))).toEqual(['A1=7 A2=8']);
  });

  it('normalizes well ids', () => {
    expect(['A1', 'a01', 'H 12', 'AF-048', 'A', '1A', 'A1B'].map(normalizeWell)).toEqual(['A1', 'A1', 'H12', 'AF48', undefined, undefined, undefined]);
  });
});

const MAPPING = yaml`
  partner: acme
  feed: feed
  match: ["*.csv"]
  dialect: { delimiter: ";" }
  grid:
    values: { after: "^Results" }
    samples: { after: "^Layout" }
  records:
    - emit: test_result
      fields:
        lotNumber: { from: { block: "Lot" }, required: true }
        testCode:  { from: $grid }
        sampleId:  { from: $sample }
        result:    { from: $value }
        replicate: { template: "{$row}-{$column}" }
`;

describe('grid mappings', () => {
  it('mapping test shows the grids found and the block values of each plate', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'grid-'));
    const file = path.join(dir, 'plate.csv');
    writeFileSync(file, ['Lot;L-1', 'Results', ';1;2', 'A;1.5;', 'B;2.5;3.5', '', 'Layout', ';1;2', 'A;S-1;S-1', 'B;S-2;'].join('\n') + '\n');
    const r = await dryRun(compile(MAPPING), specOf(MAPPING), file, { now: new Date('2026-02-05T00:00:00Z') });
    expect(r.grids).toEqual([
      { kind: 'values', label: 'Results', plate: 'Results', lines: [2, 5], rows: 2, columns: 2 },
      { kind: 'samples', label: 'Layout', plate: 'Results', lines: [7, 10], rows: 2, columns: 2 },
    ]);
    expect(r.counts).toEqual({ rows: 4, applied: 2, rejected: 1, filtered: 1, records: 2, errors: 1 });
    expect(r.records.map((x) => [x.line, x.fields.sampleId, x.fields.testCode, x.fields.resultValue, x.fields.replicate])).toEqual([
      [4, 'S-1', 'Results', 1.5, 'A-1'],
      [5, 'S-2', 'Results', 2.5, 'B-1'],
    ]);
    expect(r.errors.map((e) => [e.code, e.line, e.column])).toEqual([['E_GRID_NO_SAMPLE', 5, 3]]);
    expect(r.filteredBy).toEqual([{ reason: 'grid: empty well (no value)', rows: 1 }]);
    expect(r.blocks).toEqual({ Lot: { value: 'L-1', line: 1 } });
  });

  it('load: grid sources only with grid, grid not with sections, marker patterns must compile, samples is a grid or a table', () => {
    const noGrid = load(MAPPING.replace(/grid:\n.*\n.*\n/, ''));
    expect(noGrid.diagnostics.map((d) => d.code)).toEqual(expect.arrayContaining(['E_BAD_SOURCE']));
    expect(noGrid.diagnostics.find((d) => d.code === 'E_BAD_SOURCE')!.message).toMatch(/\$grid, which only a mapping with `grid`/);
    const both = load(MAPPING.replace('grid:\n', 'sections: { header: Test }\ngrid:\n'));
    expect(both.diagnostics.map((d) => d.code)).toContain('E_CONFLICTING_SOURCE');
    const badRe = load(MAPPING.replace('"^Results"', '"^(Results"'));
    expect(badRe.diagnostics.map((d) => [d.code, d.line])).toEqual([['E_BAD_REGEX', 6]]);
    const mixed = load(MAPPING.replace('samples: { after: "^Layout" }', 'samples: { after: "^Layout", table: "^Samples" }'));
    expect(mixed.spec).toBeUndefined();
    expect(mixed.diagnostics.map((d) => [d.code, d.line])).toEqual([['E_CONFLICTING_SOURCE', 7]]);
    const neither = load(MAPPING.replace('samples: { after: "^Layout" }', 'samples: { well: Pos }'));
    expect(neither.diagnostics.map((d) => [d.code, d.severity])).toEqual([['E_MISSING_KEY', 'error'], ['W_UNUSED_OPTION', 'warning']]);
    const noValues = load(MAPPING.replace('values: { after: "^Results" }', 'value: { after: "^Results" }'));
    expect(noValues.diagnostics.map((d) => d.code)).toContain('E_UNKNOWN_KEY');
  });
});

describe('grid mappings on an Excel workbook', () => {
  it('format xlsx: the plate grid and its layout are read from the sheet like from a CSV file', async () => {
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Plate');
    ws.addRow(['Lot', 'L-7']);
    ws.addRow(['Results']);
    ws.addRow([null, 1, 2]);
    ws.addRow(['A', 0.5, 0.25]);
    ws.addRow([]);
    ws.addRow(['Layout']);
    ws.addRow([null, 1, 2]);
    ws.addRow(['A', 'S-1', 'S-2']);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'grid-'));
    const file = path.join(dir, 'plate.xlsx');
    await wb.xlsx.writeFile(file);
    const mapping = MAPPING.replace('dialect: { delimiter: ";" }', 'format: xlsx');
    const r = await dryRun(compile(mapping), specOf(mapping), file, { now: new Date('2026-02-05T00:00:00Z') });
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.line, x.fields.sampleId, x.fields.resultValue, x.fields.lotNumber])).toEqual([
      [4, 'S-1', 0.5, 'L-7'],
      [4, 'S-2', 0.25, 'L-7'],
    ]);
    expect(r.grids?.map((g) => [g.kind, g.lines])).toEqual([['values', [2, 4]], ['samples', [6, 8]]]);
  });
});

describe('GridSplitter row labels', () => {
  it('two-letter rows only after Z: a block line right under a grid ends it', () => {
    const evs = split({ values: { after: '^Results' } }, ['Results', ';1', 'A;1', 'H;2', 'ID;P-7']);
    const [p] = plates(evs);
    expect(p.cells.map((c) => c.well)).toEqual(['A1', 'H1']);
    expect(p.preamble.map((l) => l.cells.join(';'))).toEqual(['ID;P-7']);
    const big = split({ values: { after: '^Results' } }, ['Results', ';1', 'Y;1', 'Z;2', 'AA;3', 'AF;4']);
    expect(plates(big)[0].cells.map((c) => c.well)).toEqual(['Y1', 'Z1', 'AA1', 'AF1']);
  });
});

describe('GridSplitter over many plates', () => {
  it('keeps the file\'s head block in reach of every plate, carrying the newest line per label', () => {
    const lines = ['Lot:;L-1', 'Assay:;IL6'];
    for (let p = 1; p <= 1500; p++) lines.push(`Plate ${p}`, `Note ${p};x`, `Read at:;t${p}`, 'Results', ';1', 'A;1', '');
    const s = new GridSplitter({ plate: '^Plate \\d+$', values: { after: '^Results' } });
    let last: Extract<GridEvent, { kind: 'plate' }> | undefined;
    lines.forEach((l, i) => {
      for (const e of s.push(l.split(';'), i + 1)) if (e.kind === 'plate') last = e;
    });
    for (const e of s.end()) if (e.kind === 'plate') last = e;
    const firsts = last!.preamble.map((l) => l.cells[0]);
    expect(firsts.slice(0, 3)).toEqual(['Plate 1500', 'Note 1500', 'Read at:']);
    expect(firsts.slice(-2)).toEqual(['Lot:', 'Assay:']);
    expect(last!.preamble.length).toBeLessThanOrEqual(1000 + 2 + 3);
    expect(firsts.filter((f) => f === 'Read at:')).toHaveLength(2); // this plate's own, and the newest carried one
  });
});
