// `lotgate mapping suggest <file>`: a starting mapping drafted from one sample file. It detects
// the encoding, delimiter, quote, decimal separator, header row (past titles and preamble),
// key/value blocks above the table, each column's type and date pattern, and guesses the
// canonical fields from the headers — each guess commented with its confidence, for the analyst
// to correct. The draft loads with the mapping loader; guessing happens here only, never at
// ingest (a feed's mapping declares everything).

import path from 'node:path';
import { FileError } from '../../model/types.js';
import { joinHeaderRows } from '../../parse/xlsx-reader.js';
import { splitCells } from '../blocks.js';
import { parseMappingText, type Diagnostic } from '../load.js';
import { detectBlocks, detectColumnType, detectDelimiter, detectHeader, detectQuote, numberFormat, trimmedWidth, type ColumnType, type Guess } from './detect.js';
import { guessRecord, words, type BlockInfo, type ColumnInfo, type RecordGuess } from './fields.js';
import { renderDraft, type DraftHead } from './render.js';
import { readSample, type Sample } from './sample.js';
import { xmlCandidates } from './xml-candidates.js';

export interface SuggestOptions {
  partner?: string;
  feed?: string;
  /** Workbooks: the sheet to read (default the first visible one). */
  sheet?: string | number;
}

export interface DetectionReport {
  file: string;
  format: 'csv' | 'xlsx' | 'xml';
  /** XML: the repeated elements, best first (the draft reads the first). */
  recordCandidates?: { path: string; count: number; fields: number }[];
  encoding?: Guess<string>;
  delimiter?: Guess<string>;
  quote?: Guess<string>;
  decimal?: Guess<string>;
  headerRow: Guess<number>;
  headerRows: number;
  blocks: { label: string; value: string; line: number; type: ColumnType }[];
  columns: { position: number; header: string; type: ColumnType; confidence: string; why: string; field?: string }[];
  record: { kind: string; why: string; each?: { columns?: string; allExcept?: string[]; set?: Record<string, string> } };
  fields: { name: string; confidence: string; why: string }[];
  unclaimedColumns: string[];
  /** What the mapping loader says about the draft (empty: it loads). */
  diagnostics: Diagnostic[];
}

export interface Suggestion {
  yaml: string;
  report: DetectionReport;
}

type Row = { line: number; cells: string[] };

const unreadable = (file: string, reason: string): FileError => new FileError('E_SUGGEST_UNREADABLE', `No table could be found in the sample ${file} (${reason}). Check the file is a CSV/TXT or .xlsx sample of the feed, or write the mapping by hand (docs/mapping.md).`);

/** The sample's file name with digit runs as `*`: "Chargenstatus_20261119.csv" → "Chargenstatus_*.csv". */
export function matchPattern(fileName: string): string {
  return fileName.replace(/\d+(?:T\d+)?/g, '*').replace(/\*(?:[-_.]?\*)+/g, '*');
}

/** A feed name from the file name: "LIMS_EXPORT_20261118_0200.csv" → "lims-export". */
export function feedName(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, '').replace(/\d+(?:T\d+)?/g, '');
  const name = stem.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return name === '' ? 'feed' : name;
}

/** Two header rows in a workbook: a group row over a label row (both text, the second under merged/empty cells). */
function twoRowHeader(rows: Row[], at: number, width: number): boolean {
  const top = rows[at]?.cells ?? [];
  const next = rows[at + 1]?.cells ?? [];
  const filled = next.filter((c) => c.trim() !== '');
  if (filled.length < 2 || trimmedWidth(next) > width) return false;
  if (filled.some((c) => /^[-+]?[\d.,]+$/.test(c.trim()) || /^\d{4}-\d{2}-\d{2}/.test(c.trim()))) return false;
  // The label row fills columns under a merged (repeated) or empty group cell.
  return next.some((c, i) => c.trim() !== '' && (top[i] === undefined || top[i].trim() === '' || (i > 0 && top[i] === top[i - 1]) || top[i] === top[i + 1]));
}

/**
 * The table's rows under the header: up to a row that ends it — a marker or key/value line, or
 * the header again (the file has several sections: `repeats` lists those lines).
 */
function dataRows(rows: Row[], from: number, header: string[]): { rows: Row[]; repeats: number[] } {
  const out: Row[] = [];
  const repeats: number[] = [];
  const same = (r: Row): boolean => r.cells.filter((c) => c.trim() !== '').length >= 2 && header.every((h, i) => (r.cells[i] ?? '').trim() === h.trim());
  let ended = false;
  for (let i = from; i < rows.length; i++) {
    const r = rows[i];
    if (same(r)) {
      repeats.push(r.line);
      ended = true;
      continue;
    }
    if (ended || out.length >= 300) continue;
    const filled = r.cells.filter((c) => c.trim() !== '');
    if (filled.length === 0) continue;
    if (trimmedWidth(r.cells) > header.length) continue;
    if (out.length > 0 && header.length > 1 && (filled.length <= 1 || filled.some((c) => /[:=]$/.test(c.trim())))) {
      ended = true;
      continue;
    }
    out.push(r);
  }
  return { rows: out, repeats };
}

export async function suggestMapping(file: string, opts: SuggestOptions = {}): Promise<Suggestion> {
  const sample: Sample = await readSample(file, opts.sheet);
  const name = path.basename(file);
  if (sample.kind === 'xml') return suggestXml(name, sample.text, opts);
  let rows: Row[];
  let delimiter: Guess<string> | undefined;
  let quote: Guess<string> | undefined;
  if (sample.kind === 'text') {
    delimiter = detectDelimiter(sample.lines);
    quote = detectQuote(sample.lines, delimiter.value);
    rows = sample.lines.map((l, i) => ({ line: i + 1, cells: splitCells(l, delimiter!.value, quote!.value).map((c) => c.trim()) }));
  } else rows = sample.rows;
  const header = detectHeader(rows);
  if (header === undefined) throw unreadable(name, 'no line of column names over rows of data was found');
  const at = rows.findIndex((r) => r.line === header.value);
  let headerCells = rows[at].cells.slice(0, trimmedWidth(rows[at].cells));
  let headerRows = 1;
  if (sample.kind === 'xlsx' && twoRowHeader(rows, at, headerCells.length)) {
    headerRows = 2;
    headerCells = joinHeaderRows([rows[at].cells, rows[at + 1].cells]);
    headerCells = headerCells.slice(0, trimmedWidth(headerCells));
  }
  const table = dataRows(rows, at + headerRows, headerCells);
  const data = table.rows;
  if (data.length === 0) throw unreadable(name, `the header at line ${header.value} has no data rows under it`);
  const numberish = data.flatMap((r) => r.cells).filter((c) => /^[-+−]?[\d.,]+$/.test(c) && /\d/.test(c));
  const nf = sample.kind === 'text' ? numberFormat(numberish, delimiter?.value === ';' ? ',' : '.') : undefined;
  const decimalHint = nf?.decimal ?? '.';
  const seen = new Map<string, number>();
  const columns: ColumnInfo[] = headerCells.map((h, index) => {
    const key = words(h);
    const occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, occurrence);
    const values = data.map((r) => r.cells[index] ?? '');
    return { index, header: h, occurrence, type: detectColumnType(values, decimalHint), values };
  });
  const blocks: BlockInfo[] = detectBlocks(rows.slice(0, at)).map((b) => ({ ...b, type: detectColumnType([b.value], decimalHint) }));
  const rec: RecordGuess = guessRecord(columns, blocks);

  const partner = opts.partner ?? 'new-partner';
  const feed = opts.feed ?? feedName(name);
  const dialect: Record<string, string | number> = {};
  const dialectWhy: Record<string, string> = {};
  const notes: string[] = [];
  let decimal: Guess<string> | undefined;
  if (sample.kind === 'text') {
    dialect.delimiter = delimiter!.value;
    dialectWhy.delimiter = `${delimiter!.confidence}: ${delimiter!.why}`;
    if (quote!.value !== '"') {
      dialect.quote = quote!.value;
      dialectWhy.quote = `${quote!.confidence}: ${quote!.why}`;
    }
    dialect.encoding = sample.encoding;
    dialectWhy.encoding = sample.encodingWhy;
    const usesComma = columns.some((c) => (c.type.value.type === 'number' || c.type.value.type === 'result') && c.type.value.decimal === ',');
    if (usesComma) {
      dialect.decimal = ',';
      const withComma = numberish.find((v) => v.includes(','));
      decimal = withComma !== undefined
        ? { value: ',', confidence: 'high', why: `numbers such as ${JSON.stringify(withComma)} use a decimal comma` }
        : { value: ',', confidence: 'low', why: `numbers such as ${JSON.stringify(numberish.find((v) => v.includes('.')) ?? '')} read as thousands with "." (usual in a ";"-separated European export); check` };
      dialectWhy.decimal = `${decimal.confidence}: ${decimal.why}`;
    } else decimal = { value: '.', confidence: numberish.length > 0 ? 'high' : 'low', why: numberish.length > 0 ? 'numbers use a decimal point' : 'no numbers seen' };
    const grouped = columns.find((c) => c.type.value.type === 'number' && c.type.value.thousands !== '');
    if (grouped !== undefined && grouped.type.value.type === 'number') {
      dialect.thousands = grouped.type.value.thousands;
      dialectWhy.thousands = `numbers in "${grouped.header}" group thousands with it (e.g. ${JSON.stringify(grouped.values.find((v) => v.includes(dialect.thousands as string)) ?? '')})`;
    }
  }
  if (header.value !== 1) {
    dialect.headerRow = header.value;
    dialectWhy.headerRow = `${header.confidence}: ${header.why}`;
  }
  const xlsx: Record<string, string | number> | undefined =
    sample.kind === 'xlsx' ? { sheet: opts.sheet ?? 1, ...(headerRows > 1 ? { headerRows } : {}) } : undefined;
  if (sample.kind === 'xlsx') {
    notes.push(`A workbook: sheet ${JSON.stringify(opts.sheet ?? 1)}${opts.sheet === undefined ? ' (the first visible one; name it once known)' : ''}. Numbers and date cells arrive as stored, not as displayed.`);
    if (headerRows > 1) notes.push(`The header takes two rows (${header.value} and ${header.value + 1}), joined per column: ${headerCells.slice(0, 4).map((h) => JSON.stringify(h)).join(', ')} …`);
  }
  if (table.repeats.length > 0) {
    notes.push(`The header repeats at line(s) ${table.repeats.slice(0, 5).join(', ')}: the file holds several sections, each with its own block values.`);
    notes.push('This draft reads the first table only; declare `sections:` (docs/mapping.md) so every section is read with its own values.');
  }
  const head: DraftHead = { partner, feed, format: sample.kind === 'xlsx' ? 'xlsx' : 'csv', match: matchPattern(name), sampleName: name, notes, dialect, dialectWhy, ...(xlsx ? { xlsx } : {}) };
  const yaml = renderDraft(head, rec, columns);
  const loaded = parseMappingText(yaml, `mappings/${partner}/${feed}.yaml`, { checkLocation: false });
  const fieldOf = (c: ColumnInfo): string | undefined => rec.fields.find((f) => 'column' in f.source && f.source.column === c)?.name ?? (rec.each?.claimed.includes(c) ? 'each' : undefined);
  const report: DetectionReport = {
    file: name,
    format: head.format === 'xlsx' ? 'xlsx' : 'csv',
    ...(sample.kind === 'text' ? { encoding: { value: sample.encoding, confidence: 'high' as const, why: sample.encodingWhy }, delimiter, quote, decimal } : {}),
    headerRow: header,
    headerRows,
    blocks: blocks.map((b) => ({ label: b.label, value: b.value, line: b.line, type: b.type.value })),
    columns: columns.map((c) => ({ position: c.index + 1, header: c.header, type: c.type.value, confidence: c.type.confidence, why: c.type.why, ...(fieldOf(c) ? { field: fieldOf(c) } : {}) })),
    record: { kind: rec.kind, why: rec.why, ...(rec.each ? { each: { ...(rec.each.columns ? { columns: rec.each.columns } : {}), ...(rec.each.allExcept ? { allExcept: rec.each.allExcept } : {}), ...(rec.each.set ? { set: rec.each.set } : {}) } } : {}) },
    fields: rec.fields.map((f) => ({ name: f.name, confidence: f.confidence, why: f.why })),
    unclaimedColumns: rec.unclaimed.map((c) => c.header),
    diagnostics: loaded.diagnostics,
  };
  return { yaml, report };
}

/** An XML sample: the repeated element with the most values under it is the record. */
function suggestXml(name: string, text: string, opts: SuggestOptions): Suggestion {
  const candidates = xmlCandidates(text);
  if (candidates.length === 0) throw unreadable(name, 'the XML document has no repeated element with values under it');
  const best = candidates[0];
  const seen = new Map<string, number>();
  const columns: ColumnInfo[] = [...best.leaves.entries()].map(([rel, values], index) => {
    const key = words(rel);
    const occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, occurrence);
    return { index, header: rel, occurrence: 1, type: detectColumnType(values), values };
  });
  const rec = guessRecord(columns, []);
  const partner = opts.partner ?? 'new-partner';
  const feed = opts.feed ?? feedName(name);
  const notes = [
    `An XML document: the record is the repeated element ${best.path} (${best.count} in the sample, ${best.leaves.size} values under it).`,
    'Other repeated elements (xml.record accepts alternatives, e.g. "Root/A|B/Item"):',
    ...candidates.slice(1, 6).map((c) => `  ${c.path} (${c.count}×, ${c.leaves.size} values)`),
    'Field paths are relative to the record element, by local name: "Child", "@attribute", "Child/@attribute".',
  ];
  const head: DraftHead = { partner, feed, format: 'xml', match: matchPattern(name), sampleName: name, notes, dialect: {}, dialectWhy: {}, xml: { record: best.path } };
  const yaml = renderDraft(head, rec, columns);
  const loaded = parseMappingText(yaml, `mappings/${partner}/${feed}.yaml`, { checkLocation: false });
  const fieldOf = (c: ColumnInfo): string | undefined => rec.fields.find((f) => 'column' in f.source && f.source.column === c)?.name;
  const report: DetectionReport = {
    file: name,
    format: 'xml',
    recordCandidates: candidates.slice(0, 10).map((c) => ({ path: c.path, count: c.count, fields: c.leaves.size })),
    headerRow: { value: 0, confidence: 'high', why: 'XML: no header row' },
    headerRows: 0,
    blocks: [],
    columns: columns.map((c) => ({ position: c.index + 1, header: c.header, type: c.type.value, confidence: c.type.confidence, why: c.type.why, ...(fieldOf(c) ? { field: fieldOf(c) } : {}) })),
    record: { kind: rec.kind, why: rec.why },
    fields: rec.fields.map((f) => ({ name: f.name, confidence: f.confidence, why: f.why })),
    unclaimedColumns: rec.unclaimed.map((c) => c.header),
    diagnostics: loaded.diagnostics,
  };
  return { yaml, report };
}

