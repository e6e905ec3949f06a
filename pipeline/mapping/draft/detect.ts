// The detectors of `lotgate mapping suggest`, each a pure function of the sample's text or
// cells: delimiter and quote, the header row (past title and preamble lines), key/value blocks
// above it, and each column's type (number with its decimal separator, date/datetime with its
// pattern, time, text). Each answer carries a confidence and the reason, which the draft
// mapping prints as a comment for the analyst to check.

import { splitCells } from '../blocks.js';
import { createDateParser } from '../date-format.js';
import { ConvError } from '../values.js';

export type Confidence = 'high' | 'medium' | 'low';

export interface Guess<T> {
  value: T;
  confidence: Confidence;
  why: string;
}

export const DELIMITERS = [',', ';', '\t', '|'] as const;

const nonBlank = (cells: string[]): number => cells.filter((c) => c.trim() !== '').length;

/** Width of a row without its trailing empty cells (Excel pads preamble lines with ";;;"). */
export function trimmedWidth(cells: string[]): number {
  let n = cells.length;
  while (n > 0 && cells[n - 1].trim() === '') n--;
  return n;
}

function mode(xs: number[]): { value: number; count: number } {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best = { value: 0, count: 0 };
  for (const [value, count] of counts) if (count > best.count || (count === best.count && value > best.value)) best = { value, count };
  return best;
}

/** The quote character: `"` when cells start with it, `'` only if it alone is used so. */
export function detectQuote(lines: string[], delimiter: string): Guess<string> {
  const starts = (q: string): number => lines.reduce((n, l) => n + l.split(delimiter).filter((c) => c.trim().startsWith(q) && c.trim().length > 1).length, 0);
  const dq = starts('"');
  const sq = starts("'");
  if (dq > 0) return { value: '"', confidence: 'high', why: `${dq} cell(s) are in double quotes` };
  if (sq > 2) return { value: "'", confidence: 'medium', why: `${sq} cells are in single quotes` };
  return { value: '"', confidence: 'medium', why: 'no quoted cells seen; the usual double quote is kept' };
}

/**
 * The delimiter: the candidate that splits the most lines into the same number (> 1) of
 * columns, counting quoted cells as one. Ties go to the widest table.
 */
export function detectDelimiter(lines: string[]): Guess<string> {
  const content = lines.filter((l) => l.trim() !== '').slice(0, 200);
  let best: { d: string; score: number; width: number; share: number } | undefined;
  for (const d of DELIMITERS) {
    const widths = content.map((l) => trimmedWidth(splitCells(l, d, '"')));
    const m = mode(widths.filter((w) => w > 1));
    const score = m.value > 1 ? m.count : 0;
    if (best === undefined || score > best.score || (score === best.score && m.value > best.width)) best = { d, score, width: m.value, share: content.length === 0 ? 0 : m.count / content.length };
  }
  const name = (d: string): string => (d === '\t' ? 'tab' : `"${d}"`);
  if (best === undefined || best.score === 0) return { value: ',', confidence: 'low', why: 'no delimiter splits the lines into columns; "," assumed' };
  return {
    value: best.d,
    confidence: best.share >= 0.6 ? 'high' : best.share >= 0.3 ? 'medium' : 'low',
    why: `${name(best.d)} splits ${best.score} of ${content.length} lines into ${best.width} columns`,
  };
}

const NUMERIC_LIKE = /^[-+−]?[\d.,\s']+$/;
const looksNumeric = (s: string): boolean => NUMERIC_LIKE.test(s.trim()) && /\d/.test(s);

/**
 * The header row among `rows` (cells per line): the first row of at least two non-empty cells,
 * mostly text, under which the following rows keep to its width and hold data. Rows above it are
 * the preamble (titles, key/value blocks).
 */
export function detectHeader(rows: { line: number; cells: string[] }[]): Guess<number> | undefined {
  let best: { index: number; score: number } | undefined;
  const limit = Math.min(rows.length, 60);
  for (let i = 0; i < limit; i++) {
    const cells = rows[i].cells;
    const n = nonBlank(cells);
    if (n < 2) continue;
    // A title merged across the sheet repeats one text in every cell: not column names.
    const distinct = new Set(cells.filter((c) => c.trim() !== '').map((c) => c.trim())).size;
    if (distinct < 2 || distinct < n * 0.6) continue;
    const texts = cells.filter((c) => c.trim() !== '' && !looksNumeric(c) && !/^\d{4}-\d{2}-\d{2}/.test(c.trim()));
    if (texts.length < Math.max(2, Math.ceil(n * 0.75))) continue;
    // A header names each column once (mostly): a key/value line repeats label, value, label, value.
    const labels = cells.filter((c) => /[:=]\s*$/.test(c.trim())).length;
    if (labels >= 2 && labels * 2 >= n - 1) continue;
    const width = trimmedWidth(cells);
    let fit = 0;
    let dataLike = 0;
    for (let j = i + 1; j < Math.min(rows.length, i + 21); j++) {
      const r = rows[j].cells;
      if (nonBlank(r) === 0) continue;
      const w = trimmedWidth(r);
      if (w > width || nonBlank(r) < Math.min(2, n)) break;
      fit++;
      if (r.some((c) => looksNumeric(c) || /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}/.test(c.trim()))) dataLike++;
    }
    if (fit === 0) continue;
    const score = fit * 2 + dataLike + n;
    // The first table that holds two or more rows wins (later ones may be further sections).
    if (fit >= 2 && dataLike >= 1) {
      best = { index: i, score };
      break;
    }
    if (best === undefined || score > best.score + 2) best = { index: i, score };
  }
  if (best === undefined) return undefined;
  const row = rows[best.index];
  const before = best.index;
  return {
    value: row.line,
    confidence: before === 0 ? 'high' : 'medium',
    why: before === 0 ? 'the first line names the columns' : `line ${row.line} is the first line of text labels over rows of the same width; the ${before} line(s) above are preamble`,
  };
}

export interface BlockGuess {
  label: string;
  value: string;
  line: number;
  /** The value stands under the label (not right of it). */
  below?: boolean;
}

/** Key/value pairs in preamble rows: "Label:" followed by a value cell, or "Label: value" in one cell. */
export function detectBlocks(preamble: { line: number; cells: string[] }[]): BlockGuess[] {
  const out: BlockGuess[] = [];
  const seen = new Set<string>();
  const add = (b: BlockGuess): void => {
    const key = b.label.toLowerCase();
    if (b.label === '' || seen.has(key)) return;
    seen.add(key);
    out.push(b);
  };
  for (const { line, cells } of preamble) {
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c].trim();
      if (cell === '') continue;
      const labelled = /^([^\d].{0,59}?)\s*[:=]$/.exec(cell);
      if (labelled !== null) {
        const value = (cells[c + 1] ?? '').trim();
        if (value !== '') {
          add({ label: labelled[1].trim(), value, line });
          c++;
        }
        continue;
      }
      // "Lot: L-77" in one cell (a label without digits, so "07:12" is not one).
      const inline = /^([^:=\d]{1,60}?)\s*[:=]\s*(\S.*)$/.exec(cell);
      if (inline !== null) add({ label: inline[1].trim(), value: inline[2].trim(), line });
    }
  }
  return out;
}

export type ColumnType =
  | { type: 'empty' }
  | { type: 'text' }
  | { type: 'number'; decimal: '.' | ','; thousands: '' | '.' | ',' }
  /** Mostly numbers, some qualified (<0.05, ND, <LOQ): a lab result. */
  | { type: 'result'; decimal: '.' | ',' }
  | { type: 'date' | 'datetime'; format: string | string[]; ambiguous?: string }
  | { type: 'time'; format: string };

export const DATE_FORMATS = [
  'yyyy-MM-dd', 'dd.MM.yyyy', 'd.M.yyyy', 'dd.MM.yy', 'MM/dd/yyyy', 'dd/MM/yyyy', 'M/d/yyyy', 'd/M/yyyy', 'MM/dd/yy', 'M/d/yy', 'd/M/yy', 'yyyyMMdd', 'dd-MMM-yyyy', 'yyyy/MM/dd',
] as const;
export const DATETIME_FORMATS = [
  "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", 'yyyy-MM-dd HH:mm:ss', 'yyyy-MM-dd HH:mm', 'dd.MM.yyyy HH:mm:ss', 'dd.MM.yyyy HH:mm', 'd.M.yyyy H:mm',
  'MM/dd/yyyy HH:mm:ss', 'MM/dd/yyyy HH:mm', 'M/d/yyyy H:mm', 'M/d/yyyy h:mm a', 'M/d/yy h:mm a', 'M/d/yy H:mm', 'dd/MM/yyyy HH:mm', 'd/M/yyyy H:mm', 'yyyy/MM/dd HH:mm',
] as const;
const TIME_FORMATS = ['HH:mm:ss', 'HH:mm', 'H:mm'] as const;

function allParse(values: string[], kind: 'date' | 'datetime', format: string): boolean {
  const p = createDateParser({ kind, formats: [format], tz: 'UTC' });
  return values.every((v) => !(p.parse(v) instanceof ConvError));
}

/** The first format of `formats` every value parses with, and the others that also fit. */
function fitting(values: string[], kind: 'date' | 'datetime', formats: readonly string[]): string[] {
  return formats.filter((f) => allParse(values, kind, f));
}

const QUALIFIED = /^(<=?|>=?|≤|≥)\s*[\d.,]+$|^(nd|n\.d\.|bloq|blq|<loq|loq|n\/a|na|conforms|complies|positive|negative|pass|fail)$/i;

/** The type of one column from its non-empty sample values. */
export function detectColumnType(raw: string[], decimalHint?: '.' | ','): Guess<ColumnType> {
  const values = raw.map((v) => v.trim()).filter((v) => v !== '').slice(0, 200);
  if (values.length === 0) return { value: { type: 'empty' }, confidence: 'low', why: 'no values in the sample' };
  const n = values.length;
  // ISO-8601 instants with their offset: the offset says the zone.
  if (values.every((v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v))) {
    return { value: { type: 'datetime', format: 'iso' }, confidence: 'high', why: `all ${n} values are ISO-8601 date-times with an offset` };
  }
  // Workbook date cells: yyyy-MM-ddTHH:mm:ss, or yyyy-MM-dd when the time is midnight.
  if (values.every((v) => /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/.test(v)) && values.some((v) => v.includes('T')) && values.some((v) => !v.includes('T'))) {
    return { value: { type: 'datetime', format: ["yyyy-MM-dd'T'HH:mm:ss", 'yyyy-MM-dd'] }, confidence: 'high', why: `all ${n} values are ISO dates (with a time unless midnight), as a workbook's date cells are read` };
  }
  const dt = fitting(values, 'datetime', DATETIME_FORMATS);
  if (dt.length > 0) {
    const dayFirst = dt.find((f) => /^d/.test(f));
    const monthFirst = dt.find((f) => /^M/.test(f));
    const format = dayFirst !== undefined && monthFirst !== undefined ? (decimalHint === ',' ? dayFirst : monthFirst) : dt[0];
    const ambiguous = dayFirst !== undefined && monthFirst !== undefined ? (format === dayFirst ? monthFirst : dayFirst) : undefined;
    return { value: { type: 'datetime', format, ...(ambiguous ? { ambiguous } : {}) }, confidence: ambiguous ? 'low' : 'high', why: `all ${n} values read as ${format}${ambiguous ? ` (but also as ${ambiguous}: no day above 12 in the sample)` : ''}` };
  }
  // Mixed patterns (a LIMS that changed its export midway): a short list of formats covering all.
  const cover = (kind: 'date' | 'datetime', formats: readonly string[]): string[] | undefined => {
    const parsers = formats.map((f) => ({ f, p: createDateParser({ kind, formats: [f], tz: 'UTC' }) }));
    let left = values;
    const chosen: string[] = [];
    while (left.length > 0 && chosen.length < 3) {
      let best: { f: string; rest: string[] } | undefined;
      for (const { f, p } of parsers) {
        const rest = left.filter((v) => p.parse(v) instanceof ConvError);
        if (rest.length < left.length && (best === undefined || rest.length < best.rest.length)) best = { f, rest };
      }
      if (best === undefined) return undefined;
      chosen.push(best.f);
      left = best.rest;
    }
    return left.length === 0 && chosen.length > 1 ? chosen : undefined;
  };
  const mixed = cover('datetime', DATETIME_FORMATS);
  if (mixed !== undefined) return { value: { type: 'datetime', format: mixed }, confidence: 'medium', why: `the ${n} values use ${mixed.length} patterns: ${mixed.join(' | ')}` };
  const d = fitting(values, 'date', DATE_FORMATS).filter((f) => f !== 'yyyyMMdd' || values.every((v) => /^(19|20)\d{6}$/.test(v)));
  if (d.length > 0) {
    const dayFirst = d.find((f) => /^d/.test(f));
    const monthFirst = d.find((f) => /^M/.test(f));
    const format = dayFirst !== undefined && monthFirst !== undefined ? (decimalHint === ',' ? dayFirst : monthFirst) : d[0];
    const ambiguous = dayFirst !== undefined && monthFirst !== undefined ? (format === dayFirst ? monthFirst : dayFirst) : undefined;
    return { value: { type: 'date', format, ...(ambiguous ? { ambiguous } : {}) }, confidence: ambiguous || format === 'yyyyMMdd' ? 'low' : 'high', why: `all ${n} values read as ${format}${ambiguous ? ` (but also as ${ambiguous}: no day above 12 in the sample)` : ''}` };
  }
  const t = TIME_FORMATS.find((f) => values.every((v) => new RegExp(`^${f.replace(/HH|mm|ss/g, '\\d{2}').replace('H', '\\d{1,2}')}$`).test(v)));
  if (t !== undefined) return { value: { type: 'time', format: t }, confidence: 'high', why: `all ${n} values are times (${t})` };
  const num = numberFormat(values, decimalHint);
  if (num !== undefined && num.count === n) return { value: { type: 'number', decimal: num.decimal, thousands: num.thousands }, confidence: 'high', why: `all ${n} values are numbers${num.decimal === ',' ? ' with a decimal comma' : ''}${num.thousands ? ` and "${num.thousands}" between thousands` : ''}` };
  const qualified = values.filter((v) => QUALIFIED.test(v)).length;
  if (num !== undefined && num.count > 0 && num.count + qualified === n) {
    return { value: { type: 'result', decimal: num.decimal }, confidence: 'medium', why: `${num.count} numbers and ${qualified} qualified value(s) such as "${values.find((v) => QUALIFIED.test(v))}": lab results` };
  }
  return { value: { type: 'text' }, confidence: 'high', why: `text (e.g. "${values[0].slice(0, 30)}")` };
}

/**
 * How the numbers among `values` are written, if any are. "1.234" alone could be either: with
 * decimal commas elsewhere it groups thousands; alone it follows `hint` (the file's convention,
 * e.g. "," for a ";"-separated European export).
 */
export function numberFormat(values: string[], hint: '.' | ',' = '.'): { decimal: '.' | ','; thousands: '' | '.' | ','; count: number } | undefined {
  const plain = /^[-+−]?\d+$/;
  const ambiguous = /^[-+−]?\d{1,3}\.\d{3}$/;
  const dotDec = /^[-+−]?(\d+|\d{1,3}(,\d{3})+)?\.\d+$/;
  const commaDec = /^[-+−]?(\d+|\d{1,3}(\.\d{3})+)?,\d+$/;
  const dotGroup = /^[-+−]?\d{1,3}(\.\d{3}){2,}$/;
  const commaGroup = /^[-+−]?\d{1,3}(,\d{3})+$/;
  let dot = 0, comma = 0, ints = 0, dotG = 0, commaG = 0, amb = 0;
  for (const v of values) {
    if (plain.test(v)) ints++;
    else if (ambiguous.test(v)) amb++;
    else if (commaDec.test(v)) comma++;
    else if (dotDec.test(v)) dot++;
    else if (dotGroup.test(v)) dotG++;
    else if (commaGroup.test(v)) commaG++;
  }
  const count = ints + dot + comma + dotG + commaG + amb;
  if (count === 0) return undefined;
  const germanGroups = values.some((v) => /\d\.\d{3},/.test(v));
  if (comma > 0 && dot === 0 && commaG === 0) return { decimal: ',', thousands: amb > 0 || dotG > 0 || germanGroups ? '.' : '', count };
  if (comma === 0 && dot === 0 && commaG === 0 && (dotG > 0 || amb > 0)) {
    return dotG > 0 || hint === ',' ? { decimal: ',', thousands: '.', count } : { decimal: '.', thousands: '', count };
  }
  if (comma === 0 && dotG === 0) return { decimal: '.', thousands: commaG > 0 || values.some((v) => /\d,\d{3}\./.test(v)) ? ',' : '', count };
  return { decimal: '.', thousands: '', count: ints + dot + amb };
}
