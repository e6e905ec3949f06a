// Checks a schema cannot express, each located at the key or value to fix: canonical field names
// per record kind, required fields without a source, regexes, time zones, date patterns, `each`
// wiring, constants and map targets in canonical form, partner/feed vs file location.
// Runs defensively on data that may also have schema errors: anything of the wrong shape is
// skipped here (the schema already reported it).

import { checkGrid, GRID_SOURCES } from './grid-check.js';
import { RECORD_KINDS } from '../model/records.js';
import type { IdScheme, RecordKind } from '../model/types.js';
import { checkDateFormat, formatHasOffset, isValidZone, ISO_FORMAT } from './date-format.js';
import type { Severity } from './diagnostics.js';
import {
  allowedValueTypes, canonicalField, canonicalFieldNames, coerceConstant, effectiveType, isRecordKind, RESULT_FIELD, SPEC_FIELD,
} from './field-types.js';
import type { FieldValueType } from './spec.js';
import { normalizeHeader } from './headers.js';
import { closest, didYouMean, listOf } from './suggest.js';
import { compileFieldPath, compileRecordPath } from '../parse/xml-path.js';
import { ConvError } from './values.js';
import { escapePointer } from './yaml-source.js';
import { parseTemplate } from './plan.js';
import type { ProblemCode } from '../codes.js';

export interface CheckReport {
  (ptr: string, part: 'key' | 'value', severity: Severity, code: ProblemCode, message: string): void;
}

export interface CheckContext {
  report: CheckReport;
  /** Source text of non-string scalars, by pointer (to show and keep `00123` as written). */
  sourceText: ReadonlyMap<string, string>;
  expectedPartner?: string;
  expectedFeed?: string;
  /** The mapping declares `grid` (set by checkMappingSemantics): the grid sources may be read. */
  grid?: boolean;
  /** Filled in by checkMappingSemantics: xml.namespaces and the names under joins. */
  namespaces?: Record<string, string>;
  joinNames?: string[];
}

export const SPECIAL_SOURCES = ['$file', '$line', '$each', '$eachColumn', '$eachMatch', ...GRID_SOURCES] as const;
const TESTS = ['equals', 'in', 'notIn', 'matches', 'present'] as const;
// Spellings of "not detected" that a `result` field would otherwise turn into qualifier ND.
const ND_SPELLINGS = new Set(['nd', 'n.d.', 'n.d', 'not detected', 'n.n.', '<lod']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const has = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;
const p = (base: string, ...segs: (string | number)[]): string => base + segs.map((s) => '/' + escapePointer(String(s))).join('');
const norm = (s: string): string => normalizeHeader(s);

/** Pointer of item i of a value that may be a single string (then: the value itself). */
const itemPtr = (base: string, value: unknown, i: number): string => (Array.isArray(value) ? p(base, i) : base);

export function regexProblem(source: string, needGroup: boolean): string | undefined {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (e) {
    return `invalid regular expression /${source}/: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
  if (needGroup) {
    const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
    if (groups === 0) return `regular expression /${source}/ has no capture group; wrap the part to keep in ( )`;
  }
  return undefined;
}

let zoneNames: string[] | undefined;
function zoneSuggestion(tz: string): string {
  zoneNames ??= typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return didYouMean(tz, zoneNames);
}

export function checkMappingSemantics(raw: unknown, ctx: CheckContext): void {
  if (!isObj(raw)) return;
  ctx = { ...ctx, grid: isObj(raw.grid) };
  const { report } = ctx;
  const format = typeof raw.format === 'string' ? raw.format : 'csv';
  checkGrid(raw, format, report);
  const namespaces = isObj(raw.xml) && isObj(raw.xml.namespaces) ? (Object.fromEntries(Object.entries(raw.xml.namespaces).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : undefined;
  ctx = { ...ctx, namespaces, joinNames: isObj(raw.joins) ? Object.keys(raw.joins) : [] };
  if (isObj(raw.joins)) {
    if (format !== 'xml') report('/joins', 'key', 'error', 'E_BAD_SOURCE', `joins look up values inside one XML document; format ${format} has none`);
    else checkJoins(raw.joins, report, namespaces);
  }
  if (format === 'xml' && isObj(raw.xml) && typeof raw.xml.record === 'string') {
    try {
      compileRecordPath(raw.xml.record, namespaces);
    } catch (e) {
      report('/xml/record', 'value', 'error', 'E_XML_PATH', (e as Error).message);
    }
  }

  if (ctx.expectedPartner !== undefined && typeof raw.partner === 'string' && raw.partner !== ctx.expectedPartner) {
    report('/partner', 'value', 'error', 'E_PARTNER_MISMATCH', `partner '${raw.partner}' does not match the folder this file is in ('${ctx.expectedPartner}'); mappings live in mappings/<partner>/<feed>.yaml`);
  }
  if (ctx.expectedFeed !== undefined && typeof raw.feed === 'string' && raw.feed !== ctx.expectedFeed) {
    report('/feed', 'value', 'error', 'E_FEED_MISMATCH', `feed '${raw.feed}' does not match the file name ('${ctx.expectedFeed}.yaml')`);
  }

  // Format-specific options.
  if (has(raw, 'xlsx') && format !== 'xlsx') report('/xlsx', 'key', 'warning', 'W_UNUSED_OPTION', `xlsx options only apply to format xlsx (this mapping is ${format})`);
  if (format === 'xml' && !has(raw, 'xml')) {
    report(has(raw, 'format') ? '/format' : '', 'key', 'error', 'E_MISSING_KEY', 'format xml needs xml.record (the path of the record elements)');
  }
  if (format === 'fixed' && !has(raw, 'fixed')) report(has(raw, 'format') ? '/format' : '', 'key', 'error', 'E_MISSING_KEY', 'format fixed needs fixed.columns (the column positions)');
  if (format === 'fixed' && isObj(raw.fixed) && Array.isArray(raw.fixed.columns)) checkFixedSources(raw, raw.fixed.columns, report);
  if (format === 'fixed' && isObj(raw.dialect)) {
    for (const k of Object.keys(raw.dialect)) {
      if (!['encoding', 'decimal', 'thousands', 'skipEmptyRows', 'trim'].includes(k)) report(p('/dialect', k), 'key', 'warning', 'W_UNUSED_OPTION', `dialect.${k} is ignored for format fixed (columns are cut at fixed.columns; fixed.skip skips heading lines)`);
    }
  }
  if (format !== 'fixed' && has(raw, 'fixed')) report('/fixed', 'key', 'warning', 'W_UNUSED_OPTION', `fixed options only apply to format fixed (this mapping is ${format})`);
  if (format !== 'xml' && has(raw, 'xml')) report('/xml', 'key', 'warning', 'W_UNUSED_OPTION', `xml options are ignored for format ${format}`);
  if (format === 'document' && has(raw, 'dialect')) report('/dialect', 'key', 'warning', 'W_UNUSED_OPTION', 'dialect is ignored for format document');
  if (format === 'xml' && isObj(raw.dialect)) {
    for (const k of Object.keys(raw.dialect)) {
      if (k !== 'decimal' && k !== 'thousands') report(p('/dialect', k), 'key', 'warning', 'W_UNUSED_OPTION', `dialect.${k} is ignored for format xml (only decimal and thousands apply)`);
    }
  }
  if (isObj(raw.dialect)) {
    const d = raw.dialect;
    if (typeof d.decimal === 'string' && d.decimal === d.thousands) {
      report('/dialect/thousands', 'value', 'error', 'E_BAD_DIALECT', `thousands separator "${d.thousands}" is the same as the decimal separator`);
    }
    if (typeof d.delimiter === 'string' && (d.delimiter === d.decimal) && format === 'csv') {
      report('/dialect/delimiter', 'value', 'warning', 'W_DIALECT', `delimiter "${d.delimiter}" is also the decimal separator: decimal values must be quoted`);
    }
    if (typeof d.delimiter === 'string' && typeof d.quote === 'string' && d.delimiter === d.quote) {
      report('/dialect/quote', 'value', 'error', 'E_BAD_DIALECT', `quote "${d.quote}" is the same as the delimiter`);
    }
  }
  const fileMissing = strings(raw.missing);
  checkMarkers('/missing', raw.missing, report);
  if (isObj(raw.sections)) {
    if (format !== 'csv' && format !== 'xlsx') report('/sections', 'key', 'error', 'E_BAD_SOURCE', `sections split CSV files into tables; format ${format} has none`);
    if (typeof raw.sections.end === 'string') {
      const problem = regexProblem(raw.sections.end, false);
      if (problem) report('/sections/end', 'value', 'error', 'E_BAD_REGEX', problem);
    }
    if (isObj(raw.dialect) && has(raw.dialect, 'headerRow')) report('/dialect/headerRow', 'key', 'warning', 'W_UNUSED_OPTION', 'with sections, header rows are found by sections.header; headerRow is not used');
  }

  if (Array.isArray(raw.filter)) {
    raw.filter.forEach((c, i) => checkCondition(p('/filter', i), c, { ctx, format, inWhen: false, hasEach: false, fieldNames: [] }));
  }

  if (Array.isArray(raw.records)) {
    raw.records.forEach((rec, i) => {
      if (isObj(rec)) checkRecord(p('/records', i), rec, { ctx, format, fileMissing });
    });
  }
}

function checkMarkers(ptr: string, value: unknown, report: CheckReport): void {
  if (!Array.isArray(value)) return;
  const seen = new Set<string>();
  value.forEach((m, i) => {
    if (typeof m !== 'string') return;
    if (seen.has(norm(m))) report(p(ptr, i), 'value', 'warning', 'W_DUPLICATE_MARKER', `missing marker "${m}" is listed twice`);
    seen.add(norm(m));
  });
}

interface ConditionScope {
  ctx: CheckContext;
  format: string;
  inWhen: boolean;
  hasEach: boolean;
  fieldNames: string[];
}

function checkSource(ptr: string, source: string, scope: { ctx: CheckContext; format: string; hasEach: boolean; what: string }): void {
  const { report } = scope.ctx;
  if (scope.format === 'xml' && !(SPECIAL_SOURCES as readonly string[]).includes(source)) {
    if (source.startsWith('$each/') && !scope.hasEach) report(ptr, 'value', 'error', 'E_EACH_MISSING', `${scope.what} reads ${source}, but this record has no 'each'`);
    const problem = xmlPathProblem(source.startsWith('$each/') ? source.slice(6) : source, scope.ctx.namespaces);
    if (problem !== null) report(ptr, 'value', 'error', 'E_XML_PATH', problem);
    if (!source.startsWith('$') || source.startsWith('$each/')) return;
  }
  if (source.startsWith('$')) {
    if (!(SPECIAL_SOURCES as readonly string[]).includes(source)) {
      report(ptr, 'value', 'error', 'E_BAD_SOURCE', `unknown special source '${source}'${didYouMean(source, SPECIAL_SOURCES)}; special sources are ${SPECIAL_SOURCES.join(', ')}`);
      return;
    }
    if ((GRID_SOURCES as readonly string[]).includes(source) && scope.ctx.grid !== true) {
      report(ptr, 'value', 'error', 'E_BAD_SOURCE', `${scope.what} reads ${source}, which only a mapping with \`grid\` (plate-reader grids) has`);
    }
    if ((source === '$each' || source === '$eachColumn' || source === '$eachMatch') && !scope.hasEach) {
      report(ptr, 'value', 'error', 'E_EACH_MISSING', `${scope.what} reads ${source}, but this record has no 'each' list of wide columns`);
    }
    if (scope.format === 'document' && source !== '$file') {
      report(ptr, 'value', 'error', 'E_BAD_SOURCE', `format document has no rows: ${scope.what} can only read $file (use extract to take parts of the name)`);
    }
    return;
  }
  if (scope.format === 'document') {
    report(ptr, 'value', 'error', 'E_BAD_SOURCE', `format document has no columns: ${scope.what} can only read $file (use extract to take parts of the name), or use const/default`);
  }
}

function checkCondition(ptr: string, c: unknown, scope: ConditionScope): void {
  if (!isObj(c)) return;
  const { report } = scope.ctx;
  const tests = TESTS.filter((t) => has(c, t));
  if (tests.length === 0) report(ptr, 'value', 'error', 'E_BAD_CONDITION', `condition on '${String(c.field)}' needs one test: ${TESTS.join(', ')}`);
  if (tests.length > 1) report(p(ptr, tests[1]), 'key', 'error', 'E_BAD_CONDITION', `condition has several tests (${tests.join(', ')}); write one condition per test (all must hold)`);
  if (typeof c.matches === 'string') {
    const problem = regexProblem(c.matches, false);
    if (problem) report(p(ptr, 'matches'), 'value', 'error', 'E_BAD_REGEX', problem);
  }
  if (typeof c.field !== 'string') return;
  if (c.field.startsWith('=')) {
    const name = c.field.slice(1);
    if (!scope.inWhen) {
      report(p(ptr, 'field'), 'value', 'error', 'E_BAD_CONDITION', `'${c.field}' refers to a mapped canonical field, which only a record's 'when' can see; filter on the source column instead`);
    } else if (!scope.fieldNames.includes(name)) {
      report(p(ptr, 'field'), 'value', 'error', 'E_UNKNOWN_FIELD', `'${c.field}': this record has no field '${name}'${didYouMean(name, scope.fieldNames)}`);
    }
    return;
  }
  checkSource(p(ptr, 'field'), c.field, { ctx: scope.ctx, format: scope.format, hasEach: scope.hasEach, what: 'this condition' });
}

interface RecordScope {
  ctx: CheckContext;
  format: string;
  fileMissing: string[];
}

function checkRecord(ptr: string, rec: Obj, scope: RecordScope): void {
  const { report } = scope.ctx;
  const kind = isRecordKind(rec.emit) ? rec.emit : undefined;
  const fields = isObj(rec.fields) ? rec.fields : {};
  const fieldNames = Object.keys(fields);
  const each = Array.isArray(rec.each) ? rec.each.filter(isObj) : [];
  const hasEach = has(rec, 'each');

  if (scope.format === 'document' && hasEach) report(p(ptr, 'each'), 'key', 'error', 'E_BAD_SOURCE', 'format document has no columns: each cannot be used');

  if (Array.isArray(rec.when)) {
    rec.when.forEach((c, i) => checkCondition(p(ptr, 'when', i), c, { ctx: scope.ctx, format: scope.format, inWhen: true, hasEach, fieldNames }));
  }

  let readsEach = false;
  for (const name of fieldNames) {
    const fs = fields[name];
    if (!isObj(fs)) continue;
    if (strings(fs.from).some((f) => f === '$each' || f.startsWith('$each/'))) readsEach = true;
    if (kind !== undefined) checkField(p(ptr, 'fields', name), name, fs, kind, { ...scope, hasEach });
  }

  if (hasEach && !readsEach && each.length > 0) {
    report(p(ptr, 'each'), 'key', 'error', 'E_EACH_UNUSED', "'each' lists wide columns, but no field reads them: add a field with from: $each (e.g. result: { from: $each })");
  }

  // Wide columns: aliases unique across entries (else one column yields two records), set keys canonical.
  const seenColumns = new Map<string, number>();
  each.forEach((e, i) => {
    const ways = ['column', 'columns', 'allExcept', 'path', 'join'].filter((k) => has(e, k));
    if (ways.length !== 1) report(p(ptr, 'each', i), 'key', 'error', 'E_SCHEMA', `each[${i}] needs exactly one of column (listed headers), columns (a header pattern), allExcept (all other columns), path (XML elements) or join (XML join values); it has ${ways.length === 0 ? 'none' : ways.join(' and ')}`);
    if ((has(e, 'path') || has(e, 'join')) && scope.format !== 'xml') report(p(ptr, 'each', i), 'key', 'error', 'E_BAD_SOURCE', `each path / join read XML elements; format ${scope.format} has none`);
    if (has(e, 'join') !== has(e, 'key')) report(p(ptr, 'each', i), 'key', 'error', 'E_SCHEMA', `each[${i}]: join and key go together (the join to ask, and the path of the keys in the record)`);
    if (typeof e.join === 'string' && !(scope.ctx.joinNames ?? []).includes(e.join)) report(p(ptr, 'each', i, 'join'), 'value', 'error', 'E_UNKNOWN_FIELD', `no join "${e.join}" is declared under joins${didYouMean(e.join, scope.ctx.joinNames ?? [])}`);
    if (typeof e.path === 'string') {
      const problem = xmlPathProblem(e.path, scope.ctx.namespaces);
      if (problem !== null) report(p(ptr, 'each', i, 'path'), 'value', 'error', 'E_XML_PATH', problem);
    }
    strings(e.key).forEach((k, j) => {
      const problem = xmlPathProblem(k, scope.ctx.namespaces);
      if (problem !== null) report(itemPtr(p(ptr, 'each', i, 'key'), e.key, j), 'value', 'error', 'E_XML_PATH', problem);
    });
    if (typeof e.columns === 'string') {
      const problem = regexProblem(e.columns, false);
      if (problem) report(p(ptr, 'each', i, 'columns'), 'value', 'error', 'E_BAD_REGEX', problem);
    }
    if ((has(e, 'columns') || has(e, 'allExcept')) && scope.format !== 'csv' && scope.format !== 'xlsx' && scope.format !== 'fixed') report(p(ptr, 'each', i), 'key', 'error', 'E_BAD_SOURCE', `columns / allExcept pick CSV columns by header; format ${scope.format} has none: list the paths under column`);
    const cols = strings(e.column);
    cols.forEach((col, j) => {
      const key = norm(col);
      const first = seenColumns.get(key);
      if (first !== undefined) {
        report(itemPtr(p(ptr, 'each', i, 'column'), e.column, j), 'value', 'error', 'E_DUPLICATE_ALIAS', `column '${col}' is already listed in each[${first}]; one column would produce two records`);
      } else seenColumns.set(key, i);
    });
    if (kind !== undefined && isObj(e.set)) {
      for (const [k, v] of Object.entries(e.set)) {
        const setPtr = p(ptr, 'each', i, 'set', k);
        const def = canonicalField(kind, k);
        if (def === undefined) {
          report(setPtr, 'key', 'error', 'E_UNKNOWN_FIELD', `'${k}' is not a field of ${kind}${didYouMean(k, canonicalFieldNames(kind))}`);
          continue;
        }
        const fs = isObj(fields[k]) ? (fields[k] as Obj) : {};
        const type = effectiveType(kind, k, { type: fs.type as FieldValueType | undefined });
        const out = coerceConstant(constantText(v, setPtr, scope.ctx, type), { type, enumValues: def.enum, tz: strings(fs.tz)[0], separator: strings(fs.separator)[0] });
        if (out instanceof ConvError) report(setPtr, 'value', 'error', 'E_BAD_CONSTANT', `each[${i}].set.${k}: ${out.message}`);
      }
    }
  });

  if (kind === undefined) return;
  // Required canonical fields need a source, here or in every wide column's `set`.
  const provided = (name: string): boolean => {
    const fs = fields[name];
    if (isObj(fs) && fs.xref === undefined && (has(fs, 'from') || has(fs, 'template') || has(fs, 'const') || has(fs, 'default'))) return true;
    return each.length > 0 && each.every((e) => isObj(e.set) && has(e.set, name));
  };
  const emitPtr = has(rec, 'emit') ? p(ptr, 'emit') : ptr;
  for (const [name, def] of Object.entries(RECORD_KINDS[kind].fields)) {
    if (def.required && !provided(name)) {
      report(emitPtr, 'value', 'error', 'E_REQUIRED_FIELD_UNMAPPED', `${kind} needs '${name}' (required), but this mapping gives it no from, const or default${hasEach ? ' (nor a set value in every each column)' : ''}`);
    }
  }
  if (RECORD_KINDS[kind].lotRef) {
    const hasXref = fieldNames.some((n) => isObj(fields[n]) && typeof (fields[n] as Obj).xref === 'string');
    if (!hasXref && !provided('lotNumber') && !provided('poNumber')) {
      report(emitPtr, 'value', 'error', 'E_NO_LOT_REF_FIELD', `${kind} records must name their lot: add a field with xref (e.g. batch: { from: "Batch No", xref: cmo_batch }), or lotNumber, or poNumber`);
    }
  }
}

/** The text of a constant as written (so `const: 00123` on a string field is "00123", not 123). */
function constantText(v: unknown, ptr: string, ctx: CheckContext, type: FieldValueType): unknown {
  if (type === 'string' && (typeof v === 'number' || typeof v === 'boolean')) return ctx.sourceText.get(ptr) ?? String(v);
  return v;
}

function checkField(ptr: string, name: string, fs: Obj, kind: RecordKind, scope: RecordScope & { hasEach: boolean }): void {
  const { report } = scope.ctx;
  const xref = typeof fs.xref === 'string' ? (fs.xref as IdScheme) : undefined;
  const def = canonicalField(kind, name);
  const isResult = kind === 'test_result' && (name === RESULT_FIELD || name === SPEC_FIELD);
  if (xref === undefined && def === undefined && !isResult) {
    const names = canonicalFieldNames(kind);
    const near = closest(name, names);
    report(ptr, 'key', 'error', 'E_UNKNOWN_FIELD', `'${name}' is not a field of ${kind}${near ? `; did you mean '${near}'?` : ''} (fields: ${listOf(names)}; other names need xref: <scheme> to be a lot identifier)`);
    return;
  }
  if (xref !== undefined && (def !== undefined || isResult)) {
    report(p(ptr, 'xref'), 'key', 'warning', 'W_XREF_SHADOWS', `'${name}' has xref, so it becomes a ${xref} identifier of the lot, not the ${kind}.${name} field; give the identifier another name if you want both`);
  }

  const hasFrom = has(fs, 'from') || has(fs, 'template') || fs.sequence === true;
  if (fs.sequence === true && (has(fs, 'from') || has(fs, 'template'))) report(p(ptr, 'sequence'), 'key', 'error', 'E_CONFLICTING_SOURCE', `field '${name}' has both sequence and from/template; keep one`);
  if (fs.sequence === true && !(kind === 'test_result' && name === 'replicate')) {
    report(p(ptr, 'sequence'), 'key', 'warning', 'W_UNUSED_OPTION', `sequence numbers repeated test results; it belongs on test_result.replicate`);
  }
  const hasConst = has(fs, 'const');
  const hasDefault = has(fs, 'default');
  if (!hasFrom && !hasConst && !hasDefault) {
    report(ptr, 'key', 'error', 'E_NO_SOURCE', `field '${name}' has no from, const or default`);
  }
  if (hasFrom && hasConst) report(p(ptr, 'const'), 'key', 'error', 'E_CONFLICTING_SOURCE', `field '${name}' has both from and const; keep one`);
  if (has(fs, 'from') && has(fs, 'template')) report(p(ptr, 'template'), 'key', 'error', 'E_CONFLICTING_SOURCE', `field '${name}' has both from and template; keep one`);
  if (typeof fs.template === 'string') {
    try {
      const t = parseTemplate(fs.template);
      if (t.names.length === 0) report(p(ptr, 'template'), 'value', 'warning', 'W_UNUSED_OPTION', `template has no {column} placeholder: use const for a fixed value`);
      t.names.forEach((n) => checkSource(p(ptr, 'template'), n, { ctx: scope.ctx, format: scope.format, hasEach: scope.hasEach, what: `field '${name}' template` }));
    } catch (e) {
      report(p(ptr, 'template'), 'value', 'error', 'E_BAD_TEMPLATE', (e as Error).message);
    }
  }
  if (has(fs, 'from') && typeof fs.from === 'object' && !Array.isArray(fs.from) && scope.format === 'fixed' && isObj(fs.from) && has(fs.from, 'block')) {
    report(p(ptr, 'from'), 'value', 'error', 'E_BAD_SOURCE', `from: { block } reads the lines above a CSV header; a fixed-width file has only its declared columns`);
  }
  if (has(fs, 'from') && typeof fs.from === 'object' && !Array.isArray(fs.from) && scope.format !== 'csv' && scope.format !== 'xlsx' && scope.format !== 'fixed') {
    report(p(ptr, 'from'), 'value', 'error', 'E_BAD_SOURCE', `from: { block / column / header / rightOf } addresses CSV cells; format ${scope.format} has none`);
  }
  if (hasConst && hasDefault) report(p(ptr, 'default'), 'key', 'warning', 'W_UNUSED_OPTION', `default never applies to a const field`);
  if (fs.required === true && hasDefault) report(p(ptr, 'required'), 'key', 'warning', 'W_UNUSED_OPTION', `required never fails for a field with a default`);

  // Sources.
  const froms = strings(fs.from);
  const seen = new Set<string>();
  froms.forEach((src, i) => {
    const at = itemPtr(p(ptr, 'from'), fs.from, i);
    checkSource(at, src, { ctx: scope.ctx, format: scope.format, hasEach: scope.hasEach, what: `field '${name}'` });
    if (seen.has(norm(src))) report(at, 'value', 'warning', 'W_DUPLICATE_ALIAS', `header alias '${src}' is listed twice for '${name}' (headers match ignoring case and spaces around)`);
    seen.add(norm(src));
  });

  // Type.
  const allowed = allowedValueTypes(kind, name, { xref });
  const declared = typeof fs.type === 'string' ? (fs.type as FieldValueType) : undefined;
  if (declared !== undefined && !allowed.includes(declared)) {
    const what = xref !== undefined ? `'${name}' is an identifier (text)` : isResult ? (name === SPEC_FIELD ? `'spec' is split into specLow/specHigh/specText` : `'result' is split into resultRaw/resultValue/qualifier`) : `${kind}.${name} is a ${def!.type === 'string[]' ? 'list' : def!.type} field`;
    report(p(ptr, 'type'), 'value', 'error', 'E_TYPE_MISMATCH', `${what}; type ${declared} would make every record invalid; use ${allowed.join(' or ')}${declared === 'result' ? ' (type result belongs on the test_result field named result)' : ''}`);
    return;
  }
  const type = effectiveType(kind, name, { type: declared, xref });
  const isDate = type === 'date' || type === 'datetime';

  // Dates.
  const formats = strings(fs.format);
  if (has(fs, 'format') && !isDate) report(p(ptr, 'format'), 'key', 'warning', 'W_UNUSED_OPTION', `format only applies to date and datetime fields ('${name}' is ${type})`);
  if (has(fs, 'plausible') && !isDate) report(p(ptr, 'plausible'), 'key', 'warning', 'W_UNUSED_OPTION', `plausible only applies to date and datetime fields ('${name}' is ${type})`);
  if (isDate) {
    formats.forEach((f, i) => {
      const at = itemPtr(p(ptr, 'format'), fs.format, i);
      const check = checkDateFormat(f);
      for (const m of check.errors) report(at, 'value', 'error', 'E_BAD_DATE_FORMAT', m);
      for (const m of check.warnings) report(at, 'value', 'warning', 'W_DATE_FORMAT', m);
    });
  }
  if (typeof fs.tz === 'string') {
    if (!isValidZone(fs.tz)) report(p(ptr, 'tz'), 'value', 'error', 'E_BAD_TZ', `unknown time zone '${fs.tz}'${zoneSuggestion(fs.tz) || '; use an IANA name like Europe/Berlin or America/New_York'}`);
    else if (type !== 'datetime') report(p(ptr, 'tz'), 'key', 'warning', 'W_UNUSED_OPTION', `tz only applies to datetime fields ('${name}' is ${type})`);
  } else if (type === 'datetime' && hasFrom && formats.length > 0 && !formats.some((f) => f === ISO_FORMAT || formatHasOffset(f))) {
    report(p(ptr, 'format'), 'value', 'warning', 'W_NO_TZ', `'${name}' values carry no UTC offset and no tz is set, so they are read as UTC; set tz (e.g. Europe/Berlin) if the partner writes local time`);
  }
  if (typeof fs.locale === 'string') {
    let wellFormed = true;
    try {
      new Intl.Locale(fs.locale);
    } catch {
      wellFormed = false;
    }
    // Well-formed is not enough: "xx-bogus" or "klingon" would silently fall back to another
    // language's month names and AM/PM markers.
    if (!wellFormed || Intl.DateTimeFormat.supportedLocalesOf([fs.locale]).length === 0) {
      report(p(ptr, 'locale'), 'value', 'error', 'E_BAD_LOCALE', `'${fs.locale}' is not a ${wellFormed ? 'locale this system knows' : 'locale'} (e.g. en-US, de-DE, fr-FR)`);
    }
  }

  // Options that only make sense for some types.
  if (has(fs, 'separator') && type !== 'list') report(p(ptr, 'separator'), 'key', 'warning', 'W_UNUSED_OPTION', `separator only applies to list fields ('${name}' is ${type})`);
  if (has(fs, 'qualifiers') && type !== 'result') report(p(ptr, 'qualifiers'), 'key', 'warning', 'W_UNUSED_OPTION', `qualifiers only apply to the result field ('${name}' is ${type})`);
  if (has(fs, 'decimal') && type !== 'decimal' && type !== 'integer' && type !== 'result' && type !== 'spec') {
    report(p(ptr, 'decimal'), 'key', 'warning', 'W_UNUSED_OPTION', `decimal only applies to numbers and results ('${name}' is ${type})`);
  }

  if (typeof fs.extract === 'string') {
    const problem = regexProblem(fs.extract, true);
    if (problem) report(p(ptr, 'extract'), 'value', 'error', 'E_BAD_REGEX', problem);
  }

  // Value map.
  const enumValues = xref === undefined ? def?.enum : undefined;
  if (isObj(fs.map)) {
    const folded = new Map<string, string>();
    for (const [code, target] of Object.entries(fs.map)) {
      const at = p(ptr, 'map', code);
      if (fs.mapCaseInsensitive === true) {
        const prev = folded.get(code.trim().toLowerCase());
        if (prev !== undefined && fs.map[prev] !== target) report(at, 'key', 'error', 'E_DUPLICATE_CODE', `codes '${prev}' and '${code}' are the same ignoring case but map to different values`);
        folded.set(code.trim().toLowerCase(), code);
      }
      if (enumValues !== undefined && target !== null) {
        const text = constantText(target, at, scope.ctx, 'string');
        if (typeof text !== 'string' || !enumValues.includes(text)) {
          report(at, 'value', 'error', 'E_BAD_MAP_VALUE', `'${code}' maps to '${String(text)}', which is not a ${kind}.${name} value (allowed: ${enumValues.join(', ')})${typeof text === 'string' ? didYouMean(text, enumValues) : ''}`);
        }
      }
    }
    if (Object.keys(fs.map).length === 0) report(p(ptr, 'map'), 'value', 'warning', 'W_EMPTY_MAP', 'empty map: every value is unmapped');
  } else if (has(fs, 'unmapped')) {
    report(p(ptr, 'unmapped'), 'key', 'warning', 'W_UNUSED_OPTION', 'unmapped only applies together with map');
  }
  if (has(fs, 'mapCaseInsensitive') && !has(fs, 'map')) report(p(ptr, 'mapCaseInsensitive'), 'key', 'warning', 'W_UNUSED_OPTION', 'mapCaseInsensitive only applies together with map');

  // Constants in canonical form.
  for (const key of ['const', 'default'] as const) {
    if (!has(fs, key)) continue;
    const at = p(ptr, key);
    const out = coerceConstant(constantText(fs[key], at, scope.ctx, type), { type, enumValues, tz: strings(fs.tz)[0], separator: strings(fs.separator)[0] });
    if (out instanceof ConvError) report(at, 'value', 'error', 'E_BAD_CONSTANT', `${key} of '${name}': ${out.message}`);
  }

  // Missing markers that would hide "ND" results.
  const markers = strings(fs.missing);
  checkMarkers(p(ptr, 'missing'), fs.missing, report);
  if (type === 'result') {
    const words = new Set(isObj(fs.qualifiers) ? Object.keys(fs.qualifiers).map(norm) : []);
    const hidden = [...scope.fileMissing, ...markers].filter((m) => ND_SPELLINGS.has(norm(m)) || words.has(norm(m)));
    if (hidden.length > 0) {
      report(ptr, 'key', 'warning', 'W_ND_MISSING', `missing marker(s) ${hidden.map((h) => `"${h}"`).join(', ')} also apply to '${name}': such results become absent instead of qualifier ND`);
    }
  }
}

/** format fixed: every column a field, template or condition names must be a declared column (a typo would empty a field on every line). */
function checkFixedSources(raw: Obj, columns: unknown[], report: CheckContext['report']): void {
  const span = (at: string, c: Obj, what: string): void => {
    const ways = ['end', 'width'].filter((k) => has(c, k));
    if (ways.length !== 1) report(at, 'key', 'error', 'E_SCHEMA', `${what} needs exactly one of end (last position) or width; it has ${ways.length === 0 ? 'neither' : 'both'}`);
    else if (typeof c.end === 'number' && typeof c.start === 'number' && c.end < c.start) report(p(at, 'end'), 'value', 'error', 'E_SCHEMA', `${what}: end ${c.end} is before start ${c.start}`);
  };
  columns.forEach((c, i) => isObj(c) && span(p('/fixed/columns', i), c, `column '${String(c.name)}'`));
  if (isObj(raw.fixed) && isObj(raw.fixed.trailerCount)) span('/fixed/trailerCount', raw.fixed.trailerCount, 'trailerCount');
  if (isObj(raw.fixed) && typeof raw.fixed.trailer === 'string') {
    const problem = regexProblem(raw.fixed.trailer, false);
    if (problem) report('/fixed/trailer', 'value', 'error', 'E_BAD_REGEX', problem);
  }
  const names = columns.filter(isObj).map((c) => (typeof c.name === 'string' ? c.name : '')).filter((n) => n !== '');
  const known = new Set(names.map(norm));
  const check = (at: string, src: string): void => {
    if (src.startsWith('$') || src.startsWith('=') || known.has(norm(src))) return;
    report(at, 'value', 'error', 'E_BAD_SOURCE', `'${src}' is not a column of fixed.columns${didYouMean(src, names)}; the columns are ${names.join(', ')}`);
  };
  const conds = (at: string, list: unknown): void => {
    if (Array.isArray(list)) list.forEach((c, i) => isObj(c) && typeof c.field === 'string' && check(p(at, i, 'field'), c.field));
  };
  conds('/filter', raw.filter);
  if (!Array.isArray(raw.records)) return;
  raw.records.forEach((rec, r) => {
    if (!isObj(rec)) return;
    conds(p('/records', r, 'when'), rec.when);
    if (Array.isArray(rec.each)) rec.each.forEach((e, i) => isObj(e) && strings(e.column).forEach((c, j) => check(itemPtr(p('/records', r, 'each', i, 'column'), e.column, j), c)));
    if (!isObj(rec.fields)) return;
    for (const [name, fs] of Object.entries(rec.fields)) {
      if (!isObj(fs)) continue;
      const at = p('/records', r, 'fields', name);
      strings(fs.from).forEach((src, i) => check(itemPtr(p(at, 'from'), fs.from, i), src));
      if (typeof fs.template === 'string') {
        try {
          for (const n of parseTemplate(fs.template).names) check(p(at, 'template'), n);
        } catch {
          // reported by checkField
        }
      }
    }
  });
}

/** Why an XML field path cannot work, or null. */
function xmlPathProblem(path: string, ns: Record<string, string> | undefined): string | null {
  try {
    compileFieldPath(path, ns);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** joins: every path compiles, record selectors name elements. */
function checkJoins(joins: Obj, report: CheckContext['report'], ns: Record<string, string> | undefined): void {
  for (const [name, j] of Object.entries(joins)) {
    if (!isObj(j)) continue;
    const at = p('/joins', name);
    const paths: [string, unknown][] = [[p(at, 'value'), j.value], [p(at, 'key'), j.key]];
    if (isObj(j.contains)) paths.push([p(at, 'contains', 'parent'), j.contains.parent], [p(at, 'contains', 'children'), j.contains.children]);
    for (const [ptr, v] of paths) {
      strings(v).forEach((s, i) => {
        const problem = xmlPathProblem(s, ns);
        if (problem !== null) report(itemPtr(ptr, v, i), 'value', 'error', 'E_XML_PATH', problem);
      });
    }
    for (const [ptr, v] of [[p(at, 'records'), j.records], [p(at, 'contains', 'records'), isObj(j.contains) ? j.contains.records : undefined]] as const) {
      if (typeof v !== 'string') continue;
      try {
        if (compileRecordPath(v).length !== 1) report(ptr, 'value', 'error', 'E_XML_PATH', `name the record elements ("ObjectEvent", "a|b"), not a path`);
      } catch (e) {
        report(ptr, 'value', 'error', 'E_XML_PATH', (e as Error).message);
      }
    }
  }
}
