// Merged cells and multi-row headers of Excel sheets, and the ZIP facts read before parsing.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { joinHeaderRows, readXlsx } from '../../pipeline/parse/xlsx-reader.js';
import { cellRef, scanZip, sheetPartsOf } from '../../pipeline/parse/zip-scan.js';
import type { CsvItem } from '../../pipeline/parse/csv-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'lotgate-merges-'));

async function items(path: string, headerRows = 1, headerRow = 1): Promise<CsvItem[]> {
  const out: CsvItem[] = [];
  for await (const it of readXlsx(path, { headerRows }, { headerRow })) out.push(it);
  return out;
}

describe('merged cells', () => {
  it('a merged label in a one-row header is repeated over its columns; merged data cells fill their range', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('S');
    ws.addRow(['Charge', 'Assay', null, 'Datum']);
    ws.mergeCells('B1:C1');
    ws.addRow(['AC-1', 99.5, '%', 'x']);
    ws.addRow([null, 98.1, '%', 'y']);
    ws.mergeCells('A2:A3');
    const path = join(dir, 'one-row.xlsx');
    await wb.xlsx.writeFile(path);
    const got = await items(path);
    expect(got).toEqual([
      { kind: 'header', line: 1, values: ['Charge', 'Assay', 'Assay', 'Datum'] },
      { kind: 'row', line: 2, values: ['AC-1', '99.5', '%', 'x'] },
      { kind: 'row', line: 3, values: ['AC-1', '98.1', '%', 'y'] },
    ]);
  });

  it('headerRows: 2 joins a group row over a label row; vertical merges are not doubled', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('S');
    ws.addRow(['Report']);
    ws.addRow(['Charge', 'Assay', null]);
    ws.addRow([null, 'Result', 'Units']);
    ws.mergeCells('A2:A3');
    ws.mergeCells('B2:C2');
    ws.addRow(['AC-1', 99.5, '%']);
    const path = join(dir, 'two-rows.xlsx');
    await wb.xlsx.writeFile(path);
    const got = await items(path, 2, 2);
    expect(got[0]).toEqual({ kind: 'header', line: 2, values: ['Charge', 'Assay Result', 'Assay Units'] });
    expect(got[1]).toEqual({ kind: 'row', line: 4, values: ['AC-1', '99.5', '%'] });
  });

  it('joinHeaderRows drops empty parts and repeats', () => {
    expect(joinHeaderRows([['A', 'G', 'G', ''], ['A', 'x', 'y', 'z']])).toEqual(['A', 'G x', 'G y', 'z']);
  });
});

describe('ZIP facts', () => {
  it('cell references and the sheet → part map', async () => {
    expect(cellRef('A1')).toEqual([1, 1]);
    expect(cellRef('$XFD$1048576')).toEqual([1048576, 16384]);
    expect(cellRef('A')).toBeUndefined();
    expect(
      sheetPartsOf(
        '<workbook><sheets><sheet name="A &amp; B" sheetId="3" r:id="rId7"/><x:sheet name="C" r:id="rId2"/></sheets></workbook>',
        '<Relationships><Relationship Id="rId7" Target="worksheets/sheet3.xml"/><Relationship Target="/xl/worksheets/s.xml" Id="rId2"/></Relationships>',
      ),
    ).toEqual(new Map([['A & B', 'xl/worksheets/sheet3.xml'], ['C', 'xl/worksheets/s.xml']]));
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet('Only').addRow(['a', 'b']);
    wb.getWorksheet('Only')!.mergeCells('A1:B1');
    const path = join(dir, 'scan.xlsx');
    await wb.xlsx.writeFile(path);
    const scan = await scanZip(path, { mergeRowsUpTo: 10 });
    expect(scan.sheetParts.get('Only')).toBe('xl/worksheets/sheet1.xml');
    expect(scan.merges.get('xl/worksheets/sheet1.xml')).toEqual([{ top: 1, left: 1, bottom: 1, right: 2 }]);
  });
});

describe('merged ranges across inflate chunks', () => {
  it('every merge of a long sheet is found once, wherever the chunks split', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('S');
    for (let r = 1; r <= 3000; r++) ws.addRow([`v${r}`, null, 'x'.repeat(40)]);
    for (let r = 1; r <= 3000; r += 2) ws.mergeCells(`A${r}:B${r + 1}`);
    const path = join(dir, 'many-merges.xlsx');
    await wb.xlsx.writeFile(path);
    const scan = await scanZip(path, { mergeRowsUpTo: 1_048_576 });
    const merges = scan.merges.get('xl/worksheets/sheet1.xml') ?? [];
    expect(merges.length).toBe(1500);
    expect(new Set(merges.map((m) => `${m.top}:${m.left}`)).size).toBe(1500);
    const got = await items(path, 1, 1);
    expect(got[1]).toEqual({ kind: 'row', line: 2, values: ['v1', 'v1', 'x'.repeat(40)] });
  });
});
