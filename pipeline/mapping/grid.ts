// Plate-reader grids: a grid of values by row letter (A–H, … AF) × column number (1–12, … 48),
// found under a marker line ("Results", "Absorbance 450"), and optionally a second grid
// ("Layout") or a table (Well;Sample) naming the sample in each well. Works out the structure
// from raw CSV records (blank lines included) and hands over one cell per well of each values
// grid when its plate is complete. Pure: records in, events out.
//
// Plates: with `grid.plate`, a line whose first cell matches starts a plate; without it, a
// values marker starts a new plate once the current one has a values grid. A plate's samples
// grid may stand before or after its values; a plate without one uses the previous plate's.
// Memory: one plate's grids (at most MAX_PLATE_WELLS cells) plus the lines around them.

import { normalizeHeader } from './headers.js';
import type { PreambleLine } from './blocks.js';
import type { GridSpec } from './spec.js';

export const MAX_PLATE_WELLS = 50_000;
const MAX_CARRIED = 1000;

export interface GridInfo {
  kind: 'values' | 'samples';
  /** The marker line's first cell, e.g. "Results". */
  label: string;
  /** The plate's label: the `plate` marker's cell, else the label of the plate's first values grid (or this grid's). */
  plate: string;
  /** First and last line of the grid (marker line to last row). */
  lines: [number, number];
  rows: number;
  columns: number;
  /** A samples table (Well;Sample), not a grid: `rows` counts its wells. */
  table?: boolean;
}

/** One well of a values grid, ready to map. */
export interface GridCell {
  well: string;
  row: string;
  column: number;
  value: string;
  /** The sample the layout names for the well; undefined when there is no layout or the well is empty in it. */
  sample: string | undefined;
  plate: string;
  grid: string;
  line: number;
  /** 0-based position of the value in its line. */
  col: number;
}

export type GridEvent =
  | { kind: 'grid'; info: GridInfo }
  /** A values grid of a complete plate: its cells, and the lines of its plate that are not grids (key/value blocks). */
  | { kind: 'plate'; info: GridInfo; cells: GridCell[]; preamble: PreambleLine[]; samplesDeclared: boolean }
  | { kind: 'error'; line: number; column?: number; message: string };

interface Grid {
  info: GridInfo;
  columns: number[];
  rows: Map<string, { line: number; cells: string[] }>;
  /** Label of the last row read ('' before the first). */
  lastRow: string;
}

const ROW_LABEL = /^[A-Z]{1,2}$/;

/** "A1", "a01", "A 1", "A-01" → "A1"; undefined when it is not a well id. */
export function normalizeWell(text: string): string | undefined {
  const m = /^([A-Za-z]{1,2})[\s-]*0*(\d{1,3})$/.exec(text.trim());
  return m === null ? undefined : `${m[1].toUpperCase()}${Number(m[2])}`;
}

/** The column numbers of a grid header line (cells after the first), or null when it is not one. */
function columnNumbers(values: string[]): number[] | null {
  const cells = values.slice(1).map((v) => v.trim());
  while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
  if (cells.length === 0) return null;
  const out: number[] = [];
  const seen = new Set<number>();
  for (const c of cells) {
    if (!/^\d{1,3}$/.test(c)) return null;
    const n = Number(c);
    if (seen.has(n)) return null; // "1;1": not a header of distinct column numbers
    seen.add(n);
    out.push(n);
  }
  return out;
}

type Mode =
  | { m: 'outside' }
  | { m: 'header'; grid: Grid } // after a marker, before the column numbers
  | { m: 'rows'; grid: Grid }
  | { m: 'tableHeader'; start: number; label: string }
  | { m: 'table'; start: number; label: string; well: number; sample: number; count: number; last: number };

export class GridSplitter {
  private readonly values: RegExp;
  private readonly samplesGrid: RegExp | null;
  private readonly samplesTable: RegExp | null;
  private readonly tableWell: string;
  private readonly tableSample: string;
  private readonly wellHeader: string;
  private readonly sampleHeader: string;
  private readonly plateRe: RegExp | null;
  private mode: Mode = { m: 'outside' };
  // The current plate.
  private plateLabel = '';
  private plateValues: Grid[] = [];
  private plateSamples: Map<string, string> | null = null;
  private plateLines: PreambleLine[] = [];
  /** Without plate markers: lines after the plate's values grid, which may head the next plate. */
  private pendingLines: PreambleLine[] = [];
  private plateWells = 0;
  // Carried down from earlier plates.
  private lastSamples: Map<string, string> | null = null;
  private earlierLines: PreambleLine[] = [];
  /** The file's own block (the lines before its first plate or grid marker): every plate sees it. */
  private readonly head: PreambleLine[] = [];
  private started = false;
  private found = 0;

  constructor(private readonly spec: GridSpec) {
    this.values = new RegExp(spec.values.after);
    const s = spec.samples;
    this.samplesGrid = s?.after !== undefined ? new RegExp(s.after) : null;
    this.samplesTable = s?.table !== undefined && this.samplesGrid === null ? new RegExp(s.table) : null;
    this.wellHeader = s?.well ?? 'Well';
    this.sampleHeader = s?.sample ?? 'Sample';
    this.tableWell = normalizeHeader(this.wellHeader);
    this.tableSample = normalizeHeader(this.sampleHeader);
    this.plateRe = spec.plate !== undefined ? new RegExp(spec.plate) : null;
  }

  /** Values grids found so far. */
  get valuesGrids(): number {
    return this.found;
  }

  push(values: string[], line: number): GridEvent[] {
    const out: GridEvent[] = [];
    this.step(values, line, out);
    return out;
  }

  /** End of file: the last plate. */
  end(): GridEvent[] {
    const out: GridEvent[] = [];
    this.closeGrid(out);
    this.flushPlate(out);
    return out;
  }

  private step(values: string[], line: number, out: GridEvent[]): void {
    const firstIdx = values.findIndex((v) => v.trim() !== '');
    const blank = firstIdx < 0;
    const first = blank ? '' : values[firstIdx].trim();
    const mode = this.mode;
    switch (mode.m) {
      case 'header': {
        if (blank) return;
        const cols = columnNumbers(values);
        if (cols === null) {
          out.push({ kind: 'error', line, message: `the line after the grid marker "${mode.grid.info.label}" (line ${mode.grid.info.lines[0]}) is not a header of column numbers (1, 2, 3 …); the grid is skipped` });
          this.mode = { m: 'outside' };
          break; // the line itself is read as an outside line
        }
        mode.grid.columns = cols;
        mode.grid.info.columns = cols.length;
        mode.grid.info.lines[1] = line;
        this.mode = { m: 'rows', grid: mode.grid };
        return;
      }
      case 'rows': {
        const label = (values[0] ?? '').trim().toUpperCase();
        // Two-letter rows (AA–AF of a 1536-well plate) only follow Z: "ID;123" under an 8-row grid is a block line.
        const continues = label.length === 1 || mode.grid.lastRow === 'Z' || mode.grid.lastRow.length === 2;
        if (!blank && ROW_LABEL.test(label) && firstIdx === 0 && continues) {
          this.addRow(mode.grid, label, values, line, out);
          return;
        }
        this.closeGrid(out);
        if (blank) return;
        break;
      }
      case 'tableHeader': {
        if (blank) return;
        const heads = values.map(normalizeHeader);
        const well = heads.indexOf(this.tableWell);
        const sample = heads.indexOf(this.tableSample);
        if (well < 0 || sample < 0) {
          out.push({ kind: 'error', line, message: `the sample table under "${mode.label}" (line ${mode.start}) needs a header with columns "${this.wellHeader}" and "${this.sampleHeader}" (grid.samples.well / sample); the table is skipped` });
          this.mode = { m: 'outside' };
          break;
        }
        this.startSamples();
        this.mode = { m: 'table', start: mode.start, label: mode.label, well, sample, count: 0, last: line };
        return;
      }
      case 'table': {
        const w = blank ? undefined : normalizeWell(values[mode.well] ?? '');
        if (w !== undefined) {
          const s = (values[mode.sample] ?? '').trim();
          if (this.plateSamples!.has(w)) out.push({ kind: 'error', line, column: mode.well + 1, message: `well ${w} is named twice in the sample table under "${mode.label}"` });
          else if (s !== '') this.plateSamples!.set(w, s);
          mode.count++;
          mode.last = line;
          return;
        }
        out.push({ kind: 'grid', info: { kind: 'samples', label: mode.label, plate: this.plateLabel || this.plateValues[0]?.info.label || mode.label, lines: [mode.start, mode.last], rows: mode.count, columns: 2, table: true } });
        this.mode = { m: 'outside' };
        if (blank) return;
        break;
      }
      default:
        break;
    }
    if (blank) return;
    // Outside any grid: a plate marker, a grid marker, or a line of the plate's key/value block.
    if (this.plateRe !== null && this.plateRe.test(first)) {
      this.started = true;
      this.flushPlate(out);
      this.plateLabel = first;
      this.plateLines.push({ line, cells: values });
      return;
    }
    if (this.values.test(first) || (this.samplesGrid ?? this.samplesTable)?.test(first) === true) this.started = true;
    if (this.values.test(first)) {
      if (this.plateRe === null && this.plateValues.length > 0) this.flushPlate(out, true);
      this.openGrid('values', first, values, line);
      return;
    }
    if (this.samplesGrid !== null && this.samplesGrid.test(first)) {
      if (this.plateSamples !== null && this.plateRe === null) this.flushPlate(out, true);
      this.openGrid('samples', first, values, line);
      return;
    }
    if (this.samplesTable !== null && this.samplesTable.test(first)) {
      if (this.plateSamples !== null && this.plateRe === null) this.flushPlate(out, true);
      this.mode = { m: 'tableHeader', start: line, label: first };
      return;
    }
    if (!this.started && this.head.length < MAX_CARRIED) this.head.push({ line, cells: values });
    else if (this.plateRe === null && this.plateValues.length > 0) this.pendingLines.push({ line, cells: values });
    else this.plateLines.push({ line, cells: values });
  }

  private openGrid(kind: 'values' | 'samples', label: string, values: string[], line: number): void {
    const grid: Grid = { info: { kind, label, plate: this.plateLabel || label, lines: [line, line], rows: 0, columns: 0 }, columns: [], rows: new Map(), lastRow: '' };
    // "Results;1;2;3…": the marker line is the header itself.
    const cols = columnNumbers(values);
    if (cols !== null) {
      grid.columns = cols;
      grid.info.columns = cols.length;
      this.mode = { m: 'rows', grid };
    } else this.mode = { m: 'header', grid };
  }

  private addRow(grid: Grid, label: string, values: string[], line: number, out: GridEvent[]): void {
    if (grid.rows.has(label)) {
      out.push({ kind: 'error', line, column: 1, message: `row ${label} appears twice in the grid "${grid.info.label}" (line ${grid.info.lines[0]}); this line is not read` });
      return;
    }
    const width = grid.columns.length;
    const extra = values.slice(width + 1).findIndex((v) => v.trim() !== '');
    if (extra >= 0) {
      out.push({ kind: 'error', line, column: width + 2 + extra, message: `row ${label} of the grid "${grid.info.label}" has a value in column ${width + 2 + extra}, right of the grid's last column (${grid.columns[width - 1]}); this line is not read` });
      return;
    }
    this.plateWells += width;
    if (this.plateWells > MAX_PLATE_WELLS) throw new GridTooLarge(line);
    grid.rows.set(label, { line, cells: values.slice(1, width + 1) });
    grid.lastRow = label;
    grid.info.rows++;
    grid.info.lines[1] = line;
  }

  /**
   * The lines later plates may still read (a plate without its own "Read at:" keeps the last one):
   * the newest line per first cell, without plate marker lines, at most MAX_CARRIED — so a file
   * of thousands of plates keeps memory flat and its head block in reach.
   */
  private carried(lines: PreambleLine[]): PreambleLine[] {
    const out: PreambleLine[] = [];
    const seen = new Set<string>();
    for (const l of lines) {
      const first = l.cells.find((c) => c.trim() !== '')?.trim() ?? '';
      if (this.plateRe !== null && this.plateRe.test(first)) continue;
      const key = normalizeHeader(first);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(l);
      if (out.length === MAX_CARRIED) break;
    }
    return out;
  }

  private startSamples(): void {
    this.plateSamples = new Map();
  }

  private closeGrid(out: GridEvent[]): void {
    const mode = this.mode;
    if (mode.m === 'table') {
      out.push({ kind: 'grid', info: { kind: 'samples', label: mode.label, plate: this.plateLabel || this.plateValues[0]?.info.label || mode.label, lines: [mode.start, mode.last], rows: mode.count, columns: 2, table: true } });
    }
    if (mode.m === 'header') out.push({ kind: 'error', line: mode.grid.info.lines[0], message: `the grid marker "${mode.grid.info.label}" is not followed by a header of column numbers; the grid is skipped` });
    this.mode = { m: 'outside' };
    if (mode.m !== 'rows') return;
    const grid = mode.grid;
    if (grid.info.kind === 'samples') {
      this.startSamples();
      for (const [row, r] of grid.rows) {
        grid.columns.forEach((c, i) => {
          const s = (r.cells[i] ?? '').trim();
          if (s !== '') this.plateSamples!.set(`${row}${c}`, s);
        });
      }
    } else {
      this.plateValues.push(grid);
      this.found++;
    }
    out.push({ kind: 'grid', info: { ...grid.info, plate: this.plateLabel || this.plateValues[0]?.info.label || grid.info.label } });
  }

  /** @param nextStarts a marker of the next plate was read: lines pending since the values grid belong to it */
  private flushPlate(out: GridEvent[], nextStarts = false): void {
    const samples = this.plateSamples ?? this.lastSamples;
    const own = nextStarts ? this.plateLines : [...this.plateLines, ...this.pendingLines];
    const preamble = [...own, ...this.earlierLines, ...this.head];
    const declared = this.spec.samples !== undefined;
    for (const grid of this.plateValues) {
      const cells: GridCell[] = [];
      const plate = this.plateLabel || grid.info.label;
      for (const [row, r] of grid.rows) {
        grid.columns.forEach((c, i) => {
          const well = `${row}${c}`;
          cells.push({ well, row, column: c, value: r.cells[i] ?? '', sample: samples?.get(well), plate, grid: grid.info.label, line: r.line, col: i + 1 });
        });
      }
      out.push({ kind: 'plate', info: { ...grid.info, plate }, cells, preamble, samplesDeclared: declared });
    }
    if (this.plateSamples !== null) this.lastSamples = this.plateSamples;
    this.earlierLines = this.carried([...own, ...this.earlierLines]);
    this.plateValues = [];
    this.plateSamples = null;
    this.plateLines = nextStarts ? this.pendingLines : [];
    this.pendingLines = [];
    this.plateWells = 0;
    this.plateLabel = '';
  }
}

export class GridTooLarge extends Error {
  constructor(readonly line: number) {
    super(`more than ${MAX_PLATE_WELLS} wells in one plate`);
  }
}
