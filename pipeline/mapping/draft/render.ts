// Writes the draft mapping as YAML text with a comment on every guess (its confidence and its
// reason), so the analyst reads what was detected and corrects what is wrong. Strings are
// written JSON-quoted (valid YAML), so header texts with ":" or "#" stay intact.

import type { ColumnInfo, FieldGuess, RecordGuess } from './fields.js';
import type { ColumnType, Confidence } from './detect.js';

export interface DraftHead {
  partner: string;
  feed: string;
  format: 'csv' | 'xlsx' | 'xml';
  match: string;
  sampleName: string;
  /** Lines of `# …` about the file as a whole (encoding, delimiter, header row …). */
  notes: string[];
  dialect: Record<string, string | number>;
  dialectWhy: Record<string, string>;
  xlsx?: Record<string, string | number>;
  xml?: Record<string, string>;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$]*$/;

/** A value as YAML flow text. */
export function flow(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `{ ${entries.map(([k, x]) => `${PLAIN_KEY.test(k) ? k : JSON.stringify(k)}: ${flow(x)}`).join(', ')} }`;
}

/** How the mapping addresses a column: its header, the nth of a repeated header, or its position. */
export function columnRef(c: ColumnInfo): unknown {
  if (c.header.trim() === '') return { column: c.index + 1 };
  if (c.occurrence > 1) return { header: c.header.trim(), occurrence: c.occurrence };
  return c.header.trim();
}

const DATE_FIELDS = new Set(['expiryDate', 'manufactureDate', 'plannedDate', 'confirmedDate']);
const DATETIME_FIELDS = new Set(['testedAt', 'eventTime']);

function formatOf(t: ColumnType): string | string[] | undefined {
  return t.type === 'date' || t.type === 'datetime' || t.type === 'time' ? t.format : undefined;
}

/** The field's YAML mapping (flow) and its comment. */
export function fieldSpec(f: FieldGuess): { spec: Record<string, unknown>; comment: string } {
  const spec: Record<string, unknown> = {};
  let type: ColumnType | undefined;
  const s = f.source;
  if ('column' in s) {
    spec.from = columnRef(s.column);
    type = s.column.type.value;
  } else if ('block' in s) {
    spec.from = { block: s.block.label };
    type = s.block.type.value;
  } else if ('template' in s) {
    const [d, t] = s.template;
    spec.template = `{${d.header.trim()}} {${t.header.trim()}}`;
    const df = formatOf(d.type.value);
    const tf = formatOf(t.type.value);
    if (typeof df === 'string' && typeof tf === 'string') spec.format = `${df} ${tf}`;
    spec.type = 'datetime';
  } else if ('eachMatch' in s) spec.from = '$eachMatch';
  else if ('eachColumn' in s) spec.from = '$eachColumn';
  else spec.from = '$each';
  if (f.xref !== undefined) spec.xref = f.xref;
  if (f.required) spec.required = true;
  const notes: string[] = [];
  if (type !== undefined && (DATE_FIELDS.has(f.name) || DATETIME_FIELDS.has(f.name))) {
    const fmt = formatOf(type);
    if (fmt !== undefined) spec.format = fmt;
    if ((type.type === 'date' || type.type === 'datetime') && type.ambiguous) notes.push(`day/month order unsure: could be ${type.ambiguous}`);
  }
  if (DATETIME_FIELDS.has(f.name)) {
    spec.tz = 'UTC';
    notes.push('tz: set the partner\'s local time zone (e.g. Europe/Berlin)');
  }
  if (f.map !== undefined) {
    spec.map = f.map;
    spec.unmapped = 'error';
    if (f.unplaced?.length) notes.push(`values not placed: ${f.unplaced.map((v) => JSON.stringify(v)).join(', ')} — add them to map`);
  }
  return { spec, comment: `guess (${f.confidence}): ${f.why}${notes.length ? `; ${notes.join('; ')}` : ''}` };
}

function describeType(t: ColumnType): string {
  switch (t.type) {
    case 'number':
      return `number${t.decimal === ',' ? ' (decimal comma)' : ''}`;
    case 'result':
      return 'lab result (numbers and qualified values)';
    case 'date':
    case 'datetime':
    case 'time':
      return `${t.type} ${Array.isArray(t.format) ? t.format.join(' | ') : t.format}`;
    default:
      return t.type;
  }
}

const conf = (c: Confidence): string => c;

export function renderDraft(head: DraftHead, rec: RecordGuess, columns: ColumnInfo[]): string {
  const out: string[] = [];
  out.push('# yaml-language-server: $schema=../schema.json');
  out.push(`# DRAFT written by \`lotgate mapping suggest\` from the sample ${head.sampleName}.`);
  out.push('# Every "guess" below was detected from that one sample: check each against the format the');
  out.push('# partner agreed to, correct it, then run `lotgate mapping check` and `lotgate mapping test`.');
  for (const n of head.notes) out.push(`# ${n}`);
  out.push(`partner: ${head.partner}`);
  out.push(`feed: ${head.feed}`);
  out.push(`format: ${head.format}`);
  out.push(`match: [${JSON.stringify(head.match)}]   # the sample's name with its digits as *; make it the agreed file name pattern`);
  if (head.xlsx) out.push(`xlsx: ${flow(head.xlsx)}`);
  if (head.xml) out.push(`xml: ${flow(head.xml)}`);
  if (Object.keys(head.dialect).length > 0) {
    out.push('dialect:');
    for (const [k, v] of Object.entries(head.dialect)) out.push(`  ${k}: ${flow(v)}${head.dialectWhy[k] ? `   # ${head.dialectWhy[k]}` : ''}`);
  }
  out.push('#');
  out.push('# Columns as detected (position, header, type):');
  for (const c of columns) out.push(`#   ${String(c.index + 1).padStart(2)}  ${c.header.trim() === '' ? '(empty header)' : JSON.stringify(c.header.trim())}: ${describeType(c.type.value)} (${conf(c.type.confidence)}: ${c.type.why})`);
  out.push('records:');
  out.push(`  # ${rec.why}`);
  out.push(`  - emit: ${rec.kind}`);
  if (rec.each) {
    out.push(`    # guess (medium): ${rec.each.why}`);
    out.push('    each:');
    const e: Record<string, unknown> = rec.each.columns !== undefined ? { columns: rec.each.columns } : { allExcept: rec.each.allExcept };
    if (rec.each.set) e.set = rec.each.set;
    out.push(`      - ${flow(e)}`);
  }
  out.push('    fields:');
  const width = Math.max(...rec.fields.map((f) => f.name.length)) + 1;
  for (const f of rec.fields) {
    const { spec, comment } = fieldSpec(f);
    out.push(`      # ${comment}`);
    out.push(`      ${(f.name + ':').padEnd(width)} ${flow(spec)}`);
  }
  if (rec.unclaimed.length > 0) {
    out.push('      # Not mapped (`mapping test` reports them as W_UNCLAIMED_COLUMN): map them, or list them under');
    out.push('      # ignoreColumns if they are not needed:');
    for (const c of rec.unclaimed) out.push(`      #   ${flow(columnRef(c))} (${describeType(c.type.value)}, e.g. ${JSON.stringify(c.values.find((v) => v.trim() !== '') ?? '')})`);
  }
  if (rec.unusedBlocks.length > 0) {
    out.push('      # Key/value blocks above the table that no field reads yet (a field can: `from: { block: "<label>" }`):');
    for (const b of rec.unusedBlocks) out.push(`      #   ${JSON.stringify(b.label)} = ${JSON.stringify(b.value)} (line ${b.line})`);
  }
  return out.join('\n') + '\n';
}
