// RFC 4180 CSV writing. A field is quoted when it holds the delimiter, a quote, a line break,
// or either common delimiter (`,` `;`) — spreadsheet users in some locales open files with the
// other one — and quotes inside are doubled. Lines end in CRLF, as RFC 4180 and Excel expect.

export type CsvCell = string | number | boolean | null | undefined;

export interface CsvOptions {
  delimiter?: ',' | ';' | '\t';
  /** Prefix a UTF-8 byte order mark so Excel reads non-ASCII text correctly. */
  bom?: boolean;
}

export function csvField(value: CsvCell, delimiter: string): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  if (text.includes(delimiter) || /[",;\r\n]/.test(text) || text !== text.trim()) {
    return `"${text.replace(/"/g, '""')}"`;
  }
  return text;
}

export function toCsv(columns: string[], rows: CsvCell[][], opts: CsvOptions = {}): string {
  const d = opts.delimiter ?? ',';
  const line = (cells: CsvCell[]) => cells.map((c) => csvField(c, d)).join(d);
  const body = [line(columns), ...rows.map((r) => line(columns.map((_, i) => r[i])))].join('\r\n') + '\r\n';
  return (opts.bom ? '\uFEFF' : '') + body;
}
