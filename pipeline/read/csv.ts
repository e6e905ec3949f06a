// CSV for spreadsheets. A cell starting with = + - @ (or a tab / carriage return) is a formula
// to Excel and LibreOffice ("CSV injection"): such cells get a leading apostrophe, so a partner's
// lot number like `=HYPERLINK(…)` is shown as text, never run.

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n']/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
