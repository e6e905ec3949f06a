// `lotgate mapping test`: a mapping applied to a sample file without touching the store.
// Streams the file, keeps the first `limit` records (counts stay exact for any size), and turns
// a whole-file problem into one error instead of an exception.

import { basename } from 'node:path';
import { FileError, type MappedRecord, type RowError } from '../model/types.js';
import type { CompiledMapping, CsvRowMapper } from './compile.js';
import { mapFile } from './map-file.js';
import type { MappingSpec } from './spec.js';
import type { GridInfo } from './grid.js';
import type { JoinStats } from './xml-join.js';
import { fixedColumnsOf } from '../parse/fixed-width-reader.js';

export interface DryRunOptions {
  /** Keep at most this many records (default: all). */
  limit?: number;
  /** Keep at most this many errors (default: all). */
  errorLimit?: number;
  /** The name `$file` sees and `match` saw (default: the base name of filePath). */
  fileName?: string;
  /** "Now" for date plausibility (default: the current time). */
  now?: Date;
}

export interface DryRunResult {
  records: MappedRecord[];
  errors: RowError[];
  /** Header findings that do not reject anything (W_COLUMN_NOT_FOUND, W_DUPLICATE_HEADER); only present when there are some. */
  warnings?: RowError[];
  /** Key/value block labels the mapping reads → the value found and the line it stands on. Only present when there are some. */
  blocks?: Record<string, { value: string; line: number }>;
  /** Files of several sections: each table's header line and the block values it carries (the last section's are also in `blocks`). */
  sections?: { headerLine: number; blocks: Record<string, { value: string; line: number }> }[];
  /**
   * Row counts as an acknowledgment has them (rows = applied + rejected + filtered), before the
   * store's own checks (lot resolution, partner scope) that only ingest can make.
   */
  counts: {
    /** Data rows (CSV rows incl. malformed ones, XML record elements, 1 for a document). */
    rows: number;
    /** Rows that mapped to at least one record and no error. */
    applied: number;
    /** Rows with at least one error. */
    rejected: number;
    /** Rows that produced nothing: a filter or when did not hold, `unmapped: skip`, no wide column had a value. */
    filtered: number;
    records: number;
    errors: number;
  };
  /** How many rows each reason filtered out, most first (reasons as in RowMapResult.why). */
  filteredBy: { reason: string; rows: number }[];
  /**
   * Per single condition (one record spec's `when`, the `filter`, an `unmapped: skip`): how many
   * filtered rows it removed. A row is counted under each record spec that produced nothing.
   */
  filteredByCondition: { condition: string; rows: number }[];
  /** Grid mappings: the grids found, in file order (values and samples grids, their line range and size); the first 1000. */
  grids?: GridInfo[];
  /** XML: elements beside the records that the record path does not match; they are not rows. Only present when there are some. */
  notMatchedByRecordPath?: { element: string; count: number }[];
  /** XML with joins: each join index after the first pass (keys with a value, containment links) and the keys that resolved to nothing (E_JOIN_UNRESOLVED). */
  joins?: (JoinStats & { unresolvedRows: number })[];
  /** XML: records per record spec and what its `each` iterates (elements at a path, join values). */
  recordsPerSpec?: { spec: string; each: string | null; records: number }[];
  /** format fixed: the declared columns and what they read on the first data row. */
  fixedColumns?: { name: string; start: number; end: number; firstRow?: { line: number; value: string } }[];
}

const MAX_REASONS = 50;
/** Grids listed (a file of thousands of plates is counted in full, listed in part). */
const MAX_GRIDS = 1000;

export async function dryRun(compiled: CompiledMapping, spec: MappingSpec, filePath: string, opts: DryRunOptions = {}): Promise<DryRunResult> {
  const limit = opts.limit ?? Infinity;
  const errorLimit = opts.errorLimit ?? Infinity;
  const out: DryRunResult = { records: [], errors: [], counts: { rows: 0, applied: 0, rejected: 0, filtered: 0, records: 0, errors: 0 }, filteredBy: [], filteredByCondition: [] };
  const reasons = new Map<string, number>();
  const conditions = new Map<string, number>();
  if (spec.format === 'fixed' && spec.fixed !== undefined) {
    try {
      out.fixedColumns = fixedColumnsOf(spec.fixed).map((c) => ({ name: c.name, start: c.from + 1, end: c.to }));
    } catch {
      // the reader reports the layout error
    }
  }
  const hooks = {
    now: opts.now,
    onJoinIndex: (stats: JoinStats[]) => {
      out.joins = stats.map((j) => ({ ...j, unresolvedRows: 0 }));
    },
    onFirstRow: (values: string[], line: number) => {
      if (out.fixedColumns !== undefined) out.fixedColumns.forEach((c, i) => (c.firstRow = { line, value: values[i] ?? '' }));
    },
    onXmlUnmatched: (elements: Map<string, number>) => {
      if (elements.size > 0) out.notMatchedByRecordPath = [...elements].map(([element, count]) => ({ element, count }));
    },
    onGrid: (g: GridInfo) => {
      if ((out.grids ??= []).length < MAX_GRIDS) out.grids.push(g);
    },
    onHeader: (mapper: CsvRowMapper, headerLine: number) => {
      const known = new Set((out.warnings ?? []).map((w) => `${w.code}:${w.message}`));
      const fresh = mapper.warnings.filter((w) => !known.has(`${w.code}:${w.message}`));
      if (fresh.length > 0) out.warnings = [...(out.warnings ?? []), ...fresh];
      if (Object.keys(mapper.blocks).length > 0) out.blocks = { ...mapper.blocks };
      if (spec.sections !== undefined) (out.sections ??= []).push({ headerLine, blocks: { ...mapper.blocks } });
    },
  };
  const xml = spec.format === 'xml';
  const before = xml ? compiled.xmlRecordCounts() : [];
  try {
    for await (const unit of mapFile(compiled, spec, filePath, opts.fileName ?? basename(filePath), hooks)) {
      out.counts.rows++;
      if (unit.errors.length > 0) out.counts.rejected++;
      else if (unit.records.length > 0) out.counts.applied++;
      else {
        out.counts.filtered++;
        const why = unit.why ?? ['no record spec produced a record'];
        for (const c of why) if (conditions.has(c) || conditions.size < MAX_REASONS) conditions.set(c, (conditions.get(c) ?? 0) + 1);
        const reason = why.join('; ');
        if (reasons.has(reason) || reasons.size < MAX_REASONS) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        else reasons.set('(other reasons)', (reasons.get('(other reasons)') ?? 0) + 1);
      }
      out.counts.records += unit.records.length;
      out.counts.errors += unit.errors.length;
      for (const r of unit.records) if (out.records.length < limit) out.records.push(r);
      for (const e of unit.errors) if (out.errors.length < errorLimit) out.errors.push(e);
      if (out.joins !== undefined && unit.errors.some((e) => e.code === 'E_JOIN_UNRESOLVED')) for (const j of out.joins) if (unit.errors.some((e) => e.code === 'E_JOIN_UNRESOLVED' && e.message.startsWith(`join "${j.name}"`))) j.unresolvedRows++;
    }
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
    const e: RowError = { code: err.code, message: err.message };
    if (err.line !== undefined) e.line = err.line;
    if (err.column !== undefined) e.column = err.column;
    if (err.field !== undefined) e.field = err.field;
    out.errors.push(e);
    out.counts.errors++;
  }
  if (xml && spec.records.some((r) => r.each !== undefined)) {
    out.recordsPerSpec = compiled.xmlRecordCounts().map((c, i) => ({ ...c, records: c.records - (before[i]?.records ?? 0) }));
  }
  if (out.counts.rows === 0 && out.counts.errors === 0) {
    out.errors.push({ code: 'E_NO_ROWS', message: 'The sample has no data rows, so it cannot show whether the mapping fits. Try a file with data.' });
    out.counts.errors++;
  }
  out.filteredBy = [...reasons].map(([reason, rows]) => ({ reason, rows })).sort((a, b) => b.rows - a.rows);
  out.filteredByCondition = [...conditions].map(([condition, rows]) => ({ condition, rows })).sort((a, b) => b.rows - a.rows);
  return out;
}
