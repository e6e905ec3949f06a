// The board as an Excel workbook: the columns of the CSV export, one row per lot. Every value is
// written as a plain value (never a formula), and text that a spreadsheet would read as a formula
// when edited (= + - @, tab, CR) gets the same leading apostrophe as in the CSV.

import ExcelJS from 'exceljs';
import { LOT_CSV_HEADER } from '../read/lots-csv.js';
import type { LotListItem } from '../read/lots.js';

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralise(v: string | null | undefined): string {
  const s = v ?? '';
  return FORMULA_START.test(s) ? `'${s}` : s;
}

export function lotRow(l: LotListItem): string[] {
  return [
    l.lotNumber,
    l.materialId,
    l.materialDescription ?? '',
    l.site ?? '',
    l.vendor ?? '',
    l.poNumber ?? '',
    l.expiryDate ?? '',
    l.readiness?.state ?? '',
    l.readiness ? (l.readiness.late ? 'yes' : 'no') : '',
    [...new Set(l.readiness?.reasons.map((r) => r.code) ?? [])].join(' '),
    l.readiness?.computedAt ?? '',
  ].map(neutralise);
}

export async function lotsXlsx(items: LotListItem[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'lotgate';
  const ws = wb.addWorksheet('lots');
  ws.addRow(LOT_CSV_HEADER).font = { bold: true };
  for (const l of items) ws.addRow(lotRow(l));
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  ws.columns.forEach((c, i) => (c.width = [14, 20, 40, 8, 14, 14, 12, 12, 6, 40, 24][i] ?? 14));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
