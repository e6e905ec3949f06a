// The row loop: one row (CSV values, an XML record, or a document's name) through the bound
// plans of every record spec → typed, validated MappedRecords and located RowErrors. No regex
// compilation and no closures per row; one context object is reused for the whole file.

import type { RecordValidator } from '../model/schemas.js';
import type { MappedRecord, RowError } from '../model/types.js';
import type { RowMapResult, XmlRecordLike } from './compile.js';
import { RESULT_FIELD, SPEC_FIELD } from './field-types.js';
import {
  C_EQUALS, C_IN, C_MATCHES, C_NOT_IN, DROPPED, FAILED, OK, S_BLOCK, S_COLUMN, S_EACH, S_EACH_COLUMN, S_EACH_MATCH, S_FILE, S_JOIN_EACH, S_LINE, S_NONE, S_TEMPLATE, S_XML, S_XML_EACH, SKIPPED, T_ID, T_RESULT, T_SPEC, S_GRID_VALUE, S_WELL, S_GRID_ROW, S_GRID_COLUMN, S_SAMPLE, S_GRID, S_PLATE,
  show, specialKind, type ConditionPlan, type EachPlan, type FieldPlan, type RecordPlan,
} from './plan.js';
import { ConvError, type ParsedResult } from './values.js';
import type { ErrorCode } from '../codes.js';
import type { ParsedSpec } from './spec-text.js';
import type { GridCell } from './grid.js';
import { SequenceCounter } from './sequence.js';
import type { JoinLookup } from './xml-join.js';

// Bound plans: per file (CSV header resolved to column indexes) or per XML/document mapping.

export interface BoundSource {
  kind: number;
  col: number; // 0-based CSV column, -1 otherwise
  aliases: string[]; // XML paths; S_BLOCK: [block key]; S_TEMPLATE: the literals around the parts
  /** S_TEMPLATE: the sources of the placeholders. */
  parts?: BoundSource[];
  /** S_BLOCK: the line the value stands on. */
  blockLine?: number;
}

export interface BoundField extends BoundSource {
  plan: FieldPlan;
}

export interface BoundCondition extends BoundSource {
  plan: ConditionPlan;
}

export interface BoundEach extends BoundSource {
  plan: EachPlan;
  header: string;
  /** Pattern columns: the first capture group of the header (else the header). */
  match?: string;
}

export interface BoundRecord {
  plan: RecordPlan;
  fields: BoundField[];
  rowWhen: BoundCondition[];
  eachWhen: BoundCondition[];
  postWhen: BoundCondition[];
  each: BoundEach[] | null;
}

export interface Ctx {
  values: string[] | null;
  xml: XmlRecordLike | null;
  file: string;
  line: number;
  errLine: number | undefined;
  eachValue: string | undefined;
  eachColumn: string | undefined;
  eachCol: number;
  /** The `each` column's capture group (pattern columns). */
  eachMatch: string | undefined;
  /** Key/value block values by block key. */
  block: Map<string, string>;
  /** Grid mappings: the well being mapped. */
  cell?: GridCell | null;
  /** The file's counters of `sequence: true` fields (one per file, shared by its sections and plates). */
  sequence?: SequenceCounter;
  /** XML `each: [{ path }]`: the current element (read with `$each/…`). */
  eachXml: XmlRecordLike | null;
  /** XML joins of the current document (built in the first pass). */
  joins: JoinLookup | null;
  /** Set when a field's XML path matched several elements (E_XML_SEVERAL_VALUES). */
  several: { path: string; values: string[] } | null;
}

/** "Now" for date plausibility, set per file (the ingest clock, or the time of a dry run). */
export interface Clock {
  ms: number;
}

const DAY_MS = 86_400_000;

export class Engine {
  private readonly scratch: RowError[] = [];
  /** Set by mapRecord when it drops a record on purpose (unmapped: skip, a `=field` when). */
  private dropNote = '';
  private readonly labels: string[];
  /** Records produced so far by each record spec (for the dry run's per-`each` counts). */
  readonly produced: number[];
  readonly ctx: Ctx = { values: null, xml: null, file: '', line: 0, errLine: undefined, eachValue: undefined, eachColumn: undefined, eachCol: -1, eachMatch: undefined, block: new Map(), eachXml: null, joins: null, several: null };

  constructor(
    private readonly records: BoundRecord[],
    private readonly filter: BoundCondition[],
    private readonly fileMissing: Set<string>,
    private readonly validate: RecordValidator,
    private readonly clock: Clock,
  ) {
    this.labels = records.map((br, i) => `records[${i}] ${br.plan.kind}`);
    this.produced = records.map(() => 0);
  }

  run(): RowMapResult {
    const out: RowMapResult = { records: [], errors: [], filtered: 0 };
    const fi = this.failing(this.filter, null);
    if (fi >= 0) {
      out.filtered = 1;
      out.why = [`filter [${this.filter[fi].plan.label}] not met`];
      return out;
    }
    let skipped = 0;
    // Reasons are only collected as far as a record spec produced nothing; most rows need none.
    let why: string[] | null = null;
    for (let r = 0; r < this.records.length; r++) {
      const br = this.records[r];
      const wi = this.failing(br.rowWhen, null);
      if (wi >= 0) {
        (why ??= []).push(`${this.labels[r]}: when [${br.rowWhen[wi].plan.label}] not met`);
        continue;
      }
      if (br.each === null) {
        this.ctx.eachValue = undefined;
        this.ctx.eachColumn = undefined;
        this.ctx.eachCol = -1;
        this.ctx.eachMatch = undefined;
        const st = this.mapRecord(br, null, out);
        if (st === SKIPPED) skipped++;
        if (st === SKIPPED || st === DROPPED) (why ??= []).push(`${this.labels[r]}: ${this.dropNote}`);
        continue;
      }
      let produced = false;
      let note: string | null = null;
      for (let e = 0; e < br.each.length; e++) {
        const be = br.each[e];
        if (be.kind === S_XML_EACH || be.kind === S_JOIN_EACH) {
          const items = this.eachItems(be, out);
          if (items === null) {
            note ??= be.kind === S_XML_EACH ? `no element at each path "${be.aliases[0]}"` : `no key at ${be.aliases.map((a) => `"${a}"`).join(', ')} for join "${be.header}"`;
            continue;
          }
          const line = this.ctx.line;
          const errLine = this.ctx.errLine;
          for (const item of items) {
            this.ctx.eachValue = typeof item === 'string' ? item : item.get('.');
            this.ctx.eachXml = typeof item === 'string' ? null : item;
            this.ctx.eachColumn = be.header;
            this.ctx.eachCol = -1;
            this.ctx.eachMatch = undefined;
            if (typeof item !== 'string') {
              this.ctx.line = item.line;
              if (errLine !== undefined) this.ctx.errLine = item.line;
            }
            const ei = this.failing(br.eachWhen, null);
            if (ei >= 0) {
              note ??= `when [${br.eachWhen[ei].plan.label}] not met`;
              continue;
            }
            const st = this.mapRecord(br, be, out);
            if (st === SKIPPED) skipped++;
            if (st === SKIPPED || st === DROPPED) note ??= this.dropNote;
            else produced = true;
          }
          this.ctx.line = line;
          this.ctx.errLine = errLine;
          this.ctx.eachXml = null;
          continue;
        }
        const v = this.read(be);
        if (v === undefined) continue;
        const t = v.trim();
        if (t === '' || br.plan.eachMissing.has(t.toLowerCase())) continue;
        this.ctx.eachValue = v;
        this.ctx.eachColumn = be.header;
        this.ctx.eachCol = be.col;
        this.ctx.eachMatch = be.match;
        const ei = this.failing(br.eachWhen, null);
        if (ei >= 0) {
          note ??= `when [${br.eachWhen[ei].plan.label}] not met`;
          continue;
        }
        const st = this.mapRecord(br, be, out);
        if (st === SKIPPED) skipped++;
        if (st === SKIPPED || st === DROPPED) note ??= this.dropNote;
        else produced = true;
      }
      if (!produced) (why ??= []).push(`${this.labels[r]}: ${note ?? 'no wide (each) column has a value'}`);
    }
    if (out.records.length === 0 && out.errors.length === 0) {
      out.filtered = skipped > 0 ? skipped : 1;
      out.why = why ?? ['no record spec produced a record'];
    } else out.filtered = skipped;
    return out;
  }

  /**
   * The items of an XML each: the elements at its path, or the values its join resolves the
   * record's keys to (a key that resolves to nothing is an E_JOIN_UNRESOLVED error of the row).
   * null when there is nothing to iterate (no element, no key).
   */
  private eachItems(be: BoundEach, out: RowMapResult): (XmlRecordLike | string)[] | null {
    const xml = this.ctx.xml;
    if (xml === null) return null;
    if (be.kind === S_XML_EACH) {
      const nodes = xml.nodes?.(be.aliases[0]) ?? [];
      return nodes.length === 0 ? null : nodes;
    }
    const keys: string[] = [];
    for (const a of be.aliases) for (const k of xml.getAll(a)) if (k !== '' && !keys.includes(k)) keys.push(k);
    if (keys.length === 0) return null;
    const joins = this.ctx.joins;
    const r = joins === null ? { values: [], unresolved: keys } : joins.resolve(be.header, keys);
    if (r.unresolved.length > 0) {
      const shown = r.unresolved.slice(0, 5).map((k) => JSON.stringify(k)).join(', ') + (r.unresolved.length > 5 ? ` and ${r.unresolved.length - 5} more` : '');
      const e: RowError = {
        code: 'E_JOIN_UNRESOLVED',
        message: `join "${be.header}": ${shown} (read at ${be.aliases.map((a) => `"${a}"`).join(', ')}) resolve${r.unresolved.length === 1 ? 's' : ''} to nothing in this document: no record gives ${r.unresolved.length === 1 ? 'it' : 'them'} a value, directly or through what ${r.unresolved.length === 1 ? 'it contains' : 'they contain'}. Send the events that commission and pack these items in the same document, or check the mapping's joins.`,
        value: r.unresolved.join(' '),
      };
      if (this.ctx.errLine !== undefined) e.line = this.ctx.errLine;
      out.errors.push(e);
      return [];
    }
    return r.values.length === 0 ? null : r.values;
  }

  /** Index of the first condition that does not hold, or -1 when all hold. */
  private failing(conds: BoundCondition[], rec: MappedRecord | null): number {
    for (let i = 0; i < conds.length; i++) if (!this.conditionsHold(conds, rec, i)) return i;
    return -1;
  }

  private read(src: BoundSource): string | undefined {
    const ctx = this.ctx;
    switch (src.kind) {
      case S_COLUMN:
        return ctx.values![src.col];
      case S_XML: {
        for (let i = 0; i < src.aliases.length; i++) {
          const a = src.aliases[i];
          const special = specialKind(a);
          const v = special !== S_NONE ? this.readSpecial(special) : this.xmlValue(a);
          if (v !== undefined) return v;
        }
        return undefined;
      }
      case S_BLOCK:
        return ctx.block.get(src.aliases[0]);
      case S_TEMPLATE: {
        const parts = src.parts!;
        let out = src.aliases[0];
        for (let i = 0; i < parts.length; i++) {
          const v = this.read(parts[i]);
          if (v === undefined) return undefined;
          const t = v.trim();
          if (t === '' || this.fileMissing.has(t.toLowerCase())) return undefined;
          out += t + src.aliases[i + 1];
        }
        return out;
      }
      default:
        return this.readSpecial(src.kind);
    }
  }

  /** Every value at an XML path: of the `each` element for "$each/…", else of the record. */
  private xmlAll(path: string): string[] {
    const ctx = this.ctx;
    if (path.startsWith('$each/')) return ctx.eachXml === null ? [] : ctx.eachXml.getAll(path.slice(6));
    return ctx.xml!.getAll(path);
  }

  /** The one value at an XML path; several values are noted (E_XML_SEVERAL_VALUES), never a silent first-wins. */
  private xmlValue(path: string): string | undefined {
    const all = this.xmlAll(path);
    if (all.length > 1) this.ctx.several ??= { path, values: all };
    return all[0];
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
      case S_EACH_MATCH:
        return this.ctx.eachMatch;
      default:
        return readCell(this.ctx.cell, kind);
    }
  }

  private readXmlList(bf: BoundField): string | undefined {
    for (let i = 0; i < bf.aliases.length; i++) {
      const all = specialKind(bf.aliases[i]) !== S_NONE ? [this.readSpecial(specialKind(bf.aliases[i])) ?? ''].filter((x) => x !== '') : this.xmlAll(bf.aliases[i]);
      if (all.length > 1) return all.join(bf.plan.listSeparator);
      if (all.length === 1) return all[0];
    }
    return undefined;
  }

  /** Whether every condition holds (or only condition `only`, when given). */
  private conditionsHold(conds: BoundCondition[], rec: MappedRecord | null, only = -1): boolean {
    for (let i = only < 0 ? 0 : only; i < (only < 0 ? conds.length : only + 1); i++) {
      const c = conds[i];
      const p = c.plan;
      let v: string | undefined;
      if (p.canonical !== null) {
        const f = rec === null ? undefined : canonicalValue(rec, p.canonical, this.records);
        v = f === undefined || f === null ? undefined : String(f);
      } else if (c.kind === S_XML) {
        // Several elements at the path: the condition holds if one of them passes (none for notIn).
        if (!this.xmlConditionHolds(c)) return false;
        continue;
      } else {
        v = this.read(c);
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

  private xmlConditionHolds(c: BoundCondition): boolean {
    const p = c.plan;
    let values: string[] = [];
    for (const a of c.aliases) {
      const special = specialKind(a);
      values = special !== S_NONE ? [this.readSpecial(special) ?? ''] : this.xmlAll(a);
      values = values.map((x) => x.trim()).filter((x) => x !== '' && !this.fileMissing.has(x.toLowerCase()));
      if (values.length > 0) break;
    }
    switch (p.test) {
      case C_EQUALS: return values.some((x) => x === p.equals);
      case C_IN: return values.some((x) => p.set!.has(x));
      case C_NOT_IN: return values.every((x) => !p.set!.has(x));
      case C_MATCHES: return values.some((x) => p.re!.test(x));
      default: return (values.length > 0) === p.present;
    }
  }

  private mapRecord(br: BoundRecord, be: BoundEach | null, out: RowMapResult): number {
    const ctx = this.ctx;
    const rec: MappedRecord = { kind: br.plan.kind, line: ctx.line, ids: [], fields: {} };
    // Field errors collect in a scratch array reused across records: most records have none.
    let errors = this.scratch;
    errors.length = 0;
    const skipNames = be === null ? null : be.plan.setNames;
    let sequenced: FieldPlan | null = null;
    for (let i = 0; i < br.fields.length; i++) {
      const bf = br.fields[i];
      const f = bf.plan;
      if (skipNames !== null && skipNames.has(f.name)) continue;
      if (f.sequence) {
        sequenced = f;
        continue;
      }
      if (f.hasConst) {
        assign(f, rec, f.constValue, undefined);
        continue;
      }
      ctx.several = null;
      const raw = f.type === 'list' && bf.kind === S_XML ? this.readXmlList(bf) : this.read(bf);
      const several = ctx.several as Ctx['several'];
      if (several !== null) {
        const { path, values } = several;
        ctx.several = null;
        const shown = values.slice(0, 3).map((x) => show(x)).join(', ') + (values.length > 3 ? ', …' : '');
        errors.push(this.error(f, bf, 'E_XML_SEVERAL_VALUES', `${f.name}: "${path}" matches ${values.length} elements in this record (${shown}), but a field takes one value: pick one with a predicate (e.g. name[@type='…']), make one record per element with each: [{ path: … }], or take all with type: list`, values.join(' ')));
        continue;
      }
      const status = this.mapField(f, raw, bf, rec, errors);
      if (status === SKIPPED) {
        this.dropNote = `${f.name}: code ${show(String(raw ?? '').trim())} is not in the map (unmapped: skip)`;
        return SKIPPED;
      }
    }
    if (be !== null) for (const [k, v] of be.plan.set) rec.fields[k] = v;
    if (br.postWhen.length > 0) {
      const pi = this.failing(br.postWhen, rec);
      if (pi >= 0) {
        this.dropNote = `when [${br.postWhen[pi].plan.label}] not met`;
        return DROPPED;
      }
    }
    // Every row of a key counts, rejected ones too: a corrected resend numbers its rows the same.
    if (sequenced !== null) rec.fields[sequenced.name] = String((this.ctx.sequence ??= new SequenceCounter()).next(rec));
    if (errors.length === 0) {
      const invalid = this.validate(rec);
      if (invalid.length === 0) {
        out.records.push(rec);
        this.produced[this.records.indexOf(br)]++;
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
    if (s !== undefined && f.split !== null) {
      const part = f.split(s);
      if (part instanceof ConvError) {
        errors.push(this.error(f, column, part.code, `${f.name}: ${part.message}`, s));
        return FAILED;
      }
      s = part;
    }
    let value: unknown = s;
    if (s !== undefined && f.map !== null) {
      const code = f.trim ? s : s.trim();
      const key = f.mapCI ? code.toLowerCase() : code;
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
      if (f.plausible !== null && typeof typed === 'string') {
        const why = this.implausible(f, typed);
        if (why !== null) {
          errors.push(this.error(f, column, 'E_IMPLAUSIBLE_DATE', `${f.name}: ${show(value.trim())} read as ${typed} ${why}`, value));
          return FAILED;
        }
      }
      assign(f, rec, typed, undefined);
    } else {
      assign(f, rec, value, s);
    }
    return OK;
  }

  /** Why a mapped date is implausible, or null. */
  private implausible(f: FieldPlan, iso: string): string | null {
    const p = f.plausible!;
    const ms = Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
    if (Number.isNaN(ms)) return null;
    if (p.floorMs !== null && ms < p.floorMs) {
      return `is before ${p.floor}, the earliest plausible date: check the date pattern, or set plausible.notBefore for this field in the mapping.`;
    }
    if (p.maxFutureDays !== null && ms > this.clock.ms + p.maxFutureDays * DAY_MS) {
      const days = Math.ceil((ms - this.clock.ms) / DAY_MS);
      const today = new Date(this.clock.ms).toISOString().slice(0, 10);
      return `is ${days} days after today (${today}); at most ${p.maxFutureDays} are plausible: check the date pattern (day and month swapped?), or set plausible.maxFutureDays for this field in the mapping.`;
    }
    return null;
  }

  private error(f: FieldPlan, src: BoundSource, code: ErrorCode, message: string, value: string | undefined): RowError {
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
  } else if (f.target === T_SPEC && typeof value === 'object' && value !== null) {
    const p = value as ParsedSpec;
    rec.fields.specText = p.specText;
    if (p.specLow !== undefined) rec.fields.specLow = p.specLow;
    if (p.specHigh !== undefined) rec.fields.specHigh = p.specHigh;
    // A unit column states the unit of the result; the spec's unit fills in when there is none.
    if (p.unit !== undefined && rec.fields.unit === undefined) rec.fields.unit = p.unit;
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

/** A grid source of the well being mapped. */
function readCell(cell: GridCell | null | undefined, kind: number): string | undefined {
  if (cell === null || cell === undefined) return undefined;
  switch (kind) {
    case S_GRID_VALUE: return cell.value;
    case S_WELL: return cell.well;
    case S_GRID_ROW: return cell.row;
    case S_GRID_COLUMN: return String(cell.column);
    case S_SAMPLE: return cell.sample;
    case S_GRID: return cell.grid;
    case S_PLATE: return cell.plate;
    default: return undefined;
  }
}

/** 1-based CSV column a value came from, when it came from one. */
export function columnOf(src: BoundSource, ctx: Ctx): number | undefined {
  if (src.kind === S_GRID_VALUE && ctx.cell) return ctx.cell.col + 1;
  if (src.kind === S_COLUMN) return src.col + 1;
  if ((src.kind === S_EACH || src.kind === S_EACH_COLUMN || src.kind === S_EACH_MATCH) && ctx.eachCol >= 0) return ctx.eachCol + 1;
  return undefined;
}

function locateRecordError(e: RowError, br: BoundRecord, ctx: Ctx): RowError {
  const out: RowError = { ...e };
  if (ctx.errLine === undefined) delete out.line;
  const fromSpec = (e.field === 'specLow' || e.field === 'specHigh' || e.field === 'specText') && !br.fields.some((f) => f.plan.name === e.field);
  const name = e.field === 'resultRaw' || e.field === 'resultValue' || e.field === 'qualifier' ? RESULT_FIELD : fromSpec ? SPEC_FIELD : e.field;
  const bf = name === undefined ? undefined : br.fields.find((f) => f.plan.name === name);
  const column = bf === undefined ? undefined : columnOf(bf, ctx);
  if (column !== undefined) out.column = column;
  return out;
}
