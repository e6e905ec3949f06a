// Files of several sections: each a key/value block, a header row and a table, repeated down the
// file. Works out the structure from raw CSV records (blank lines included): a row with the
// declared header cell starts a table, a blank or `end` line stops it, everything between
// tables is the next section's block. Pure: records in, events out.

import { normalizeHeader } from './headers.js';
import type { PreambleLine } from './blocks.js';
import type { SectionsSpec } from './spec.js';

export type SectionEvent =
  /** A table starts: its header, and the block lines that apply to it (this section's first, then earlier ones). */
  | { kind: 'header'; line: number; values: string[]; preamble: PreambleLine[]; section: number }
  | { kind: 'row'; line: number; values: string[] }
  /** A row in a table whose width is not the header's. */
  | { kind: 'ragged'; line: number; values: string[]; width: number };

const MAX_CARRIED = 1000;

export class SectionSplitter {
  private readonly header: string;
  private readonly end: RegExp | null;
  private width = -1; // -1: between tables
  private current: PreambleLine[] = [];
  private earlier: PreambleLine[] = [];
  /** The lines above the first table: the file's own block, carried to every section. */
  private top: PreambleLine[] | null = null;
  private count = 0;

  constructor(spec: SectionsSpec) {
    this.header = normalizeHeader(spec.header);
    this.end = spec.end !== undefined ? new RegExp(spec.end) : null;
  }

  get sections(): number {
    return this.count;
  }

  push(values: string[], line: number): SectionEvent | null {
    const first = values.find((v) => v.trim() !== '');
    if (first === undefined || (this.end !== null && this.end.test(first.trim()))) {
      this.closeTable();
      return null;
    }
    if (values.some((v) => normalizeHeader(v) === this.header)) {
      this.closeTable();
      const preamble = [...this.current, ...this.earlier];
      this.top ??= this.current.slice(0, MAX_CARRIED);
      // Carried down, bounded so a file of thousands of sections keeps memory flat: the latest
      // sections' lines, and always the file's own block above the first table.
      this.earlier = preamble.length > MAX_CARRIED ? [...preamble.slice(0, MAX_CARRIED), ...this.top] : preamble;
      this.current = [];
      this.width = values.length;
      return { kind: 'header', line, values, preamble, section: ++this.count };
    }
    if (this.width < 0) {
      this.current.push({ line, cells: values });
      return null;
    }
    if (values.length !== this.width) return { kind: 'ragged', line, values, width: this.width };
    return { kind: 'row', line, values };
  }

  private closeTable(): void {
    this.width = -1;
  }
}
