// Guided forms for partners with no export at all: a partner's own mapping, read backwards. Each
// CSV feed becomes a form with one input per source column (a choice list where the mapping maps
// codes, date and time inputs where it parses dates, the lot picker where it reads the partner's
// batch id); a document feed becomes a file upload whose name is generated from the feed's
// `match` glob and `extract` patterns. The filled form turns into a file in the feed's own format,
// which then goes through intake like any upload. Pure: no I/O here.

import iconv from 'iconv-lite';
import { DateTime } from 'luxon';
import picomatch from 'picomatch';
import type { FieldSpec, MappingSpec } from '../mapping/spec.js';

export type FormInputKind = 'lot' | 'select' | 'datetime' | 'date' | 'decimal' | 'integer' | 'list' | 'text';

export interface FormInput {
  /** The key the form posts: the source column (CSV) or the canonical field (document feeds). */
  name: string;
  /** What the partner calls it: the column header of its own file. */
  label: string;
  /** Canonical field(s) the value feeds, for hints and error mapping. */
  fields: string[];
  kind: FormInputKind;
  required: boolean;
  /** The codes the mapping accepts (select). */
  options?: string[];
  /** Date/time: the pattern the mapping parses and its time zone (the form's input is ISO in that zone). */
  format?: string;
  tz?: string;
}

export interface GuidedForm {
  feed: string;
  mapping: string;
  format: 'csv' | 'document';
  /** What the form records, e.g. "stage_event, lot" or "deviation" or "document". */
  emits: string[];
  description: string | null;
  inputs: FormInput[];
  /** Document feeds: a file is attached. */
  file: boolean;
}

/** The header a form writes for a field: its first spelling, or the header an address names (block and position addresses have none). */
const firstFrom = (f: FieldSpec): string | undefined => {
  const from = Array.isArray(f.from) ? f.from[0] : f.from;
  return typeof from === 'string' || from === undefined ? from : from.header;
};
const DATETIME_FIELDS = new Set(['eventTime', 'openedAt', 'closedAt', 'updatedAt', 'issuedAt', 'testedAt', 'receivedAt']);
const DATE_FIELDS = new Set(['expiryDate', 'manufactureDate', 'plannedDate', 'confirmedDate']);

function kindOf(name: string, f: FieldSpec): FormInputKind {
  if (f.xref) return 'lot';
  if (f.map) return 'select';
  const formats = f.format === undefined ? [] : Array.isArray(f.format) ? f.format : [f.format];
  if (f.type === 'datetime' || (f.type === undefined && (DATETIME_FIELDS.has(name) || formats.some((x) => /[Hh]/.test(x))))) return 'datetime';
  if (f.type === 'date' || (f.type === undefined && (DATE_FIELDS.has(name) || formats.length > 0))) return 'date';
  if (f.type === 'decimal' || (f.type === undefined && name === 'quantity')) return 'decimal';
  if (f.type === 'integer') return 'integer';
  if (f.type === 'list' || (f.type === undefined && name === 'capaRefs')) return 'list';
  return 'text';
}

/** Distinct codes of a value map (case-insensitive maps list one spelling per code). */
function optionsOf(f: FieldSpec): string[] {
  const out: string[] = [];
  for (const k of Object.keys(f.map ?? {})) if (!out.some((x) => (f.mapCaseInsensitive ? x.toLowerCase() === k.toLowerCase() : x === k))) out.push(k);
  return out;
}

/** The form of a feed, or a reason why it has none (XML, wide records, …). */
export function formOf(name: string, spec: MappingSpec): GuidedForm | { feed: string; none: string } {
  if (spec.format !== 'csv' && spec.format !== 'document') return { feed: spec.feed, none: `a ${spec.format} feed has no form: send its files` };
  if (spec.records.some((r) => r.each)) return { feed: spec.feed, none: 'a feed with one record per column has no form: send its files' };
  const inputs: FormInput[] = [];
  for (const r of spec.records) {
    for (const [field, f] of Object.entries(r.fields)) {
      const from = firstFrom(f);
      if (from === undefined || f.const !== undefined) continue;
      if (from.startsWith('$') && !(spec.format === 'document' && from === '$file' && f.extract)) continue;
      const key = spec.format === 'document' ? field : from;
      const ex = inputs.find((i) => i.name === key);
      const kind = kindOf(field, f);
      const formats = f.format === undefined ? undefined : Array.isArray(f.format) ? f.format[0] : f.format;
      if (ex) {
        if (!ex.fields.includes(field)) ex.fields.push(field);
        // A column is required when every record reading it requires it, or when the first one does.
        continue;
      }
      inputs.push({
        name: key,
        label: spec.format === 'document' ? field : from,
        fields: [field],
        kind,
        // Document feeds: a value the file name carries anyway (e.g. the document id) may be left empty.
        required: f.required === true && (spec.format !== 'document' || kind === 'lot'),
        ...(kind === 'select' ? { options: optionsOf(f) } : {}),
        ...(kind === 'datetime' || kind === 'date' ? { format: formats ?? 'iso', tz: f.tz ?? 'UTC' } : {}),
      });
    }
  }
  // Columns that only `when` conditions read (e.g. a record emitted for one step) are inputs too.
  if (spec.format === 'csv') {
    for (const c of [...(spec.filter ?? []), ...spec.records.flatMap((r) => r.when ?? [])]) {
      if (c.field.startsWith('=') || c.field.startsWith('$') || inputs.some((i) => i.name === c.field)) continue;
      inputs.push({ name: c.field, label: c.field, fields: [], kind: c.in || c.equals ? 'select' : 'text', required: false, ...(c.in || c.equals ? { options: c.in ?? [c.equals!] } : {}) });
    }
  }
  return {
    feed: spec.feed,
    mapping: name,
    format: spec.format,
    emits: [...new Set(spec.records.map((r) => r.emit))],
    description: spec.description ?? null,
    inputs,
    file: spec.format === 'document',
  };
}

export class FormValueError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

/** A form value as the partner's file would carry it (dates in the mapping's pattern and zone, its decimal mark). */
export function sourceValue(input: FormInput, raw: string, spec: MappingSpec): string {
  const v = raw.trim();
  if (v === '') return '';
  if (input.kind === 'datetime' || input.kind === 'date') {
    const d = DateTime.fromISO(v, { zone: input.tz ?? 'UTC' });
    if (!d.isValid) throw new FormValueError(input.name, `${input.label}: "${v}" is not a date${input.kind === 'datetime' ? ' and time' : ''} (YYYY-MM-DD${input.kind === 'datetime' ? 'THH:mm' : ''})`);
    if (input.format === 'iso') return input.kind === 'date' ? d.toISODate()! : d.toISO({ suppressMilliseconds: true })!;
    return d.setLocale('en-US').toFormat(input.format!);
  }
  if (input.kind === 'decimal') {
    if (!/^-?\d+(\.\d+)?$/.test(v)) throw new FormValueError(input.name, `${input.label}: "${v}" is not a number (digits, "." for decimals)`);
    const mark = spec.dialect?.decimal ?? '.';
    return v.replace('.', mark);
  }
  if (input.kind === 'select' && input.options && !input.options.includes(v)) throw new FormValueError(input.name, `${input.label}: choose one of ${input.options.join(', ')}`);
  return v;
}

/** The one-row CSV file of a CSV feed's form, in the feed's dialect and encoding. */
export function csvOf(form: GuidedForm, spec: MappingSpec, values: Record<string, string>): Buffer {
  const d = spec.dialect ?? {};
  const delim = d.delimiter ?? ',';
  const quote = d.quote ?? '"';
  const cell = (s: string) => (quote && (s.includes(delim) || s.includes(quote) || /[\r\n]/.test(s) || s !== s.trim()) ? quote + s.split(quote).join(quote + quote) + quote : s);
  const header = form.inputs.map((i) => cell(i.name));
  const row = form.inputs.map((i) => cell(sourceValue(i, values[i.name] ?? '', spec)));
  const pre = Math.max(0, (d.headerRow ?? 1) - 1);
  const lines = [...Array.from({ length: pre }, (_, n) => (n === 0 ? `Generated by the lotgate partner portal (form ${form.feed})` : '')), header.join(delim), row.join(delim)];
  const text = lines.join('\r\n') + '\r\n';
  const enc = (d.encoding ?? 'utf-8').toLowerCase();
  return enc === 'utf-8' || enc === 'utf8' || !iconv.encodingExists(enc) ? Buffer.from(text, 'utf8') : iconv.encode(text, enc === 'utf-16' ? 'utf-16le' : enc);
}

const permutations = <T>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));

/**
 * A file name the feed accepts. CSV feeds: the first glob with its wildcards filled by `stamp`.
 * Document feeds: the wildcards filled with the form's `$file` values, in the order for which every
 * field's `extract` pattern gives back exactly the value entered. Undefined when none fits.
 */
export function generatedName(form: GuidedForm, spec: MappingSpec, values: Record<string, string>, stamp: string): string | undefined {
  if (form.format === 'csv') {
    for (const g of spec.match) {
      const name = g.replace(/\*/g, stamp).replace(/\?/g, 'x');
      if (!/[[\]{}!]/.test(name) && picomatch.isMatch(name, g, { nocase: true, dot: true })) return name;
    }
    return undefined;
  }
  const extracted = Object.entries(spec.records[0]?.fields ?? {}).filter(([, f]) => firstFrom(f) === '$file' && f.extract);
  const vals = extracted.map(([k]) => (values[k] ?? '').trim());
  if (vals.some((v) => /[/\\\0*?]/.test(v))) return undefined;
  const given = vals.map((v, i) => i).filter((i) => vals[i] !== '');
  for (const g of spec.match) {
    const stars = (g.match(/\*/g) ?? []).length;
    if (stars > given.length || /[?[\]{}!]/.test(g)) continue;
    // Every ordered choice of the entered values for the wildcards; an empty input is derived from the name.
    for (const order of permutations(given).map((p) => p.slice(0, stars))) {
      let n = 0;
      const name = g.replace(/\*/g, () => vals[order[n++]]);
      if (!picomatch.isMatch(name, g, { nocase: true, dot: true })) continue;
      const got = extracted.map(([, f]) => new RegExp(f.extract!).exec(name)?.[1]);
      if (got.every((x, i) => x !== undefined && (vals[i] === '' || x === vals[i]))) return name;
    }
  }
  return undefined;
}
