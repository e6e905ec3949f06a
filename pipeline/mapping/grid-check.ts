// Load-time checks of `grid` (plate-reader grids) beyond the JSON Schema: the format reads
// cells, grid and sections exclude each other, the marker patterns compile.

import type { CheckReport } from './semantic-check.js';

/** Sources only a grid mapping has (one value per well). */
export const GRID_SOURCES = ['$value', '$well', '$row', '$column', '$sample', '$grid', '$plate'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function badRegex(source: unknown): string | undefined {
  if (typeof source !== 'string') return undefined;
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return `invalid regular expression /${source}/: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

export function checkGrid(raw: Obj, format: string, report: CheckReport): void {
  const g = raw.grid;
  if (!isObj(g)) return;
  if (format !== 'csv' && format !== 'xlsx') report('/grid', 'key', 'error', 'E_BAD_SOURCE', `grid reads plate grids from CSV or xlsx cells; format ${format} has none`);
  if (has(raw, 'sections')) report('/sections', 'key', 'error', 'E_CONFLICTING_SOURCE', 'a mapping has either sections (tables) or grid (plate grids); keep one');
  if (isObj(raw.dialect) && has(raw.dialect, 'headerRow')) report('/dialect/headerRow', 'key', 'warning', 'W_UNUSED_OPTION', 'with grid, grids are found by their marker lines; headerRow is not used');
  if (isObj(g.samples)) {
    const s = g.samples;
    if (has(s, 'after') && has(s, 'table')) report('/grid/samples/table', 'key', 'error', 'E_CONFLICTING_SOURCE', 'grid.samples is either a layout grid (after) or a sample table (table); keep one');
    else if (!has(s, 'after') && !has(s, 'table')) report('/grid/samples', 'key', 'error', 'E_MISSING_KEY', 'grid.samples needs after (the marker of a layout grid) or table (the marker of a Well;Sample table)');
    for (const k of ['well', 'sample']) {
      if (has(s, k) && !has(s, 'table')) report(`/grid/samples/${k}`, 'key', 'warning', 'W_UNUSED_OPTION', `grid.samples.${k} names a column of a sample table; it only applies with table`);
    }
  }
  const regexes: [string, unknown][] = [['/grid/plate', g.plate]];
  if (isObj(g.values)) regexes.push(['/grid/values/after', g.values.after]);
  if (isObj(g.samples)) regexes.push(['/grid/samples/after', g.samples.after], ['/grid/samples/table', g.samples.table]);
  for (const [ptr, source] of regexes) {
    const problem = badRegex(source);
    if (problem) report(ptr, 'value', 'error', 'E_BAD_REGEX', problem);
  }
}

function has(o: Obj, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}
