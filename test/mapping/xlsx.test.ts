// Excel workbooks: format xlsx reads one sheet with the same field language as CSV — title rows,
// key/value blocks, numbers as stored (not as displayed), date cells, cached formula results,
// sheet choice by name or number; legacy .xls and non-workbooks are refused with codes.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { checkZip, DEFAULT_ZIP_LIMITS } from '../../pipeline/parse/zip-guard.js';
import { compile, load, specOf, yaml } from './helpers.js';

const NOW = new Date('2026-02-05T00:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'lotgate-xlsx-'));

/** A typical CMO workbook: a hidden helper sheet first, then the report with title rows. */
async function cmoWorkbook(opts: { date1904?: boolean } = {}): Promise<string> {
  const wb = new ExcelJS.Workbook();
  if (opts.date1904) wb.properties.date1904 = true;
  const helper = wb.addWorksheet('Lists');
  helper.state = 'hidden';
  helper.addRow(['not', 'data']);
  const ws = wb.addWorksheet('Chargen');
  ws.addRow(['Chargenstatus Werk Lörrach']);
  ws.addRow(['Auftraggeber:', 'Northwind']);
  ws.addRow([]);
  ws.addRow(['Charge', 'Menge', 'Verfall', 'Zeitpunkt', 'Menge x2']);
  const rows: [string, number, Date, Date][] = [
    ['AC-1', 239850.5, new Date(Date.UTC(2028, 11, 31)), new Date(Date.UTC(2026, 0, 15, 8, 30))],
    ['AC-2', 1200, new Date(Date.UTC(2029, 5, 30)), new Date(Date.UTC(2026, 0, 16, 14, 5, 30))],
  ];
  for (const [i, r] of rows.entries()) {
    const row = ws.addRow([...r, { formula: `B${5 + i}*2`, result: r[1] * 2 }]);
    row.getCell(2).numFmt = '#.##0,00'; // displayed German-style; stored as a number
    row.getCell(3).numFmt = 'dd.mm.yyyy';
    row.getCell(4).numFmt = 'dd.mm.yyyy hh:mm';
  }
  const path = join(dir, `Chargen_${opts.date1904 ? '1904' : '1900'}.xlsx`);
  await wb.xlsx.writeFile(path);
  return path;
}

const MAPPING = yaml`
  partner: acme-cmo
  feed: batches
  format: xlsx
  match: ["Chargen_*.xlsx"]
  xlsx: { sheet: Chargen }
  dialect: { headerRow: 4 }
  records:
    - emit: lot
      fields:
        batch:      { from: Charge, xref: cmo_batch, required: true }
        vendor:     { from: { block: "Auftraggeber" } }
        quantity:   { from: Menge }
        expiryDate: { from: Verfall, type: date, format: yyyy-MM-dd }
        site:       { from: "Menge x2" }
    - emit: stage_event
      fields:
        batch:     { from: Charge, xref: cmo_batch, required: true }
        stage:     { const: packaging }
        status:    { const: completed }
        eventTime: { from: Zeitpunkt, format: ["yyyy-MM-dd'T'HH:mm:ss", yyyy-MM-dd], tz: Europe/Berlin }
`;

async function run(mapping: string, file: string) {
  return dryRun(compile(mapping), specOf(mapping), file, { now: NOW });
}

describe('format xlsx', () => {
  it('reads the named sheet past its title rows: numbers as stored, date cells as dates, block values, cached formula results', async () => {
    const r = await run(MAPPING, await cmoWorkbook());
    expect(r.errors).toEqual([]);
    expect(r.counts).toMatchObject({ rows: 2, applied: 2, rejected: 0 });
    const lots = r.records.filter((x) => x.kind === 'lot');
    expect(lots.map((x) => [x.ids[0].value, x.fields.quantity, x.fields.expiryDate, x.fields.vendor, x.fields.site])).toEqual([
      ['AC-1', 239850.5, '2028-12-31', 'Northwind', '479701'],
      ['AC-2', 1200, '2029-06-30', 'Northwind', '2400'],
    ]);
    const events = r.records.filter((x) => x.kind === 'stage_event').map((x) => x.fields.eventTime);
    expect(events).toEqual(['2026-01-15T07:30:00.000Z', '2026-01-16T13:05:30.000Z']);
  });

  it('cell texts: numbers to 15 significant digits as Excel keeps them, formulas by cached result, rich text joined, errors as their code', async () => {
    const { cellText } = await import('../../pipeline/parse/xlsx-reader.js');
    expect(cellText(0.1 + 0.2)).toBe('0.3');
    expect(cellText(239850.5)).toBe('239850.5');
    expect(cellText({ formula: 'A1*2', result: 4 })).toBe('4');
    expect(cellText({ richText: [{ text: 'AC-' }, { text: '1' }] })).toBe('AC-1');
    expect(cellText({ error: '#N/A' })).toBe('#N/A');
    expect(cellText(new Date(Date.UTC(2026, 0, 15, 8, 29, 59, 999)))).toBe('2026-01-15T08:30:00');
    expect(cellText(true)).toBe('true');
  });

  it('the 1904 date system gives the same dates', async () => {
    const r = await run(MAPPING, await cmoWorkbook({ date1904: true }));
    expect(r.errors).toEqual([]);
    expect(r.records.filter((x) => x.kind === 'lot').map((x) => x.fields.expiryDate)).toEqual(['2028-12-31', '2029-06-30']);
  });

  it('sheet by number counts visible sheets; a missing sheet is E_XLSX_SHEET listing the sheets', async () => {
    const file = await cmoWorkbook();
    const byNumber = await run(MAPPING.replace('sheet: Chargen', 'sheet: 1'), file);
    expect(byNumber.counts.applied).toBe(2);
    const missing = await run(MAPPING.replace('sheet: Chargen', 'sheet: Batches'), file);
    expect(missing.errors).toEqual([expect.objectContaining({ code: 'E_XLSX_SHEET' })]);
    expect(missing.errors[0].message).toContain('Lists (hidden), Chargen');
  });

  it('refuses legacy .xls and files that are not workbooks', async () => {
    const xls = join(dir, 'Chargen_old.xlsx');
    writeFileSync(xls, Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]));
    expect((await run(MAPPING, xls)).errors).toEqual([expect.objectContaining({ code: 'E_XLS_LEGACY' })]);
    const csv = join(dir, 'Chargen_csv.xlsx');
    writeFileSync(csv, 'Charge;Menge\nAC-1;1\n');
    expect((await run(MAPPING, csv)).errors).toEqual([expect.objectContaining({ code: 'E_XLSX_INVALID' })]);
  });

  it('hostile workbooks: a zip bomb and too many entries are refused from the ZIP directory, before anything is inflated', async () => {
    const JSZip = (await import('jszip')).default;
    const zip = new JSZip();
    zip.file('[Content_Types].xml', '<Types/>');
    zip.file('xl/worksheets/sheet1.xml', Buffer.alloc(20 * 1024 * 1024)); // 20 MiB of zeros: ~1000-fold
    const bombPath = join(dir, 'Chargen_bomb.xlsx');
    writeFileSync(bombPath, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } }));
    const r = await run(MAPPING, bombPath);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_XLSX_TOO_LARGE' })]);
    expect(r.errors[0].message).toMatch(/xl\/worksheets\/sheet1\.xml would expand \d+-fold/);
    const many = new JSZip();
    for (let i = 0; i < 50; i++) many.file(`x/${i}.xml`, '<a/>');
    const manyPath = join(dir, 'many.xlsx');
    writeFileSync(manyPath, await many.generateAsync({ type: 'nodebuffer' }));
    await expect(checkZip(manyPath, { ...DEFAULT_ZIP_LIMITS, maxEntries: 40 })).rejects.toMatchObject({ code: 'E_XLSX_TOO_LARGE' });
    await expect(checkZip(manyPath, { ...DEFAULT_ZIP_LIMITS, maxUncompressedBytes: 100 })).rejects.toMatchObject({ code: 'E_XLSX_TOO_LARGE' });
    await expect(checkZip(manyPath)).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ name: 'x/49.xml', uncompressed: 4 })]));
  });

  it('mapping check knows format xlsx and its sheet option', () => {
    expect(load(MAPPING).diagnostics).toEqual([]);
    expect(load(MAPPING.replace('sheet: Chargen', 'sheet: Chargen, sheets: 2')).diagnostics.length).toBeGreaterThan(0);
  });
});
