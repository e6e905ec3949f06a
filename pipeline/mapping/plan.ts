// Per-mapping plans: each field, condition and record of a mapping compiled once — regexes,
// date parsers, number parsers, value maps and typed constants — so the row loop only looks
// things up. Pure data plus prebuilt converter functions.

import type { IdScheme, RecordKind } from '../model/types.js';
import { createDateParser } from './date-format.js';
import { canonicalField, coerceConstant, effectiveType } from './field-types.js';
import type { Condition, DatePlausibility, FieldSpec, FieldValueType, FromRef, MappingSpec, RecordSpec } from './spec.js';
import { createSplitter, type Splitter } from './split.js';
import { listOf } from './suggest.js';
import { normalizeHeader } from './headers.js';
import { BOOLEAN_WORDS, ConvError, createNumberParser, describeNumberFormat, parseBoolean, splitList } from './values.js';
import { buildVocabulary, createResultParser } from './result-text.js';
import { createSpecParser } from './spec-text.js';

// Small integer tags (not strings or classes) keep the row loop's switches monomorphic and cheap.
// S_*: where a value comes from; T_*: where it goes; OK/FAILED/SKIPPED: a field's outcome.
export const S_NONE = 0, S_COLUMN = 1, S_XML = 2, S_FILE = 3, S_LINE = 4, S_EACH = 5, S_EACH_COLUMN = 6, S_BLOCK = 7, S_TEMPLATE = 8, S_EACH_MATCH = 9;
/** Grid sources (plate readers, see grid.ts): one value per well. */
export const S_GRID_VALUE = 10, S_WELL = 11, S_GRID_ROW = 12, S_GRID_COLUMN = 13, S_SAMPLE = 14, S_GRID = 15, S_PLATE = 16;
/** XML `each` sources: the current element of `each: [{ path }]`, the current value of `each: [{ join }]`. */
export const S_XML_EACH = 17, S_JOIN_EACH = 18;
export const T_FIELD = 0, T_ID = 1, T_RESULT = 2, T_SPEC = 3;
export const OK = 0, FAILED = 1, SKIPPED = 2, DROPPED = 3;

export type Converter = (s: string) => unknown;

export interface FieldPlan {
  name: string;
  target: number;
  scheme: IdScheme | undefined;
  aliases: string[];
  hasConst: boolean;
  constValue: unknown;
  hasDefault: boolean;
  defaultValue: unknown;
  required: boolean;
  /** The CSV column may be absent from the header. */
  optional: boolean;
  trim: boolean;
  missing: Set<string>;
  missingMaxLen: number;
  extract: RegExp | null;
  extractSource: string;
  map: Map<string, unknown> | null;
  mapCI: boolean;
  unmapped: 'error' | 'keep' | 'null' | 'skip';
  knownCodes: string;
  type: FieldValueType;
  convert: Converter;
  listSeparator: string;
  /** Date/datetime fields: the plausible window (null for other types). */
  plausible: PlausiblePlan | null;
  /** `from` given as an object (block label, position, nth header, neighbour). */
  ref: FromRef | null;
  /** `template`: literal text around each {placeholder}; literals.length = names.length + 1. */
  template: TemplatePlan | null;
  split: Splitter | null;
  /** `sequence: true`: numbered among the file's records of the same key (see sequence.ts). */
  sequence: boolean;
}

export interface TemplatePlan {
  literals: string[];
  names: string[];
}

/** "{Date} {Time}" → literals ["", " ", ""], names ["Date", "Time"]. "{{" / "}}" are literal braces. */
export function parseTemplate(text: string): TemplatePlan {
  const literals: string[] = [];
  const names: string[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      lit += c;
      i++;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) throw new Error(`template ${JSON.stringify(text)}: "{" at ${i + 1} is never closed`);
      literals.push(lit);
      lit = '';
      names.push(text.slice(i + 1, end).trim());
      i = end;
    } else lit += c;
  }
  literals.push(lit);
  return { literals, names };
}

export interface PlausiblePlan {
  /** null = no limit. */
  maxFutureDays: number | null;
  floorMs: number | null;
  /** YYYY-MM-DD of the floor, for messages. */
  floor: string;
}

/** Fields whose dates normally lie ahead: no future limit by default. */
const FORWARD_LOOKING = new Set(['expiryDate', 'plannedDate', 'confirmedDate']);
export const DEFAULT_MAX_FUTURE_DAYS = 7;
export const DEFAULT_NOT_BEFORE = '2000-01-01';

function floorText(v: string | number | undefined): string | null {
  if (v === undefined) return null;
  return typeof v === 'number' ? `${String(v).padStart(4, '0')}-01-01` : v;
}

export function plausibleFor(name: string, field?: DatePlausibility, mapping?: DatePlausibility): PlausiblePlan {
  const pick = <K extends keyof DatePlausibility>(k: K): DatePlausibility[K] | undefined =>
    field !== undefined && k in field ? field[k] : mapping !== undefined && k in mapping ? mapping[k] : undefined;
  const future = pick('maxFutureDays');
  const maxFutureDays = future !== undefined ? future : FORWARD_LOOKING.has(name) ? null : DEFAULT_MAX_FUTURE_DAYS;
  const floor = floorText(pick('notBefore')) ?? DEFAULT_NOT_BEFORE;
  const floorMs = Date.parse(`${floor}T00:00:00Z`);
  return { maxFutureDays: maxFutureDays ?? null, floorMs: Number.isNaN(floorMs) ? null : floorMs, floor };
}

export const C_EQUALS = 0, C_IN = 1, C_NOT_IN = 2, C_MATCHES = 3, C_PRESENT = 4;

export interface ConditionPlan {
  source: string;
  /** The condition as an analyst wrote it, for "filtered because …" (e.g. `bizStep in ["shipping"]`). */
  label: string;
  /** Canonical field name for "=name" conditions, else null. */
  canonical: string | null;
  test: number;
  equals: string;
  set: Set<string> | null;
  re: RegExp | null;
  present: boolean;
}

export interface EachPlan {
  aliases: string[];
  /** XML: one record per element at this path, or null. */
  path: string | null;
  /** XML: one record per value this join resolves the keys at joinKeys to, or null. */
  join: string | null;
  joinKeys: string[];
  /** `columns:` pattern, or null. */
  pattern: RegExp | null;
  /** `allExcept:` normalized headers, or null. */
  except: Set<string> | null;
  optional: boolean;
  set: [string, unknown][];
  setNames: Set<string>;
}

export interface RecordPlan {
  kind: RecordKind;
  fields: FieldPlan[];
  rowWhen: ConditionPlan[];
  eachWhen: ConditionPlan[];
  postWhen: ConditionPlan[];
  each: EachPlan[] | null;
  eachMissing: Set<string>;
}

export function lowerSet(values: readonly string[]): Set<string> {
  return new Set(values.map((v) => v.trim().toLowerCase()));
}

export function aliasesOf(from: string | string[] | FromRef | undefined): string[] {
  return from === undefined ? [] : typeof from === 'string' ? [from] : Array.isArray(from) ? from : [];
}

export function refOf(from: string | string[] | FromRef | undefined): FromRef | null {
  return from !== undefined && typeof from === 'object' && !Array.isArray(from) ? from : null;
}

export function specialKind(source: string): number {
  switch (source) {
    case '$file': return S_FILE;
    case '$line': return S_LINE;
    case '$each': return S_EACH;
    case '$eachColumn': return S_EACH_COLUMN;
    case '$eachMatch': return S_EACH_MATCH;
    case '$value': return S_GRID_VALUE;
    case '$well': return S_WELL;
    case '$row': return S_GRID_ROW;
    case '$column': return S_GRID_COLUMN;
    case '$sample': return S_SAMPLE;
    case '$grid': return S_GRID;
    case '$plate': return S_PLATE;
    default: return S_NONE;
  }
}

function mustConst(value: unknown, what: string): unknown {
  if (value instanceof ConvError) throw new Error(`${what}: ${value.message} (load the mapping with loadMapping to get located diagnostics)`);
  return value;
}

export function show(s: string): string {
  return `"${s.length > 80 ? s.slice(0, 77) + '...' : s}"`;
}

function buildConverter(spec: MappingSpec, fs: FieldSpec, type: FieldValueType): Converter {
  const decimal = fs.decimal ?? spec.dialect?.decimal ?? '.';
  const thousandsRaw = spec.dialect?.thousands ?? '';
  const thousands = thousandsRaw === decimal ? '' : thousandsRaw;
  switch (type) {
    case 'string':
      return (s) => s;
    case 'decimal': {
      const parse = createNumberParser(decimal, thousands);
      const desc = describeNumberFormat(decimal, thousands);
      return (s) => {
        const n = parse(s.trim());
        return Number.isNaN(n) ? new ConvError('E_BAD_NUMBER', `expected ${desc}; got ${show(s)}`) : n;
      };
    }
    case 'integer': {
      const parse = createNumberParser(decimal, thousands);
      return (s) => {
        const n = parse(s.trim());
        return Number.isInteger(n) ? n : new ConvError('E_BAD_NUMBER', `expected a whole number; got ${show(s)}`);
      };
    }
    case 'boolean':
      return (s) => {
        const b = parseBoolean(s.trim());
        return b === undefined ? new ConvError('E_BAD_BOOLEAN', `expected ${BOOLEAN_WORDS}; got ${show(s)}`) : b;
      };
    case 'date':
    case 'datetime': {
      const formats = fs.format === undefined ? [] : typeof fs.format === 'string' ? [fs.format] : fs.format;
      const parser = createDateParser({ kind: type, formats, tz: fs.tz, locale: fs.locale });
      return (s) => parser.parse(s.trim());
    }
    case 'list': {
      const sep = fs.separator ?? ',';
      return (s) => splitList(s, sep);
    }
    case 'result': {
      const parse = createNumberParser(decimal, thousands);
      const desc = describeNumberFormat(decimal, thousands);
      return createResultParser(parse, desc, buildVocabulary(fs.qualifiers));
    }
    case 'spec':
      return createSpecParser(createNumberParser(decimal, thousands), describeNumberFormat(decimal, thousands));
  }
}

function compileField(spec: MappingSpec, kind: RecordKind, name: string, fs: FieldSpec, fileMissing: string[]): FieldPlan {
  const type = effectiveType(kind, name, fs);
  const def = fs.xref === undefined ? canonicalField(kind, name) : undefined;
  const enumValues = def?.enum;
  const constCtx = { type, enumValues, tz: fs.tz, separator: fs.separator };
  const missing = lowerSet([...fileMissing, ...(fs.missing ?? [])]);
  missing.delete('');
  let extract: RegExp | null = null;
  if (fs.extract !== undefined) extract = new RegExp(fs.extract);
  let map: Map<string, unknown> | null = null;
  if (fs.map !== undefined) {
    map = new Map();
    for (const [code, target] of Object.entries(fs.map)) map.set(fs.mapCaseInsensitive ? code.trim().toLowerCase() : code.trim(), target);
  }
  return {
    name,
    target: fs.xref !== undefined ? T_ID : type === 'result' ? T_RESULT : type === 'spec' ? T_SPEC : T_FIELD,
    scheme: fs.xref,
    aliases: aliasesOf(fs.from),
    hasConst: fs.const !== undefined,
    constValue: fs.const !== undefined ? mustConst(coerceConstant(fs.const, constCtx), `${kind}.${name} const`) : undefined,
    hasDefault: fs.default !== undefined,
    defaultValue: fs.default !== undefined ? mustConst(coerceConstant(fs.default, constCtx), `${kind}.${name} default`) : undefined,
    required: fs.required === true || (def?.required === true),
    optional: fs.optional === true,
    trim: spec.format !== 'csv' || spec.dialect?.trim !== false,
    missing,
    missingMaxLen: Math.max(0, ...[...missing].map((m) => m.length)),
    extract,
    extractSource: fs.extract ?? '',
    map,
    mapCI: fs.mapCaseInsensitive === true,
    unmapped: fs.unmapped ?? 'error',
    knownCodes: fs.map !== undefined ? listOf(Object.keys(fs.map).map((c) => `"${c}"`)) : '',
    type,
    convert: buildConverter(spec, fs, type),
    listSeparator: fs.separator ?? ',',
    plausible: type === 'date' || type === 'datetime' ? plausibleFor(name, fs.plausible, spec.plausibleDates) : null,
    ref: refOf(fs.from),
    template: fs.template !== undefined ? parseTemplate(fs.template) : null,
    split: fs.split !== undefined ? createSplitter(fs.split) : null,
    sequence: fs.sequence === true,
  };
}

export function compileCondition(c: Condition): ConditionPlan {
  const canonical = c.field.startsWith('=') ? c.field.slice(1) : null;
  const base = { source: c.field, label: conditionLabel(c), canonical, equals: '', set: null, re: null, present: false };
  if (c.equals !== undefined) return { ...base, test: C_EQUALS, equals: c.equals.trim() };
  if (c.in !== undefined) return { ...base, test: C_IN, set: new Set(c.in.map((v) => v.trim())) };
  if (c.notIn !== undefined) return { ...base, test: C_NOT_IN, set: new Set(c.notIn.map((v) => v.trim())) };
  if (c.matches !== undefined) return { ...base, test: C_MATCHES, re: new RegExp(c.matches) };
  return { ...base, test: C_PRESENT, present: c.present !== false };
}

function conditionLabel(c: Condition): string {
  const values = (vs: string[]): string => `[${vs.map((v) => JSON.stringify(v)).join(', ')}]`;
  if (c.equals !== undefined) return `${c.field} equals ${JSON.stringify(c.equals)}`;
  if (c.in !== undefined) return `${c.field} in ${values(c.in)}`;
  if (c.notIn !== undefined) return `${c.field} not in ${values(c.notIn)}`;
  if (c.matches !== undefined) return `${c.field} matches /${c.matches}/`;
  return `${c.field} ${c.present === false ? 'absent' : 'present'}`;
}

export function compileRecord(spec: MappingSpec, rec: RecordSpec, fileMissing: string[]): RecordPlan {
  const kind = rec.emit;
  const fields = Object.entries(rec.fields).map(([name, fs]) => compileField(spec, kind, name, fs, fileMissing));
  const conds = (rec.when ?? []).map(compileCondition);
  const usesEach = (c: ConditionPlan): boolean => c.source === '$each' || c.source === '$eachColumn' || c.source === '$eachMatch' || c.source.startsWith('$each/');
  const each = rec.each?.map((e): EachPlan => {
    const set: [string, unknown][] = Object.entries(e.set ?? {}).map(([k, v]) => {
      const fs = rec.fields[k] ?? {};
      const type = effectiveType(kind, k, fs);
      return [k, mustConst(coerceConstant(v, { type, enumValues: canonicalField(kind, k)?.enum, tz: fs.tz, separator: fs.separator }), `${kind} each.set.${k}`)];
    });
    return {
      aliases: aliasesOf(e.column),
      path: e.path ?? null,
      join: e.join ?? null,
      joinKeys: e.key === undefined ? [] : typeof e.key === 'string' ? [e.key] : e.key,
      pattern: e.columns !== undefined ? new RegExp(e.columns) : null,
      except: e.allExcept !== undefined ? new Set(e.allExcept.map(normalizeHeader)) : null,
      optional: e.optional === true,
      set,
      setNames: new Set(set.map(([k]) => k)),
    };
  }) ?? null;
  const eachFieldMissing = Object.values(rec.fields).filter((f) => aliasesOf(f.from).includes('$each')).flatMap((f) => f.missing ?? []);
  const eachMissing = lowerSet([...fileMissing, ...eachFieldMissing]);
  eachMissing.delete('');
  return {
    kind,
    fields,
    rowWhen: conds.filter((c) => c.canonical === null && !usesEach(c)),
    eachWhen: conds.filter((c) => c.canonical === null && usesEach(c)),
    postWhen: conds.filter((c) => c.canonical !== null),
    each,
    eachMissing,
  };
}
