// The mapping engine. compileMapping does all per-file-format work once (regexes, date parsers,
// value maps, typed constants); binding a CSV header resolves every header alias to a column
// index once; mapping a row is then a loop over precomputed plans with no regex compilation and
// no per-row closures. Pure: no I/O, results are values.

import { RECORD_KINDS } from '../model/records.js';
import { createRecordValidator, type RecordValidator } from '../model/schemas.js';
import type { IdScheme, MappedRecord, MapResult, RecordKind, RowError } from '../model/types.js';
import { createDateParser } from './date-format.js';
import { canonicalField, coerceConstant, effectiveType, RESULT_FIELD } from './field-types.js';
import type { Condition, FieldSpec, FieldValueType, MappingFormat, MappingSpec, RecordSpec } from './spec.js';
import { listOf } from './suggest.js';
import {
  BOOLEAN_WORDS, ConvError, createNumberParser, describeNumberFormat, parseBoolean, parseResult, splitList, type ParsedResult,
} from './values.js';

/** What the XML reader hands over per record element (structurally, so this module needs no parser). */
export interface XmlRecordLike {
  line: number;
  get(path: string): string | undefined;
  getAll(path: string): string[];
}

/**
 * A MapResult plus how much the mapping deliberately did not produce: 1 for a row that yielded
 * no record and no error (filtered out, `when` never matched, no wide column had a value),
 * plus 1 per record dropped by `unmapped: skip`. rows = rows with output + filtered rows.
 */
export interface RowMapResult extends MapResult {
  filtered: number;
}

export interface CsvRowMapper {
  mapRow(values: string[], line: number, file: string): RowMapResult;
  /** field name → header text and 0-based index it was bound to (for dry-run output). */
  readonly columns: Record<string, { header: string; index: number }>;
}

export interface CompiledMapping {
  readonly spec: MappingSpec;
  readonly hash: string;
  readonly format: MappingFormat;
  bindCsvHeader(header: string[], headerLine: number): CsvRowMapper | { error: RowError };
  mapXmlRecord(rec: XmlRecordLike, file: string): RowMapResult;
  mapDocument(fileName: string): RowMapResult;
}

// ---------------------------------------------------------------------------
// Plans (per mapping)

const S_NONE = 0, S_COLUMN = 1, S_XML = 2, S_FILE = 3, S_LINE = 4, S_EACH = 5, S_EACH_COLUMN = 6;
const T_FIELD = 0, T_ID = 1, T_RESULT = 2;
const OK = 0, FAILED = 1, SKIPPED = 2;

type Converter = (s: string) => unknown;

interface FieldPlan {
  name: string;
  target: number;
  scheme: IdScheme | undefined;
  aliases: string[];
  hasConst: boolean;
  constValue: unknown;
  hasDefault: boolean;
  defaultValue: unknown;
  required: boolean;
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
}

const C_EQUALS = 0, C_IN = 1, C_NOT_IN = 2, C_MATCHES = 3, C_PRESENT = 4;

interface ConditionPlan {
  source: string;
  /** Canonical field name for "=name" conditions, else null. */
  canonical: string | null;
  test: number;
  equals: string;
  set: Set<string> | null;
  re: RegExp | null;
  present: boolean;
}

interface EachPlan {
  aliases: string[];
  set: [string, unknown][];
  setNames: Set<string>;
}

interface RecordPlan {
  kind: RecordKind;
  fields: FieldPlan[];
  rowWhen: ConditionPlan[];
  eachWhen: ConditionPlan[];
  postWhen: ConditionPlan[];
  each: EachPlan[] | null;
  eachMissing: Set<string>;
}

// ---------------------------------------------------------------------------
// Bound plans (per file: CSV header resolved, or XML/document mode)

interface BoundSource {
  kind: number;
  col: number; // 0-based CSV column, -1 otherwise
  aliases: string[]; // XML paths
}

interface BoundField extends BoundSource {
  plan: FieldPlan;
}

interface BoundCondition extends BoundSource {
  plan: ConditionPlan;
}

interface BoundEach extends BoundSource {
  plan: EachPlan;
  header: string;
}

interface BoundRecord {
  plan: RecordPlan;
  fields: BoundField[];
  rowWhen: BoundCondition[];
  eachWhen: BoundCondition[];
  postWhen: BoundCondition[];
  each: BoundEach[] | null;
}

interface Ctx {
  values: string[] | null;
  xml: XmlRecordLike | null;
  file: string;
  line: number;
  errLine: number | undefined;
  eachValue: string | undefined;
  eachColumn: string | undefined;
  eachCol: number;
}

function lowerSet(values: readonly string[]): Set<string> {
  return new Set(values.map((v) => v.trim().toLowerCase()));
}

function aliasesOf(from: string | string[] | undefined): string[] {
  return from === undefined ? [] : typeof from === 'string' ? [from] : from;
}

function specialKind(source: string): number {
  switch (source) {
    case '$file': return S_FILE;
    case '$line': return S_LINE;
    case '$each': return S_EACH;
    case '$eachColumn': return S_EACH_COLUMN;
    default: return S_NONE;
  }
}

function mustConst(value: unknown, what: string): unknown {
  if (value instanceof ConvError) throw new Error(`${what}: ${value.message} (load the mapping with loadMapping to get located diagnostics)`);
  return value;
}

function show(s: string): string {
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
      return (s) => parseResult(s, parse, desc);
    }
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
    target: fs.xref !== undefined ? T_ID : type === 'result' ? T_RESULT : T_FIELD,
    scheme: fs.xref,
    aliases: aliasesOf(fs.from),
    hasConst: fs.const !== undefined,
    constValue: fs.const !== undefined ? mustConst(coerceConstant(fs.const, constCtx), `${kind}.${name} const`) : undefined,
    hasDefault: fs.default !== undefined,
    defaultValue: fs.default !== undefined ? mustConst(coerceConstant(fs.default, constCtx), `${kind}.${name} default`) : undefined,
    required: fs.required === true || (def?.required === true),
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
  };
}

function compileCondition(c: Condition): ConditionPlan {
  const canonical = c.field.startsWith('=') ? c.field.slice(1) : null;
  const base = { source: c.field, canonical, equals: '', set: null, re: null, present: false };
  if (c.equals !== undefined) return { ...base, test: C_EQUALS, equals: c.equals.trim() };
  if (c.in !== undefined) return { ...base, test: C_IN, set: new Set(c.in.map((v) => v.trim())) };
  if (c.notIn !== undefined) return { ...base, test: C_NOT_IN, set: new Set(c.notIn.map((v) => v.trim())) };
  if (c.matches !== undefined) return { ...base, test: C_MATCHES, re: new RegExp(c.matches) };
  return { ...base, test: C_PRESENT, present: c.present !== false };
}

function compileRecord(spec: MappingSpec, rec: RecordSpec, fileMissing: string[]): RecordPlan {
  const kind = rec.emit;
  const fields = Object.entries(rec.fields).map(([name, fs]) => compileField(spec, kind, name, fs, fileMissing));
  const conds = (rec.when ?? []).map(compileCondition);
  const usesEach = (c: ConditionPlan): boolean => c.source === '$each' || c.source === '$eachColumn';
  const each = rec.each?.map((e): EachPlan => {
    const set: [string, unknown][] = Object.entries(e.set ?? {}).map(([k, v]) => {
      const fs = rec.fields[k] ?? {};
      const type = effectiveType(kind, k, fs);
      return [k, mustConst(coerceConstant(v, { type, enumValues: canonicalField(kind, k)?.enum, tz: fs.tz, separator: fs.separator }), `${kind} each.set.${k}`)];
    });
    return { aliases: aliasesOf(e.column), set, setNames: new Set(set.map(([k]) => k)) };
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

// ---------------------------------------------------------------------------
// The row loop

class Engine {
  private readonly scratch: RowError[] = [];
  readonly ctx: Ctx = { values: null, xml: null, file: '', line: 0, errLine: undefined, eachValue: undefined, eachColumn: undefined, eachCol: -1 };

  constructor(
    private readonly records: BoundRecord[],
    private readonly filter: BoundCondition[],
    private readonly fileMissing: Set<string>,
    private readonly validate: RecordValidator,
  ) {}

  run(): RowMapResult {
    const out: RowMapResult = { records: [], errors: [], filtered: 0 };
    if (!this.conditionsHold(this.filter, null)) {
      out.filtered = 1;
      return out;
    }
    let skipped = 0;
    for (let r = 0; r < this.records.length; r++) {
      const br = this.records[r];
      if (!this.conditionsHold(br.rowWhen, null)) continue;
      if (br.each === null) {
        this.ctx.eachValue = undefined;
        this.ctx.eachColumn = undefined;
        this.ctx.eachCol = -1;
        if (this.mapRecord(br, null, out) === SKIPPED) skipped++;
        continue;
      }
      for (let e = 0; e < br.each.length; e++) {
        const be = br.each[e];
        const v = this.read(be, null);
        if (v === undefined) continue;
        const t = v.trim();
        if (t === '' || br.plan.eachMissing.has(t.toLowerCase())) continue;
        this.ctx.eachValue = v;
        this.ctx.eachColumn = be.header;
        this.ctx.eachCol = be.col;
        if (!this.conditionsHold(br.eachWhen, null)) continue;
        if (this.mapRecord(br, be, out) === SKIPPED) skipped++;
      }
    }
    if (out.records.length === 0 && out.errors.length === 0) out.filtered = skipped > 0 ? skipped : 1;
    else out.filtered = skipped;
    return out;
  }

  private read(src: BoundSource, rec: MappedRecord | null): string | undefined {
    const ctx = this.ctx;
    switch (src.kind) {
      case S_COLUMN:
        return ctx.values![src.col];
      case S_XML: {
        for (let i = 0; i < src.aliases.length; i++) {
          const a = src.aliases[i];
          const special = specialKind(a);
          const v = special !== S_NONE ? this.readSpecial(special) : ctx.xml!.get(a);
          if (v !== undefined) return v;
        }
        return undefined;
      }
      default:
        return this.readSpecial(src.kind);
    }
  }

  private readSpecial(kind: number): string | undefined {
    switch (kind) {
      case S_FILE:
        return this.ctx.file;
      case S_LINE:
        return String(this.ctx.line);
      case S_EACH:
        return this.ctx.eachValue;
      case S_EACH_COLUMN:
        return this.ctx.eachColumn;
      default:
        return undefined;
    }
  }

  private readXmlList(bf: BoundField): string | undefined {
    for (let i = 0; i < bf.aliases.length; i++) {
      const all = this.ctx.xml!.getAll(bf.aliases[i]);
      if (all.length > 1) return all.join(bf.plan.listSeparator);
      if (all.length === 1) return all[0];
    }
    return undefined;
  }

  private conditionsHold(conds: BoundCondition[], rec: MappedRecord | null): boolean {
    for (let i = 0; i < conds.length; i++) {
      const c = conds[i];
      const p = c.plan;
      let v: string | undefined;
      if (p.canonical !== null) {
        const f = rec === null ? undefined : canonicalValue(rec, p.canonical, this.records);
        v = f === undefined || f === null ? undefined : String(f);
      } else {
        v = this.read(c, rec);
      }
      if (v !== undefined) {
        v = v.trim();
        if (v === '' || this.fileMissing.has(v.toLowerCase())) v = undefined;
      }
      let ok: boolean;
      switch (p.test) {
        case C_EQUALS: ok = v !== undefined && v === p.equals; break;
        case C_IN: ok = v !== undefined && p.set!.has(v); break;
        case C_NOT_IN: ok = v === undefined || !p.set!.has(v); break;
        case C_MATCHES: ok = v !== undefined && p.re!.test(v); break;
        default: ok = (v !== undefined) === p.present;
      }
      if (!ok) return false;
    }
    return true;
  }

  private mapRecord(br: BoundRecord, be: BoundEach | null, out: RowMapResult): number {
    const ctx = this.ctx;
    const rec: MappedRecord = { kind: br.plan.kind, line: ctx.line, ids: [], fields: {} };
    // Field errors collect in a scratch array reused across records: most records have none.
    let errors = this.scratch;
    errors.length = 0;
    const skipNames = be === null ? null : be.plan.setNames;
    for (let i = 0; i < br.fields.length; i++) {
      const bf = br.fields[i];
      const f = bf.plan;
      if (skipNames !== null && skipNames.has(f.name)) continue;
      if (f.hasConst) {
        assign(f, rec, f.constValue, undefined);
        continue;
      }
      const raw = f.type === 'list' && bf.kind === S_XML ? this.readXmlList(bf) : this.read(bf, rec);
      const status = this.mapField(f, raw, bf, rec, errors);
      if (status === SKIPPED) return SKIPPED;
    }
    if (be !== null) for (const [k, v] of be.plan.set) rec.fields[k] = v;
    if (br.postWhen.length > 0 && !this.conditionsHold(br.postWhen, rec)) return OK;
    if (errors.length === 0) {
      const invalid = this.validate(rec);
      if (invalid.length === 0) {
        out.records.push(rec);
        return OK;
      }
      errors = invalid.map((e) => locateRecordError(e, br, ctx));
    }
    for (const e of errors) {
      // A row-level field (the lot, the date) fails the same way for every wide column: say it once.
      if (be !== null && out.errors.some((x) => x.field === e.field && x.code === e.code && x.column === e.column && x.value === e.value)) continue;
      out.errors.push(e);
    }
    return FAILED;
  }

  private mapField(f: FieldPlan, raw: string | undefined, column: BoundSource, rec: MappedRecord, errors: RowError[]): number {
    let s = raw;
    if (s !== undefined) {
      const t = s.trim();
      if (t === '' || (t.length <= f.missingMaxLen && f.missing.has(t.toLowerCase()))) s = undefined;
      else if (f.trim) s = t;
    }
    if (s !== undefined && f.extract !== null) {
      const m = f.extract.exec(s);
      if (m === null) {
        errors.push(this.error(f, column, 'E_EXTRACT', `${f.name}: ${show(s)} does not match /${f.extractSource}/`, s));
        return FAILED;
      }
      const g = m.groups?.value ?? m[1] ?? m[0];
      s = g === undefined || g.trim() === '' ? undefined : g.trim();
    }
    let value: unknown = s;
    if (s !== undefined && f.map !== null) {
      const key = f.mapCI ? s.toLowerCase() : s;
      if (f.map.has(key)) {
        value = f.map.get(key);
        if (value === null) value = undefined;
      } else {
        switch (f.unmapped) {
          case 'error':
            errors.push(this.error(f, column, 'E_UNMAPPED_CODE', `${f.name}: code ${show(s)} is not in the map; known codes: ${f.knownCodes}`, s));
            return FAILED;
          case 'skip':
            return SKIPPED;
          case 'null':
            value = undefined;
            break;
          default:
            value = s;
        }
      }
    }
    if (value === undefined) {
      if (f.hasDefault) {
        assign(f, rec, f.defaultValue, undefined);
        return OK;
      }
      if (f.required) {
        const why = raw === undefined ? 'has no value (column or element absent)' : raw.trim() === '' ? 'is empty' : `is ${show(raw.trim())}, a missing-value marker`;
        errors.push(this.error(f, column, 'E_REQUIRED', `${f.name} is required but ${why}`, raw));
        return FAILED;
      }
      return OK;
    }
    if (typeof value === 'string') {
      const typed = f.convert(value);
      if (typed instanceof ConvError) {
        errors.push(this.error(f, column, typed.code, `${f.name}: ${typed.message}`, value));
        return FAILED;
      }
      assign(f, rec, typed, undefined);
    } else {
      assign(f, rec, value, s);
    }
    return OK;
  }

  private error(f: FieldPlan, src: BoundSource, code: string, message: string, value: string | undefined): RowError {
    const e: RowError = { code, message, field: f.name };
    if (this.ctx.errLine !== undefined) e.line = this.ctx.errLine;
    const column = columnOf(src, this.ctx);
    if (column !== undefined) e.column = column;
    if (value !== undefined) e.value = value;
    return e;
  }
}

function assign(f: FieldPlan, rec: MappedRecord, value: unknown, rawText: string | undefined): void {
  if (f.target === T_ID) {
    rec.ids.push({ scheme: f.scheme!, value: String(value) });
  } else if (f.target === T_RESULT) {
    if (typeof value === 'object' && value !== null) {
      const r = value as ParsedResult;
      rec.fields.resultRaw = r.resultRaw;
      if (r.resultValue !== undefined) rec.fields.resultValue = r.resultValue;
      if (r.qualifier !== undefined) rec.fields.qualifier = r.qualifier;
    } else {
      // A value map sent the code straight to a number (e.g. "Positive": 1).
      rec.fields.resultRaw = rawText ?? String(value);
      if (typeof value === 'number') rec.fields.resultValue = value;
    }
  } else {
    rec.fields[f.name] = value;
  }
}

/** The mapped value of "=name" in a `when`: a field, or an identifier field's value. */
function canonicalValue(rec: MappedRecord, name: string, records: BoundRecord[]): unknown {
  if (Object.prototype.hasOwnProperty.call(rec.fields, name)) return rec.fields[name];
  for (const br of records) {
    if (br.plan.kind !== rec.kind) continue;
    const f = br.plan.fields.find((x) => x.name === name && x.target === T_ID);
    if (f) return rec.ids.find((id) => id.scheme === f.scheme)?.value;
  }
  return undefined;
}

/** 1-based CSV column a value came from, when it came from one. */
function columnOf(src: BoundSource, ctx: Ctx): number | undefined {
  if (src.kind === S_COLUMN) return src.col + 1;
  if ((src.kind === S_EACH || src.kind === S_EACH_COLUMN) && ctx.eachCol >= 0) return ctx.eachCol + 1;
  return undefined;
}

function locateRecordError(e: RowError, br: BoundRecord, ctx: Ctx): RowError {
  const out: RowError = { ...e };
  if (ctx.errLine === undefined) delete out.line;
  const name = e.field === 'resultRaw' || e.field === 'resultValue' || e.field === 'qualifier' ? RESULT_FIELD : e.field;
  const bf = name === undefined ? undefined : br.fields.find((f) => f.plan.name === name);
  const column = bf === undefined ? undefined : columnOf(bf, ctx);
  if (column !== undefined) out.column = column;
  return out;
}

// ---------------------------------------------------------------------------
// Binding

interface Missing {
  what: string;
  aliases: string[];
  field?: string;
}

function headerIndex(header: string[]): Map<string, number> {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const k = h.trim().toLowerCase();
    if (!index.has(k)) index.set(k, i);
  });
  return index;
}

function bindCsvSource(aliases: string[], index: Map<string, number>): BoundSource {
  for (const a of aliases) {
    const special = specialKind(a);
    if (special !== S_NONE) return { kind: special, col: -1, aliases: [] };
    const col = index.get(a.trim().toLowerCase());
    if (col !== undefined) return { kind: S_COLUMN, col, aliases: [] };
  }
  return { kind: S_NONE, col: -1, aliases: [] };
}

function bindTreeSource(aliases: string[], format: MappingFormat): BoundSource {
  if (format === 'xml') return { kind: aliases.length > 0 ? S_XML : S_NONE, col: -1, aliases };
  for (const a of aliases) {
    const special = specialKind(a);
    if (special !== S_NONE) return { kind: special, col: -1, aliases: [] };
  }
  return { kind: S_NONE, col: -1, aliases: [] };
}

function bindRecords(plans: RecordPlan[], bindSource: (aliases: string[]) => BoundSource, missing: Missing[] | null, headerText: (col: number, alias: string) => string): BoundRecord[] {
  return plans.map((plan) => {
    const fields = plan.fields.map((f): BoundField => {
      const src = f.hasConst ? { kind: S_NONE, col: -1, aliases: [] } : bindSource(f.aliases);
      if (missing !== null && src.kind === S_NONE && !f.hasConst && !f.hasDefault && f.required && f.aliases.length > 0) {
        const setEverywhere = plan.each !== null && plan.each.every((e) => e.setNames.has(f.name));
        if (!setEverywhere) missing.push({ what: `required field '${f.name}'`, aliases: f.aliases, field: f.name });
      }
      return { ...src, plan: f };
    });
    const bindCond = (c: ConditionPlan): BoundCondition => {
      const src = bindSource([c.source]);
      if (missing !== null && src.kind === S_NONE && c.test !== C_PRESENT) missing.push({ what: `the condition on '${c.source}'`, aliases: [c.source] });
      return { ...src, plan: c };
    };
    let each: BoundEach[] | null = null;
    if (plan.each !== null) {
      each = [];
      for (const e of plan.each) {
        const src = bindSource(e.aliases);
        if (src.kind !== S_NONE) each.push({ ...src, plan: e, header: src.kind === S_COLUMN ? headerText(src.col, e.aliases[0]) : e.aliases[0] });
      }
      if (missing !== null && each.length === 0) {
        missing.push({ what: `${plan.kind} 'each'`, aliases: plan.each.flatMap((e) => e.aliases) });
      }
    }
    const postWhen = plan.postWhen.map((c): BoundCondition => ({ kind: S_NONE, col: -1, aliases: [], plan: c }));
    return { plan, fields, rowWhen: plan.rowWhen.map(bindCond), eachWhen: plan.eachWhen.map(bindCond), postWhen, each };
  });
}

class BoundCsv implements CsvRowMapper {
  constructor(
    private readonly engine: Engine,
    readonly columns: Record<string, { header: string; index: number }>,
  ) {}

  mapRow(values: string[], line: number, file: string): RowMapResult {
    const ctx = this.engine.ctx;
    ctx.values = values;
    ctx.line = line;
    ctx.errLine = line;
    ctx.file = file;
    return this.engine.run();
  }
}

class Compiled implements CompiledMapping {
  readonly format: MappingFormat;
  private readonly plans: RecordPlan[];
  private readonly filter: ConditionPlan[];
  private readonly fileMissing: Set<string>;
  private readonly validate: RecordValidator = createRecordValidator();
  private tree: Engine | undefined;

  constructor(
    readonly spec: MappingSpec,
    readonly hash: string,
  ) {
    this.format = spec.format ?? 'csv';
    const fileMissing = spec.missing ?? [''];
    this.fileMissing = lowerSet(fileMissing);
    this.fileMissing.delete('');
    for (const rec of spec.records) {
      if (!Object.prototype.hasOwnProperty.call(RECORD_KINDS, rec.emit)) throw new Error(`unknown record kind '${rec.emit}'`);
    }
    this.plans = spec.records.map((r) => compileRecord(spec, r, fileMissing));
    this.filter = (spec.filter ?? []).map(compileCondition);
  }

  bindCsvHeader(header: string[], headerLine: number): CsvRowMapper | { error: RowError } {
    const index = headerIndex(header);
    const missing: Missing[] = [];
    const bindSource = (aliases: string[]): BoundSource => bindCsvSource(aliases, index);
    const headerText = (col: number): string => header[col].trim();
    const records = bindRecords(this.plans, bindSource, missing, headerText);
    const filter = this.filter.map((c): BoundCondition => {
      const src = bindSource([c.source]);
      if (src.kind === S_NONE && c.test !== C_PRESENT) missing.push({ what: `the filter on '${c.source}'`, aliases: [c.source] });
      return { ...src, plan: c };
    });
    if (missing.length > 0) {
      const seen = new Set<string>();
      const parts = missing
        .map((m) => `no column for ${m.what} (tried ${m.aliases.map((a) => `"${a}"`).join(', ')})`)
        .filter((t) => !seen.has(t) && (seen.add(t), true));
      const found = listOf(header.map((h) => `"${h.trim()}"`), 40);
      const error: RowError = {
        line: headerLine,
        code: 'E_MISSING_COLUMN',
        message: `${parts.join('; ')}; the header (line ${headerLine}) has: ${found || '(nothing)'}`,
      };
      if (missing[0].field !== undefined) error.field = missing[0].field;
      return { error };
    }
    const columns: Record<string, { header: string; index: number }> = {};
    for (const br of records) {
      for (const bf of br.fields) if (bf.kind === S_COLUMN && !(bf.plan.name in columns)) columns[bf.plan.name] = { header: header[bf.col].trim(), index: bf.col };
    }
    return new BoundCsv(new Engine(records, filter, this.fileMissing, this.validate), columns);
  }

  mapXmlRecord(rec: XmlRecordLike, file: string): RowMapResult {
    const engine = this.treeEngine();
    const ctx = engine.ctx;
    ctx.xml = rec;
    ctx.values = null;
    ctx.line = rec.line;
    ctx.errLine = rec.line;
    ctx.file = file;
    return engine.run();
  }

  mapDocument(fileName: string): RowMapResult {
    const engine = this.treeEngine();
    const ctx = engine.ctx;
    ctx.xml = null;
    ctx.values = null;
    ctx.line = 1;
    ctx.errLine = undefined;
    ctx.file = fileName;
    return engine.run();
  }

  private treeEngine(): Engine {
    if (this.tree === undefined) {
      const format = this.format === 'csv' ? 'document' : this.format;
      const bindSource = (aliases: string[]): BoundSource => bindTreeSource(aliases, format);
      const records = bindRecords(this.plans, bindSource, null, (_c, alias) => alias);
      const filter = this.filter.map((c): BoundCondition => ({ ...bindSource([c.source]), plan: c }));
      this.tree = new Engine(records, filter, this.fileMissing, this.validate);
    }
    return this.tree;
  }
}

/** Compiles a validated mapping (from loadMapping) once; the result maps any number of files. */
export function compileMapping(spec: MappingSpec, hash: string): CompiledMapping {
  return new Compiled(spec, hash);
}
