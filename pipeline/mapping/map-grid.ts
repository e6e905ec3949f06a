// A plate-reader file (spec.grid) through the compiled mapping: one unit per well of each values
// grid — a record, an error (a value but no sample: E_GRID_NO_SAMPLE), or filtered (an empty
// well). Lines of a grid that do not fit it are E_GRID_SHAPE errors of their own.

import { FileError } from '../model/types.js';
import type { CsvItem } from '../parse/csv-reader.js';
import type { CompiledMapping } from './compile.js';
import { GridSplitter, GridTooLarge, MAX_PLATE_WELLS, type GridEvent, type GridInfo } from './grid.js';
import type { MapFileHooks, MapUnit } from './map-file.js';
import type { MappingSpec } from './spec.js';
import { SequenceCounter, sequenceKey } from './sequence.js';

export const EMPTY_WELL = 'grid: empty well (no value)';

export async function* mapGrids(compiled: CompiledMapping, spec: MappingSpec, items: AsyncIterable<CsvItem>, fileName: string, hooks: MapFileHooks): AsyncGenerator<MapUnit> {
  const splitter = new GridSplitter(spec.grid!);
  const sampleField = fieldReading(spec, '$sample');
  const sequence = new SequenceCounter(); // replicates numbered across the file's plates
  let events: GridEvent[] = [];
  for await (const item of items) {
    if (item.kind === 'error') {
      yield { records: [], errors: [{ line: item.line, code: item.code, message: item.message, ...(item.column !== undefined ? { column: item.column } : {}) }], filtered: 0, line: item.line };
      continue;
    }
    if (item.kind !== 'row') continue;
    events = tooLarge(() => splitter.push(item.values, item.line));
    yield* units(events, compiled, fileName, hooks, sampleField, sequence);
  }
  yield* units(tooLarge(() => splitter.end()), compiled, fileName, hooks, sampleField, sequence);
  if (splitter.valuesGrids === 0) {
    throw new FileError('E_GRID_NOT_FOUND', `No grid of values: no line's first cell matches grid.values.after /${spec.grid!.values.after}/ followed by a header of column numbers (1, 2, 3 …). Check grid.values.after, the delimiter and the encoding.`);
  }
}

function tooLarge(f: () => GridEvent[]): GridEvent[] {
  try {
    return f();
  } catch (e) {
    if (e instanceof GridTooLarge) throw new FileError('E_GRID_TOO_LARGE', `A plate has more than ${MAX_PLATE_WELLS} wells (line ${e.line}): lotgate reads plates up to that size. Check grid.plate / grid.values.after, or split the file.`, e.line);
    throw e;
  }
}

/** The first field that reads `source` (for locating errors), if any. */
function fieldReading(spec: MappingSpec, source: string): string | undefined {
  for (const r of spec.records) {
    for (const [name, f] of Object.entries(r.fields)) {
      if (f.from === source || (Array.isArray(f.from) && f.from.includes(source))) return name;
    }
  }
  return undefined;
}

function* units(events: GridEvent[], compiled: CompiledMapping, fileName: string, hooks: MapFileHooks, sampleField: string | undefined, sequence: SequenceCounter): Generator<MapUnit> {
  for (const ev of events) {
    if (ev.kind === 'grid') {
      hooks.onGrid?.(ev.info);
    } else if (ev.kind === 'error') {
      yield { records: [], errors: [{ line: ev.line, code: 'E_GRID_SHAPE', message: ev.message, ...(ev.column !== undefined ? { column: ev.column } : {}) }], filtered: 0, line: ev.line };
    } else {
      yield* plateUnits(ev.info, ev, compiled, fileName, hooks, sampleField, sequence);
    }
  }
}

function* plateUnits(info: GridInfo, ev: Extract<GridEvent, { kind: 'plate' }>, compiled: CompiledMapping, fileName: string, hooks: MapFileHooks, sampleField: string | undefined, sequence: SequenceCounter): Generator<MapUnit> {
  const bound = compiled.bindCsvHeader([], info.lines[0], ev.preamble);
  if ('error' in bound) {
    throw new FileError(bound.error.code, `Grid "${info.label}" (line ${info.lines[0]}): ${bound.error.message}`, info.lines[0], undefined, bound.error.field);
  }
  bound.sequence = sequence;
  hooks.onHeader?.(bound, info.lines[0]);
  // Wells of one line share its line number, so the store could not tell which one a later well
  // of the same key overwrote: such a collision is an error here, never a silent overwrite.
  let keysLine = -1;
  const keys = new Map<string, string>();
  for (const cell of ev.cells) {
    if (cell.line !== keysLine) {
      keys.clear();
      keysLine = cell.line;
    }
    if (cell.value.trim() === '') {
      yield { records: [], errors: [], filtered: 1, why: [EMPTY_WELL], line: cell.line };
      continue;
    }
    if (ev.samplesDeclared && cell.sample === undefined) {
      const message = `well ${cell.well} of grid "${info.label}" (plate "${info.plate}") has the value ${JSON.stringify(cell.value.trim())} but the layout names no sample for it: name the sample in the layout, or leave the well empty`;
      const error = { line: cell.line, column: cell.col + 1, code: 'E_GRID_NO_SAMPLE' as const, message, value: cell.value.trim(), ...(sampleField !== undefined ? { field: sampleField } : {}) };
      yield { records: [], errors: [error], filtered: 0, line: cell.line };
      continue;
    }
    const unit: MapUnit = bound.mapCell(cell, fileName);
    unit.line = cell.line;
    const clash = unit.records.map((r) => `${sequenceKey(r)}|${String(r.fields.replicate ?? '')}`).find((k) => keys.has(k));
    if (clash !== undefined) {
      const message = `wells ${keys.get(clash)} and ${cell.well} of grid "${info.label}" (line ${cell.line}) give the same result (same lot, test, sample, time and replicate), so one would overwrite the other: map replicate from the well (replicate: { from: $well })`;
      yield { records: [], errors: [{ line: cell.line, column: cell.col + 1, code: 'E_GRID_SAME_KEY', message, field: 'replicate' }], filtered: 0, line: cell.line };
      continue;
    }
    for (const r of unit.records) keys.set(`${sequenceKey(r)}|${String(r.fields.replicate ?? '')}`, cell.well);
    yield unit;
  }
}
