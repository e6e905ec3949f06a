// Excel workbooks (.xlsx), streamed with exceljs's WorkbookReader: one sheet's rows as cell
// texts, in the same items as the CSV reader (preamble, header, rows, ragged-row errors), so a
// mapping reads a workbook with the same field language. Numbers come as numbers ("12.5", never
// as displayed), dates as ISO text (Excel serials of either date system; date-formatted cells
// only), formulas as their cached result. Legacy .xls is refused.
// Merged cells: a merged range gives its (top-left) value to every cell it covers, in the header
// and in data rows alike; with xlsx.headerRows: 2 the two header rows are joined per column
// ("Assay" merged over "Result" and "Units" → "Assay Result", "Assay Units").
// Every ZIP entry is inflated once and counted before the parser runs (zip-scan.ts).

import { open } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { FileError } from '../model/types.js';
import type { CsvDialect, XlsxOptions } from '../mapping/spec.js';
import type { CsvItem } from './csv-reader.js';
import { scanZip, type MergeRange } from './zip-scan.js';

/** Excel's own sheet limits: a row or column beyond them is not a workbook Excel wrote. */
export const EXCEL_MAX_ROWS = 1_048_576;
export const EXCEL_MAX_COLUMNS = 16_384;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** An Excel date (wall time, stored as UTC by exceljs) as yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss. */
export function excelDateText(d: Date): string {
  // Serials carry float noise: round to the second.
  const r = new Date(Math.round(d.getTime() / 1000) * 1000);
  const date = `${r.getUTCFullYear()}-${pad(r.getUTCMonth() + 1)}-${pad(r.getUTCDate())}`;
  if (r.getUTCHours() === 0 && r.getUTCMinutes() === 0 && r.getUTCSeconds() === 0) return date;
  return `${date}T${pad(r.getUTCHours())}:${pad(r.getUTCMinutes())}:${pad(r.getUTCSeconds())}`;
}

/** One cell value (as exceljs gives it) as text. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  // Excel keeps 15 significant digits: 0.1+0.2 is 0.3 there, not 0.30000000000000004.
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(15))) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : excelDateText(v);
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('result' in o || 'formula' in o || 'sharedFormula' in o) return cellText(o.result);
    if (Array.isArray(o.richText)) return (o.richText as { text?: string }[]).map((t) => t.text ?? '').join('');
    if ('text' in o) return cellText(o.text);
    if ('error' in o) return String(o.error);
  }
  return String(v);
}

/** Whether the file holds `text` in UTF-16LE (read in 64 KiB chunks; bounded memory). */
async function holdsUtf16(fh: import('node:fs/promises').FileHandle, text: string): Promise<boolean> {
  const needle = Buffer.from(text, 'utf16le');
  const chunk = Buffer.alloc(64 * 1024 + needle.length);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
    if (bytesRead <= 0) return false;
    if (chunk.subarray(0, bytesRead).includes(needle)) return true;
    if (bytesRead < chunk.length) return false;
    pos += 64 * 1024;
  }
}

/** Fills merged ranges: each cell a range covers takes the range's top-left value. */
class MergeFill {
  private readonly ranges: MergeRange[];
  private next = 0;
  private active: { r: MergeRange; value: string }[] = [];
  constructor(ranges: MergeRange[]) {
    this.ranges = [...ranges].sort((a, b) => a.top - b.top);
  }
  get empty(): boolean {
    return this.ranges.length === 0;
  }
  apply(line: number, values: string[]): void {
    this.active = this.active.filter((a) => a.r.bottom >= line);
    while (this.next < this.ranges.length && this.ranges[this.next].top <= line) {
      const r = this.ranges[this.next++];
      if (r.bottom >= line) this.active.push({ r, value: r.top === line ? values[r.left - 1] ?? '' : '' });
    }
    for (const a of this.active) {
      if (a.r.right > EXCEL_MAX_COLUMNS) continue;
      for (let c = a.r.left; c <= a.r.right; c++) {
        while (values.length < c) values.push('');
        values[c - 1] = a.value;
      }
    }
  }
}

/** Two or more header rows joined per column: the parts that are not empty, repeats dropped. */
export function joinHeaderRows(rows: string[][]): string[] {
  const width = Math.max(0, ...rows.map((r) => r.length));
  const out: string[] = [];
  for (let c = 0; c < width; c++) {
    const parts: string[] = [];
    for (const r of rows) {
      const t = (r[c] ?? '').trim();
      if (t !== '' && parts[parts.length - 1] !== t) parts.push(t);
    }
    out.push(parts.join(' '));
  }
  return out;
}

async function checkSignature(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 0);
    if (bytesRead >= 8 && buf.equals(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))) {
      // A password-protected .xlsx is an OLE2 container too, holding an "EncryptedPackage" stream.
      if (await holdsUtf16(fh, 'EncryptedPackage')) {
        throw new FileError('E_XLSX_ENCRYPTED', 'The workbook is protected with a password (encrypted), so it cannot be read. Remove the password in Excel (File > Info > Protect Workbook > Encrypt with Password: empty), save it as .xlsx and send it again.');
      }
      throw new FileError('E_XLS_LEGACY', 'The file is a legacy Excel 97-2003 workbook (.xls), which is not read. Save it as Excel Workbook (.xlsx) or as CSV and send it again.');
    }
    if (bytesRead < 4 || buf[0] !== 0x50 || buf[1] !== 0x4b) {
      throw new FileError('E_XLSX_INVALID', 'The file is not an Excel .xlsx workbook (no ZIP signature). Send the workbook as saved by Excel, or a CSV file.');
    }
  } finally {
    await fh.close();
  }
}

/**
 * The rows of one sheet as CSV items. `sheet`: a name (case-insensitive) or a 1-based index
 * counting visible sheets; default the first visible sheet. With `raw`, every row (blank rows
 * included, as [""]) is a 'row' item and headerRow is not used (for sections).
 */
export async function* readXlsx(path: string, opts: XlsxOptions = {}, dialect: CsvDialect = {}, mode: { raw?: boolean; preamble?: boolean } = {}): AsyncGenerator<CsvItem> {
  await checkSignature(path);
  const headerRows = mode.raw ? 1 : Math.max(1, opts.headerRows ?? 1);
  const scan = await scanZip(path, { mergeRowsUpTo: EXCEL_MAX_ROWS });
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  const wanted = opts.sheet;
  const seen: string[] = [];
  let visible = 0;
  let found = false;
  const headerRow = mode.raw ? 1 : dialect.headerRow ?? 1;
  const skipEmpty = dialect.skipEmptyRows ?? true;
  const trim = dialect.trim ?? true;
  try {
    for await (const ws of reader as AsyncIterable<ExcelJS.stream.xlsx.WorksheetReader & { name: string; state?: string }>) {
      const name = ws.name;
      const hidden = ws.state !== undefined && ws.state !== 'visible';
      seen.push(hidden ? `${name} (hidden)` : name);
      if (!hidden) visible++;
      const match = typeof wanted === 'string' ? name.trim().toLowerCase() === wanted.trim().toLowerCase() : !hidden && visible === (wanted ?? 1);
      if (found || !match) {
        // Not this sheet: drain it so the stream moves on.
        for await (const _row of ws) void _row;
        continue;
      }
      found = true;
      const part = scan.sheetParts.get(name);
      const merges = new MergeFill(part === undefined ? [] : scan.merges.get(part) ?? []);
      const headerParts: string[][] = [];
      let width = -1;
      let last = 0;
      for await (const row of ws as AsyncIterable<ExcelJS.Row>) {
        const line = row.number;
        if (!(line >= 1 && line <= EXCEL_MAX_ROWS) || row.cellCount > EXCEL_MAX_COLUMNS) {
          if (!Number.isFinite(line)) throw new FileError('E_XLSX_INVALID', `The sheet "${name}" has a row without a row number, which Excel always writes. Open the workbook in Excel, save it as .xlsx and send it again.`);
          throw new FileError('E_XLSX_INVALID', `The sheet "${name}" has a row ${line} with ${row.cellCount} columns, beyond Excel's limits (${EXCEL_MAX_ROWS} rows, ${EXCEL_MAX_COLUMNS} columns): Excel did not write it. Save the workbook again in Excel and send it again.`, line);
        }
        const raw = row.values as unknown[];
        const values: string[] = [];
        for (let i = 1; i < raw.length; i++) {
          const t = cellText(raw[i]);
          values.push(trim ? t.trim() : t);
        }
        if (!merges.empty) merges.apply(line, values);
        if (mode.raw) {
          for (let l = last + 1; l < line; l++) yield { kind: 'row', line: l, values: [''] };
          last = line;
          yield { kind: 'row', line, values: values.length === 0 ? [''] : values };
          continue;
        }
        if (line < headerRow) {
          if (mode.preamble) yield { kind: 'preamble', line, text: '', cells: values };
          continue;
        }
        const empty = values.every((v) => v.trim() === '');
        if (empty && (skipEmpty || width < 0)) continue;
        if (width < 0) {
          headerParts.push(values);
          if (headerParts.length < headerRows) continue;
          const header = headerRows === 1 ? values : joinHeaderRows(headerParts);
          while (header.length > 0 && header[header.length - 1].trim() === '') header.pop();
          width = header.length;
          yield { kind: 'header', line: line - headerRows + 1, values: header };
          continue;
        }
        // Excel leaves trailing empty cells out: pad; text beyond the header is a ragged row.
        const extra = values.slice(width).some((v) => v.trim() !== '');
        if (extra) {
          yield { kind: 'error', line, code: 'E_RAGGED_ROW', message: `Expected ${width} columns (as in the header), found a value in column ${values.length}. Remove the value or add a header for it.` };
          continue;
        }
        values.length = width;
        for (let i = 0; i < width; i++) values[i] ??= '';
        yield { kind: 'row', line, values };
      }
    }
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError('E_XLSX_INVALID', `The workbook cannot be read (${(e as Error).message}). Open it in Excel, save it as .xlsx and send it again, or send a CSV file.`);
  }
  if (!found) {
    const what = wanted === undefined ? 'a visible sheet' : typeof wanted === 'string' ? `a sheet named "${wanted}"` : `visible sheet number ${wanted}`;
    throw new FileError('E_XLSX_SHEET', `The workbook has no ${what}; its sheets are: ${seen.join(', ') || '(none)'}. Fix xlsx.sheet in the mapping, or send the workbook with that sheet.`);
  }
}
