// Excel workbooks end to end through `lotgate ingest`: the CMO workbook of fixtures/shapes
// (merged two-row header, numbers stored vs displayed, date serials, a cached formula result)
// applied as ACME's batch-status feed; hostile workbooks each end in a terminal state with their
// code, the process stays up and memory stays bounded.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { createLotgate } from '../../pipeline/lotgate.js';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { compile, specOf } from '../mapping/helpers.js';
import { copyUp, root, world, type World } from './helpers.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const WORKBOOK_MAPPING = readFileSync(path.join(root, 'fixtures/shapes/cmo-workbook.yaml'), 'utf8');
const asBatchStatus = (): string => WORKBOOK_MAPPING;

/** A minimal workbook written by hand: one sheet, its XML as given (for what exceljs never writes). */
export async function rawWorkbook(sheetXml: string | Buffer, extra: Record<string, string | Buffer> = {}): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>');
  zip.file('_rels/.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>');
  zip.file('xl/workbook.xml', '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Chargen" sheetId="1" r:id="rId1"/></sheets></workbook>');
  zip.file('xl/_rels/workbook.xml.rels', '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>');
  zip.file('xl/worksheets/sheet1.xml', sheetXml);
  for (const [name, body] of Object.entries(extra)) zip.file(name, body);
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
}

export const SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';
export const sheet = (rows: string): string => `${SHEET_HEAD}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData></worksheet>`;

/** Rewrites the declared uncompressed size of `entry` (local header and directory) to `size`. */
export function lieAboutSize(zip: Buffer, entry: string, size: number): Buffer {
  const out = Buffer.from(zip);
  const name = Buffer.from(entry);
  for (let i = 0; i < out.length - 46; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50 && out.subarray(i + 30, i + 30 + name.length).equals(name)) out.writeUInt32LE(size, i + 22);
    if (sig === 0x02014b50 && out.subarray(i + 46, i + 46 + name.length).equals(name)) out.writeUInt32LE(size, i + 24);
  }
  return out;
}

/** Sets the "encrypted" flag on every entry (local headers and directory). */
export function flagEncrypted(zip: Buffer): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i < out.length - 46; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50) out.writeUInt16LE(out.readUInt16LE(i + 6) | 1, i + 6);
    if (sig === 0x02014b50) out.writeUInt16LE(out.readUInt16LE(i + 8) | 1, i + 8);
  }
  return out;
}

describe('the CMO workbook through lotgate ingest', () => {
  it('fixtures/shapes/cmo-workbook.xlsx is applied as ACME batch status: stage events and packed lots', async () => {
    w = await world({ 'acme-cmo/batch-status.yaml': asBatchStatus });
    const file = copyUp(w.dir, path.join(root, 'fixtures/shapes/cmo-workbook.xlsx'), 'Chargenstatus_20261119.xlsx');
    const [r] = await ingestFiles(w.lg, 'acme-cmo', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 5, applied: 5, rejected: 0, filtered: 0 });
  });
});

describe('hostile workbooks through lotgate ingest: a code each, a terminal state, bounded memory', () => {
  const cases: [string, () => Promise<Buffer>, string][] = [
    ['a legacy .xls (OLE2) named .xlsx', async () => Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(4096)]), 'E_XLS_LEGACY'],
    ['a password-protected workbook (OLE2 with an EncryptedPackage)', async () => Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(2048), Buffer.from('EncryptedInfo\0EncryptedPackage', 'utf16le'), Buffer.alloc(2048)]), 'E_XLSX_ENCRYPTED'],
    ['a ZIP whose entries carry the encryption flag', async () => flagEncrypted(await rawWorkbook(sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Charge</t></is></c></row>'))), 'E_XLSX_ENCRYPTED'],
    ['a CSV file named .xlsx', async () => Buffer.from('Charge;Menge\nAC-24117;1\n'), 'E_XLSX_INVALID'],
    ['a cut-off workbook', async () => (await rawWorkbook(sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Charge</t></is></c></row>'))).subarray(0, 300), 'E_XLSX_INVALID'],
    ['a zip bomb declared honestly (40 MiB of zeros)', async () => rawWorkbook(Buffer.alloc(40 * 1024 * 1024)), 'E_XLSX_TOO_LARGE'],
    ['a zip bomb whose directory lies about the size', async () => lieAboutSize(await rawWorkbook(sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Charge</t></is></c></row>' + ' '.repeat(40 * 1024 * 1024))), 'xl/worksheets/sheet1.xml', 1000), 'E_XLSX_TOO_LARGE'],
    ['external entities in the sheet XML', async () => rawWorkbook(`${SHEET_HEAD}<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>`), 'E_XLSX_DOCTYPE'],
    ['a billion laughs in the shared strings', async () => rawWorkbook(sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), { 'xl/sharedStrings.xml': `${SHEET_HEAD}<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&c;</t></si></sst>` }), 'E_XLSX_DOCTYPE'],
    ['a row wider than Excel allows', async () => rawWorkbook(sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Charge</t></is></c><c r="ZZZ1" t="inlineStr"><is><t>x</t></is></c></row>')), 'E_XLSX_INVALID'],
    ['a row number beyond Excel\'s last row', async () => rawWorkbook(sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>Charge</t></is></c></row><row r="99999999"><c r="A99999999" t="inlineStr"><is><t>x</t></is></c></row>')), 'E_XLSX_INVALID'],
  ];

  it.each(cases)('%s', async (_name, make, code) => {
    w ??= await world({ 'acme-cmo/batch-status.yaml': asBatchStatus });
    const file = path.join(w.dir, 'up', `Chargenstatus_${code}_${Math.random().toString(36).slice(2)}.xlsx`);
    writeFileSync(file, await make());
    const before = process.memoryUsage().rss;
    const [r] = await ingestFiles(w.lg, 'acme-cmo', [file]);
    const grown = process.memoryUsage().rss - before;
    expect(r.state).toBe('rejected');
    expect(r.ack.errors.map((e) => e.code)).toEqual([code]);
    expect(r.ack.counts).toMatchObject({ applied: 0 });
    // Loose: nothing near the inflated size (40 MiB and more) stays resident.
    expect(grown).toBeLessThan(200 * 1024 * 1024);
  });
});

describe('a workbook beyond the feed\'s row limit', () => {
  it('is rejected whole with E_TOO_MANY_ROWS, nothing applied', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-xlsx-limit-'));
    const mappingsDir = path.join(dir, 'mappings');
    cpSync(path.join(root, 'mappings'), mappingsDir, { recursive: true });
    writeFileSync(path.join(mappingsDir, 'acme-cmo/batch-status.yaml'), WORKBOOK_MAPPING);
    const config = loadConfig({ configPath: path.join(root, 'config.yaml'), dataDir: dir, env: {} });
    const lg = await createLotgate({ ...config, ingest: { ...config.ingest, limits: { maxRows: 3 } }, mappingsDir, dropDir: path.join(dir, 'drop') }, { now: () => new Date('2026-11-20T12:00:00Z'), log: pino({ level: 'silent' }) });
    try {
      mkdirSync(path.join(dir, 'up'));
      const file = copyUp(dir, path.join(root, 'fixtures/shapes/cmo-workbook.xlsx'), 'Chargenstatus_20261119.xlsx');
      const [r] = await ingestFiles(lg, 'acme-cmo', [file]);
      expect(r.state).toBe('rejected');
      expect(r.ack.errors.map((e) => e.code)).toEqual(['E_TOO_MANY_ROWS']);
      expect(r.ack.counts.applied).toBe(0);
    } finally {
      await lg.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what a workbook may hold and still be read', () => {
  it('inline strings, shared strings, empty rows and a macro project (never run) in an .xlsm-like file', async () => {
    w = await world({ 'acme-cmo/batch-status.yaml': asBatchStatus });
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Chargen');
    ws.addRow(['Werk:', 'Lörrach']);
    ws.addRow([]);
    ws.addRow([]);
    ws.addRow(['Charge', 'Prozess', null, 'Zeitpunkt', 'Menge', null, 'Verfall', 'Bemerkung']);
    ws.addRow([null, 'Schritt', 'Status', null, 'Wert', 'Einheit', null, null]);
    ws.mergeCells('B4:C4');
    ws.mergeCells('E4:F4');
    ws.addRow([]);
    ws.addRow(['AC-24117', 'Verpackung', 'abgeschlossen', new Date(Date.UTC(2026, 9, 15, 16, 45)), 239850, 'Stk', new Date(Date.UTC(2029, 8, 30)), null]);
    const zip = await JSZip.loadAsync(await wb.xlsx.writeBuffer());
    zip.file('xl/vbaProject.bin', Buffer.from('Attribute VB_Name = "Module1"\nSub Auto_Open()\nEnd Sub\n'));
    const file = path.join(w.dir, 'up', 'Chargenstatus_20261119.xlsx');
    writeFileSync(file, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
    const [r] = await ingestFiles(w.lg, 'acme-cmo', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.ack.counts).toMatchObject({ rows: 1, applied: 1 });
  });

  it('a workbook written by another tool: inline strings, a cached formula result (never evaluated), rows with gaps', async () => {
    w ??= await world({ 'acme-cmo/batch-status.yaml': asBatchStatus });
    const is = (ref: string, t: string): string => `<c r="${ref}" t="inlineStr"><is><t>${t}</t></is></c>`;
    const rows = [
      `<row r="1">${is('A1', 'Werk:')}${is('B1', 'Lörrach')}</row>`,
      `<row r="4">${is('A4', 'Charge')}${is('B4', 'Prozess')}${is('D4', 'Zeitpunkt')}${is('E4', 'Menge')}${is('G4', 'Verfall')}${is('H4', 'Bemerkung')}</row>`,
      `<row r="5">${is('B5', 'Schritt')}${is('C5', 'Status')}${is('E5', 'Wert')}${is('F5', 'Einheit')}</row>`,
      // The formula would give 2; its cached value 239850 is what Excel showed, and is read.
      `<row r="9">${is('A9', 'AC-24117')}${is('B9', 'Verpackung')}${is('C9', 'abgeschlossen')}${is('D9', '2026-10-15T16:45:00')}<c r="E9"><f>1+1</f><v>239850</v></c>${is('F9', 'Stk')}${is('G9', '2029-09-30')}</row>`,
    ].join('');
    const xml = `${SHEET_HEAD}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData><mergeCells count="2"><mergeCell ref="B4:C4"/><mergeCell ref="E4:F4"/></mergeCells></worksheet>`;
    const file = path.join(w.dir, 'up', 'Chargenstatus_20261120.xlsx');
    writeFileSync(file, await rawWorkbook(xml));
    const [r] = await ingestFiles(w.lg, 'acme-cmo', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.ack.counts).toMatchObject({ rows: 1, applied: 1 });
    const dry = await dryRun(compile(WORKBOOK_MAPPING), specOf(WORKBOOK_MAPPING), file, { now: new Date('2026-11-20T12:00:00Z') });
    expect(dry.records.filter((x) => x.kind === 'lot').map((x) => x.fields.quantity)).toEqual([239850]);
  });
});
