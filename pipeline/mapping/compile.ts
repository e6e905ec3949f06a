// The mapping engine. compileMapping does all per-file-format work once (regexes, date parsers,
// value maps, typed constants); binding a CSV header resolves every header alias to a column
// index once; mapping a row is then a loop over precomputed plans with no regex compilation and
// no per-row closures. Pure: no I/O, results are values.

import { RECORD_KINDS } from '../model/records.js';
import { createRecordValidator, type RecordValidator } from '../model/schemas.js';
import type { MapResult, RowError } from '../model/types.js';
import { bindCsvField, bindCsvSource, columnsRead, expandEachColumns, bindRecords, bindTreeSource, describeSource, hasSource, headerIndex, type CsvBindContext, type Missing } from './bind.js';
import type { PreambleLine } from './blocks.js';
import type { GridCell } from './grid.js';
import { SequenceCounter } from './sequence.js';
import { normalizeHeader } from './headers.js';
import { C_PRESENT, compileCondition, compileRecord, lowerSet, S_BLOCK, S_COLUMN, S_NONE, S_TEMPLATE, type ConditionPlan, type RecordPlan } from './plan.js';
import { Engine, type BoundCondition, type BoundSource, type Clock } from './row-engine.js';
import type { MappingFormat, MappingSpec } from './spec.js';
import { closest, listOf } from './suggest.js';
import type { ErrorCode } from '../codes.js';
import type { JoinLookup } from './xml-join.js';

/** What the XML reader hands over per record element (structurally, so this module needs no parser). */
export interface XmlRecordLike {
  line: number;
  get(path: string): string | undefined;
  getAll(path: string): string[];
  /** The elements at a path, as records of their own (XML `each: [{ path }]`). */
  nodes?(path: string): XmlRecordLike[];
}

/**
 * A MapResult plus how much the mapping deliberately did not produce: 1 for a row that yielded
 * no record and no error (filtered out, `when` never matched, no wide column had a value),
 * plus 1 per record dropped by `unmapped: skip`. rows = rows with output + filtered rows.
 */
export interface RowMapResult extends MapResult {
  filtered: number;
  /**
   * Why a row produced nothing (only set then): the condition that did not hold, per record
   * spec, e.g. `filter: Status in ["released"]` or `records[1] stage_event when: lot present`.
   */
  why?: string[];
}

export interface CsvRowMapper {
  mapRow(values: string[], line: number, file: string): RowMapResult;
  /** field name → header text and 0-based index it was bound to (for dry-run output). */
  readonly columns: Record<string, { header: string; index: number }>;
  /**
   * Header findings that do not stop the file but an analyst wants to see in a dry run:
   * W_COLUMN_NOT_FOUND (an optional field's header is absent, so it stays empty on every row)
   * and W_DUPLICATE_HEADER (a header the mapping reads appears twice; the first is used).
   */
  readonly warnings: RowError[];
  /** Key/value block label → the value found and its line (for dry-run output). */
  readonly blocks: Record<string, { value: string; line: number }>;
  /** Grid mappings: maps one well (bound with an empty header; fields read $value, $well, $sample, …). */
  mapCell(cell: GridCell, file: string): RowMapResult;
  /** The counters of `sequence: true` fields: the file's sections / plates share one (map-file sets it). */
  sequence: SequenceCounter;
}

export interface CompiledMapping {
  readonly spec: MappingSpec;
  readonly hash: string;
  readonly format: MappingFormat;
  /** @param preamble the lines above the header, split into cells (for key/value blocks) */
  bindCsvHeader(header: string[], headerLine: number, preamble?: PreambleLine[]): CsvRowMapper | { error: RowError & { code: ErrorCode } };
  /** Whether a field reads a key/value block (then the reader must hand over the preamble lines). */
  readonly usesBlocks: boolean;
  /** "Now" for date plausibility (E_IMPLAUSIBLE_DATE) of the files mapped from here on. */
  setNow(now: Date): void;
  /** @param joins the document's join index (MappingSpec.joins), built in a first pass */
  /** `sequence`: the file's replicate counters (one per file: files mapped at the same time never share one). */
  mapXmlRecord(rec: XmlRecordLike, file: string, joins?: JoinLookup, sequence?: SequenceCounter): RowMapResult;
  mapDocument(fileName: string): RowMapResult;
  /** XML: records produced so far per record spec, with what its `each` iterates (for the dry run). */
  xmlRecordCounts(): { spec: string; each: string | null; records: number }[];
}

class BoundCsv implements CsvRowMapper {
  constructor(
    private readonly engine: Engine,
    readonly columns: Record<string, { header: string; index: number }>,
    readonly warnings: RowError[],
    readonly blocks: Record<string, { value: string; line: number }>,
  ) {}

  mapRow(values: string[], line: number, file: string): RowMapResult {
    const ctx = this.engine.ctx;
    ctx.values = values;
    ctx.line = line;
    ctx.errLine = line;
    ctx.file = file;
    return this.engine.run();
  }

  get sequence(): SequenceCounter {
    return (this.engine.ctx.sequence ??= new SequenceCounter());
  }

  set sequence(counter: SequenceCounter) {
    this.engine.ctx.sequence = counter;
  }

  mapCell(cell: GridCell, file: string): RowMapResult {
    const ctx = this.engine.ctx;
    ctx.cell = cell;
    try {
      return this.mapRow([], cell.line, file);
    } finally {
      ctx.cell = null;
    }
  }
}

class Compiled implements CompiledMapping {
  readonly format: MappingFormat;
  private readonly plans: RecordPlan[];
  private readonly filter: ConditionPlan[];
  private readonly fileMissing: Set<string>;
  private readonly validate: RecordValidator = createRecordValidator();
  private tree: Engine | undefined;
  private readonly clock: Clock = { ms: Date.now() };

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

  get usesBlocks(): boolean {
    return this.plans.some((p) => p.fields.some((f) => f.ref?.block !== undefined));
  }

  bindCsvHeader(header: string[], headerLine: number, preamble: PreambleLine[] = []): CsvRowMapper | { error: RowError & { code: ErrorCode } } {
    const index = headerIndex(header);
    const missing: Missing[] = [];
    const bindSource = (aliases: string[]): BoundSource => bindCsvSource(aliases, index);
    const headerText = (col: number): string => header[col].trim();
    const cx: CsvBindContext = { header, index, preamble, blockValues: new Map() };
    // Columns read by name, position, template or condition, or ignored on purpose: an
    // `allExcept` each takes the others.
    const claimed = new Set<number>();
    for (const plan of this.plans) {
      for (const f of plan.fields) if (!f.hasConst) columnsRead(bindCsvField(f, cx), claimed);
      for (const c of [...plan.rowWhen, ...plan.eachWhen]) columnsRead(bindSource([c.source]), claimed);
      for (const e of plan.each ?? []) columnsRead(bindSource(e.aliases), claimed);
    }
    for (const c of this.filter) columnsRead(bindSource([c.source]), claimed);
    for (const h of this.spec.ignoreColumns ?? []) columnsRead(bindSource([h]), claimed);
    const records = bindRecords(this.plans, bindSource, missing, headerText, (f) => bindCsvField(f, cx), (e) => expandEachColumns(e, header, claimed));
    const filter = this.filter.map((c): BoundCondition => {
      const src = bindSource([c.source]);
      if (src.kind === S_NONE && c.test !== C_PRESENT) missing.push({ what: `the filter on '${c.source}'`, aliases: [c.source] });
      return { ...src, plan: c };
    });
    const anyColumn =
      filter.some((c) => c.kind === S_COLUMN) ||
      records.some((br) => br.fields.some((f) => f.kind === S_COLUMN) || (br.each ?? []).some((e) => e.kind === S_COLUMN) || br.rowWhen.some((c) => c.kind === S_COLUMN));
    if (missing.length > 0 && !anyColumn) return { error: headerNotFound(header, headerLine, this.spec) };
    if (missing.length > 0) {
      const seen = new Set<string>();
      const present = header.map((h) => h.trim()).filter((h) => h !== '');
      const guess = (aliases: string[]): string => {
        for (const a of aliases) {
          const c = closest(a, present);
          if (c !== undefined) return `; did you mean "${c}"?`;
        }
        return '';
      };
      const parts = missing
        .map((m) => `no column for ${m.what} (tried ${(m.shown ?? m.aliases.map((a) => `"${a}"`)).join(', ')}${guess(m.aliases)})`)
        .filter((t) => !seen.has(t) && (seen.add(t), true));
      const found = listOf(header.map((h) => `"${h.trim()}"`), 40);
      const error: RowError & { code: ErrorCode } = {
        line: headerLine,
        code: 'E_MISSING_COLUMN',
        message: `${parts.join('; ')}; the header (line ${headerLine}) has: ${found || '(nothing)'}. Correct the column name in the mapping, or mark the field \`optional: true\` if files may lack it.`,
      };
      if (missing[0].field !== undefined) error.field = missing[0].field;
      return { error };
    }
    const columns: Record<string, { header: string; index: number }> = {};
    const warnings: RowError[] = [];
    const warned = new Set<string>();
    const warn = (key: string, e: RowError): void => {
      if (!warned.has(key)) warnings.push(e);
      warned.add(key);
    };
    for (const br of records) {
      for (const bf of br.fields) {
        const f = bf.plan;
        if (bf.kind === S_COLUMN) {
          if (!(f.name in columns)) columns[f.name] = { header: header[bf.col].trim(), index: bf.col };
          const text = normalizeHeader(header[bf.col]);
          // A column addressed by position, occurrence or neighbour was chosen on purpose.
          const again = f.ref !== null ? -1 : header.findIndex((h, i) => i > bf.col && normalizeHeader(h) === text);
          if (again >= 0) {
            warn(`dup:${text}`, { line: headerLine, column: again + 1, field: f.name, code: 'W_DUPLICATE_HEADER', message: `header "${header[bf.col].trim()}" appears in columns ${bf.col + 1} and ${again + 1}; '${f.name}' reads the first` });
          }
        } else if (bf.kind === S_NONE && !f.hasConst && hasSource(f)) {
          warn(`nf:${f.name}:${describeSource(f).join('|')}`, {
            line: headerLine,
            field: f.name,
            code: 'W_COLUMN_NOT_FOUND',
            message: `no column for '${f.name}' (tried ${describeSource(f).join(', ')}); it ${f.hasDefault ? 'takes its default' : 'stays empty'} on every row`,
          });
        }
      }
    }
    // A named column nothing reads: its values would be lost without a word.
    const read = new Set(claimed);
    for (const br of records) for (const be of br.each ?? []) read.add(be.col);
    const unclaimed = header.map((h, i) => [h.trim(), i] as const).filter(([h, i]) => h !== '' && !read.has(i));
    const openEnded = this.plans.some((p) => (p.each ?? []).some((e) => e.pattern !== null || e.except !== null));
    if (unclaimed.length > 0 && (this.spec.unclaimedColumns ?? (openEnded ? 'warn' : 'ignore')) === 'warn') {
      warnings.push({
        line: headerLine,
        column: unclaimed[0][1] + 1,
        code: 'W_UNCLAIMED_COLUMN',
        message: `${unclaimed.length === 1 ? 'column' : `${unclaimed.length} columns`} ${listOf(unclaimed.map(([h, i]) => `${i + 1} "${h}"`), 20)} ${unclaimed.length === 1 ? 'is' : 'are'} read by no field, condition or each rule, so ${unclaimed.length === 1 ? 'its' : 'their'} values are not used: map ${unclaimed.length === 1 ? 'it' : 'them'}, or list ${unclaimed.length === 1 ? 'it' : 'them'} under ignoreColumns if that is intended`,
      });
    }
    const engine = new Engine(records, filter, this.fileMissing, this.validate, this.clock);
    engine.ctx.block = cx.blockValues;
    const blocks: Record<string, { value: string; line: number }> = {};
    for (const br of records) for (const bf of br.fields) if (bf.kind === S_BLOCK) blocks[bf.plan.ref!.block!] = { value: cx.blockValues.get(bf.aliases[0]) ?? '', line: bf.blockLine! };
    return new BoundCsv(engine, columns, warnings, blocks);
  }

  setNow(now: Date): void {
    this.clock.ms = now.getTime();
  }

  mapXmlRecord(rec: XmlRecordLike, file: string, joins?: JoinLookup, sequence?: SequenceCounter): RowMapResult {
    const engine = this.treeEngine();
    const ctx = engine.ctx;
    ctx.joins = joins ?? null;
    ctx.sequence = sequence;
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

  xmlRecordCounts(): { spec: string; each: string | null; records: number }[] {
    const produced = this.tree?.produced;
    return this.plans.map((p, i) => {
      const e = p.each?.map((x) => (x.path !== null ? `path "${x.path}"` : x.join !== null ? `join "${x.join}" on ${x.joinKeys.map((k) => `"${k}"`).join(', ')}` : null)).filter((x) => x !== null) ?? [];
      return { spec: `records[${i}] ${p.kind}`, each: e.length > 0 ? e.join(', ') : null, records: produced?.[i] ?? 0 };
    });
  }

  private treeEngine(): Engine {
    if (this.tree === undefined) {
      const format = this.format === 'csv' || this.format === 'xlsx' ? 'document' : this.format;
      const bindSource = (aliases: string[]): BoundSource => bindTreeSource(aliases, format);
      const bindField = (f: RecordPlan['fields'][number]): BoundSource => {
        if (f.template === null) return bindSource(f.aliases);
        const parts = f.template.names.map((n) => bindSource([n]));
        return parts.some((p) => p.kind === S_NONE) ? { kind: S_NONE, col: -1, aliases: [] } : { kind: S_TEMPLATE, col: -1, aliases: f.template.literals, parts };
      };
      const records = bindRecords(this.plans, bindSource, null, (_c, alias) => alias, bindField);
      const filter = this.filter.map((c): BoundCondition => ({ ...bindSource([c.source]), plan: c }));
      this.tree = new Engine(records, filter, this.fileMissing, this.validate, this.clock);
    }
    return this.tree;
  }
}

/**
 * Not one column the mapping names is in the header row: the mapping's idea of where the header
 * is (dialect.headerRow), its delimiter or its encoding does not fit the file, rather than a
 * column being missing.
 */
function headerNotFound(header: string[], headerLine: number, spec: MappingSpec): RowError & { code: ErrorCode } {
  const text = header.map((h) => h.trim()).join(' | ');
  const shown = text.length > 300 ? text.slice(0, 297) + '...' : text;
  const d = spec.dialect ?? {};
  const hints: string[] = [`dialect.headerRow is ${d.headerRow ?? 1}: is the header on that line?`];
  const delimiter = d.delimiter ?? ',';
  if (header.length === 1) {
    const other = [';', ',', '\t', '|'].find((c) => c !== delimiter && header[0].includes(c));
    hints.push(`the line has a single column with delimiter ${JSON.stringify(delimiter)}${other ? `, but it contains ${JSON.stringify(other)}: is that the delimiter?` : ''}`);
  }
  if (/[\u0000\ufffd]|Ã.|â€/.test(header.join(''))) hints.push(`its text looks garbled: is dialect.encoding (${d.encoding ?? 'utf-8'}) right?`);
  return {
    line: headerLine,
    code: 'E_HEADER_NOT_FOUND',
    message: `None of the columns the mapping names is in the header row (line ${headerLine}), which reads: ${shown || '(empty)'}. The mapping does not fit this file: ${hints.join('; ')}`,
  };
}

/** Compiles a validated mapping (from loadMapping) once; the result maps any number of files. */
export function compileMapping(spec: MappingSpec, hash: string): CompiledMapping {
  return new Compiled(spec, hash);
}
