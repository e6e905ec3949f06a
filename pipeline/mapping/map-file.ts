// Streams one partner file through the right reader and the compiled mapping: one result per
// row (CSV), per record element (XML), or one for the whole file (document). Used by ingest
// and by the dry run. Problems that make the whole file unusable are thrown as FileError
// (from the readers, or E_MISSING_COLUMN when the header lacks a required column).

import { createReadStream } from 'node:fs';
import { FileError } from '../model/types.js';
import { readCsv, readCsvBatches, type CsvItem } from '../parse/csv-reader.js';
import { readXlsx } from '../parse/xlsx-reader.js';
import { readXml } from '../parse/xml-reader.js';
import { readFixedWidth } from '../parse/fixed-width-reader.js';
import type { CompiledMapping, CsvRowMapper, RowMapResult } from './compile.js';
import type { MappingSpec } from './spec.js';
import { splitCells, type PreambleLine } from './blocks.js';
import { SectionSplitter } from './sections.js';
import { SequenceCounter } from './sequence.js';
import type { GridInfo } from './grid.js';
import { mapGrids } from './map-grid.js';
import { JoinIndex, type JoinStats } from './xml-join.js';

export interface MapUnit extends RowMapResult {
  /** Line of the row or element (absent for a document). */
  line?: number;
}

export interface MapFileHooks {
  /** Called once the CSV header is bound (e.g. to show header warnings in a dry run). */
  onHeader?: (mapper: CsvRowMapper, headerLine: number) => void;
  /** "Now" for date plausibility (default: the current time). */
  now?: Date;
  /** XML: the elements beside the records that the record path does not match (they are not rows). */
  onXmlUnmatched?: (elements: Map<string, number>) => void;
  /** Grid mappings: each grid found (values or samples), with its line range and size. */
  onGrid?: (grid: GridInfo) => void;
  /** XML with joins: the size of each join index after the first pass. */
  onJoinIndex?: (stats: JoinStats[]) => void;
  /** The cells of the first data row (to show what fixed-width columns read). */
  onFirstRow?: (values: string[], line: number) => void;
  /** The byte stream being read (its `bytesRead` tells how far the file is read). */
  onInput?: (input: { readonly bytesRead: number }) => void;
}

/**
 * @param path where the bytes are (e.g. the archive copy)
 * @param fileName the name the partner gave the file: what `$file` reads and `match` saw
 */
export async function* mapFile(compiled: CompiledMapping, spec: MappingSpec, path: string, fileName: string, hooks: MapFileHooks = {}): AsyncGenerator<MapUnit> {
  for await (const batch of mapFileBatches(compiled, spec, path, fileName, hooks)) yield* batch;
}

/** `mapFile` by the chunk read (CSV): one promise per chunk of rows, not per row. Batches are never empty. */
export async function* mapFileBatches(compiled: CompiledMapping, spec: MappingSpec, path: string, fileName: string, hooks: MapFileHooks = {}): AsyncGenerator<MapUnit[]> {
  const format = spec.format ?? 'csv';
  compiled.setNow(hooks.now ?? new Date());
  if (format === 'document') {
    yield [compiled.mapDocument(fileName)];
    return;
  }
  const input = createReadStream(path);
  hooks.onInput?.(input);
  try {
    if (format === 'xml') {
      if (spec.xml === undefined) throw new FileError('E_MAPPING_INVALID', 'The mapping has format xml but no xml.record path.');
      const joins = await buildJoins(spec, path, hooks);
      const sequence = new SequenceCounter(); // replicate numbering of this file only
      for await (const rec of readXml(input, spec.xml, {}, hooks.onXmlUnmatched)) {
        const unit: MapUnit = compiled.mapXmlRecord(rec, fileName, joins, sequence);
        unit.line = rec.line;
        yield [unit];
      }
      return;
    }
    let mapper: CsvRowMapper | undefined;
    const dialect = spec.dialect ?? {};
    const xlsx = format === 'xlsx';
    if (xlsx) input.destroy();
    const items = (mode: { raw?: boolean; preamble?: boolean }): AsyncIterable<CsvItem> =>
      xlsx ? readXlsx(path, spec.xlsx, dialect, mode) : format === 'fixed' ? readFixedWidth(input, spec.fixed ?? { columns: [] }, dialect) : readCsv(input, dialect, mode);
    if (spec.grid !== undefined) {
      for await (const unit of mapGrids(compiled, spec, items({ raw: true }), fileName, hooks)) yield [unit];
      return;
    }
    if (spec.sections !== undefined) {
      for await (const unit of mapSections(compiled, spec, items({ raw: true }), fileName, hooks)) yield [unit];
      return;
    }
    const batches = (mode: { preamble?: boolean }): AsyncIterable<CsvItem[]> => (format === 'csv' ? readCsvBatches(input, dialect, mode) : oneByOne(items(mode)));
    const preamble: PreambleLine[] = [];
    let firstRow = true;
    const mapItem = (item: CsvItem, out: MapUnit[]): void => {
      if (item.kind === 'preamble') {
        preamble.push({ line: item.line, cells: item.cells ?? splitCells(item.text, dialect.delimiter ?? ',', dialect.quote ?? '"') });
      } else if (item.kind === 'header') {
        const bound = compiled.bindCsvHeader(item.values, item.line, preamble);
        if ('error' in bound) throw new FileError(bound.error.code, bound.error.message, bound.error.line, undefined, bound.error.field);
        mapper = bound;
        hooks.onHeader?.(bound, item.line);
      } else if (item.kind === 'row') {
        if (mapper === undefined) throw new FileError('E_NO_HEADER', 'The file has rows before its header row.', item.line);
        if (firstRow) hooks.onFirstRow?.(item.values, item.line);
        firstRow = false;
        const unit: MapUnit = mapper.mapRow(item.values, item.line, fileName);
        unit.line = item.line;
        out.push(unit);
      } else {
        const error = { line: item.line, code: item.code, message: item.message, ...(item.column !== undefined ? { column: item.column } : {}) };
        out.push({ records: [], errors: [error], filtered: 0, line: item.line });
      }
    };
    for await (const batch of batches({ preamble: compiled.usesBlocks })) {
      const out: MapUnit[] = [];
      try {
        for (const item of batch) mapItem(item, out);
      } catch (err) {
        // Rows mapped before a file error in the same chunk are still delivered.
        if (out.length > 0) yield out;
        throw err;
      }
      if (out.length > 0) yield out;
    }
  } finally {
    input.destroy();
  }
}

async function* oneByOne<T>(items: AsyncIterable<T>): AsyncGenerator<T[]> {
  for await (const item of items) yield [item];
}

/** A CSV file of several sections (spec.sections): each table bound to its own header and block. */
async function* mapSections(compiled: CompiledMapping, spec: MappingSpec, items: AsyncIterable<CsvItem>, fileName: string, hooks: MapFileHooks): AsyncGenerator<MapUnit> {
  const splitter = new SectionSplitter(spec.sections!);
  let mapper: CsvRowMapper | undefined;
  for await (const item of items) {
    if (item.kind === 'error') {
      yield { records: [], errors: [{ line: item.line, code: item.code, message: item.message, ...(item.column !== undefined ? { column: item.column } : {}) }], filtered: 0, line: item.line };
      continue;
    }
    if (item.kind !== 'row') continue;
    const ev = splitter.push(item.values, item.line);
    if (ev === null) continue;
    if (ev.kind === 'header') {
      const bound = compiled.bindCsvHeader(ev.values, ev.line, ev.preamble);
      if ('error' in bound) throw new FileError(bound.error.code, `Section ${ev.section} (header at line ${ev.line}): ${bound.error.message}`, bound.error.line, undefined, bound.error.field);
      if (mapper !== undefined) bound.sequence = mapper.sequence; // replicates numbered across the file's sections
      mapper = bound;
      hooks.onHeader?.(bound, ev.line);
    } else if (ev.kind === 'ragged') {
      const message = `Expected ${ev.width} columns (as in the header of this section), found ${ev.values.length}. Check for a missing or extra delimiter; a table ends at a blank line${spec.sections!.end !== undefined ? ' or a line matching sections.end' : ''}.`;
      yield { records: [], errors: [{ line: ev.line, code: 'E_RAGGED_ROW', message }], filtered: 0, line: ev.line };
    } else {
      const unit: MapUnit = mapper!.mapRow(ev.values, ev.line, fileName);
      unit.line = ev.line;
      yield unit;
    }
  }
  if (splitter.sections === 0) {
    throw new FileError('E_HEADER_NOT_FOUND', `No header row: no line has a cell "${spec.sections!.header}" (sections.header). Check sections.header, the delimiter and the encoding.`);
  }
}

/**
 * XML with `joins`: the first of two passes over the file. Only the join index is kept (bounded
 * by maxEntries, E_JOIN_INDEX_LIMIT); each record's subtree is dropped once it is indexed.
 */
async function buildJoins(spec: MappingSpec, path: string, hooks: MapFileHooks): Promise<JoinIndex | undefined> {
  if (spec.joins === undefined || Object.keys(spec.joins).length === 0 || spec.xml === undefined) return undefined;
  const index = new JoinIndex(spec.joins);
  const first = createReadStream(path);
  try {
    for await (const rec of readXml(first, spec.xml)) index.add(rec);
  } finally {
    first.destroy();
  }
  hooks.onJoinIndex?.(index.stats());
  return index;
}
