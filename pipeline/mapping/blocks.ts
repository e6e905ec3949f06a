// Key/value header blocks: instrument and LIMS exports start with lines such as
// `Sample ID:;S-1042;Instrument:;AAS-2` above the results table. The lines above the header row
// are split into cells here, and a label is looked up in them: the value is the cell right of it
// (or below it), the same for every row of the table.

import { normalizeHeader } from './headers.js';

export interface PreambleLine {
  line: number;
  cells: string[];
}

export interface BlockHit {
  value: string;
  /** The line the value stands on. */
  line: number;
}

/** Splits one line into cells: `delimiter`-separated, "quoted" cells may hold the delimiter ("" is a quote). */
export function splitCells(text: string, delimiter: string, quote: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    if (inQuote) {
      if (text.startsWith(quote, i)) {
        if (text.startsWith(quote, i + quote.length)) {
          cur += quote;
          i += quote.length;
        } else inQuote = false;
      } else cur += text[i];
    } else if (quote !== '' && text.startsWith(quote, i) && cur.trim() === '') {
      inQuote = true;
      cur = '';
    } else if (text.startsWith(delimiter, i)) {
      cells.push(cur);
      cur = '';
      i += delimiter.length - 1;
    } else cur += text[i];
  }
  cells.push(cur);
  return cells;
}

/** A label as compared: case, spaces (also non-breaking) and a trailing ":" or "=" ignored. */
export function normalizeLabel(text: string): string {
  return normalizeHeader(text).replace(/\s*[:=]$/, '');
}

/**
 * The value for `label` in the preamble: the cell `offset` cells right of the label (default 1),
 * or with `below`, the cell `offset` lines below it in the same column. A cell that holds the
 * label followed by more text ("Sample ID: S-1042") gives that text. The first label found wins.
 */
export function findBlockValue(lines: PreambleLine[], label: string, below = false, offset = 1): BlockHit | undefined {
  const want = normalizeLabel(label);
  for (let l = 0; l < lines.length; l++) {
    const cells = lines[l].cells;
    for (let c = 0; c < cells.length; c++) {
      const cell = normalizeHeader(cells[c]);
      if (cell === '') continue;
      if (normalizeLabel(cells[c]) === want) {
        if (below) {
          const target = lines.find((x) => x.line === lines[l].line + offset);
          return target === undefined ? { value: '', line: lines[l].line + offset } : { value: target.cells[c + 0] ?? '', line: target.line };
        }
        return { value: cells[c + offset] ?? '', line: lines[l].line };
      }
      const m = /^(.*?[:=])\s*(\S.*)$/.exec(cells[c].trim());
      if (m !== null && !below && normalizeLabel(m[1]) === want) return { value: m[2], line: lines[l].line };
    }
  }
  return undefined;
}
