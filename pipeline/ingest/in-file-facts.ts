// Rows of one file that overwrite each other. Two rows with the same fact key (the same sample
// and test twice, the same stage event twice) leave one stored fact: the row whose values are
// not stored is "superseded", not applied, and gets a W_SUPERSEDED_IN_FILE warning naming the
// line that is stored. Pure bookkeeping over what the store reports per write (FactWrite):
// memory grows only with the rows that are not exactly one live record (wide rows, rejected
// rows, superseded rows) and rows that share a line (wells of a plate grid, XML records written on
// one line), never with the file's size otherwise.

import type { RowError } from '../model/types.js';
import type { FactWrite } from '../store/store.js';

export type RowFate = 'applied' | 'rejected' | 'superseded';

export class InFileFacts {
  /** Live (still stored) records per finished row, for rows where that is not exactly 1. */
  private readonly live = new Map<number, number>();
  private readonly rejectedRows = new Set<number>();
  private line = 0;
  private currentLive = 0;
  /** Finished rows that lost their last stored record since the last takeSuperseded(). */
  private lost = 0;
  /** Line of the last finished row. */
  private lastLine = -1;
  /**
   * Lines that held several rows (the wells of one plate-grid line, XML records on one line): each row's live records and
   * whether it was rejected. The store names only the line a fact was credited to, so a record
   * lost from such a line is taken from a row of it that still has one, an applied row first.
   */
  private readonly shared = new Map<number, { live: number; rejected: boolean }[]>();

  beginRow(line: number): void {
    this.line = line;
    this.currentLive = 0;
  }

  /**
   * A record of the current row was written (fact: what the store reported, when the fact was
   * already credited to an earlier row of this submission). Returns the warnings to record.
   */
  wrote(fact: FactWrite | undefined): RowError[] {
    if (fact === undefined) {
      this.currentLive++;
      return [];
    }
    const here = this.line;
    const winner = fact.heldByLine ?? here;
    const out: RowError[] = [];
    const prior = fact.priorLine;
    if (prior !== null && prior !== winner) {
      out.push(superseded(prior, winner, fact.key, 'was overwritten by'));
      this.drop(prior);
    }
    if (winner !== here) out.push(superseded(here, winner, fact.key, 'is not stored: the store keeps'));
    else this.currentLive++;
    return out;
  }

  /** Ends the current row; a row that kept no stored record is superseded. */
  endRow(failed: boolean): RowFate {
    const line = this.line;
    if (line === this.lastLine) this.share(line, failed);
    else {
      if (this.currentLive !== 1) this.live.set(line, this.currentLive);
      if (failed) this.rejectedRows.add(line);
    }
    this.lastLine = line;
    if (failed) return 'rejected';
    return this.currentLive > 0 ? 'applied' : 'superseded';
  }

  /** A further row on the line of the previous one. */
  private share(line: number, failed: boolean): void {
    let rows = this.shared.get(line);
    if (rows === undefined) {
      rows = [{ live: this.live.get(line) ?? 1, rejected: this.rejectedRows.has(line) }];
      this.shared.set(line, rows);
      this.live.delete(line);
      this.rejectedRows.delete(line);
    }
    rows.push({ live: this.currentLive, rejected: failed });
  }

  /** How many rows counted applied earlier have since lost every stored record (and resets it). */
  takeSuperseded(): number {
    const n = this.lost;
    this.lost = 0;
    return n;
  }

  private drop(line: number): void {
    if (line === this.line) {
      this.currentLive--;
      return;
    }
    const rows = this.shared.get(line);
    if (rows !== undefined) {
      const row = rows.find((r) => r.live > 0 && !r.rejected) ?? rows.find((r) => r.live > 0);
      if (row !== undefined && --row.live === 0 && !row.rejected) this.lost++;
      return;
    }
    const n = (this.live.get(line) ?? 1) - 1;
    if (n === 1) this.live.delete(line);
    else this.live.set(line, n);
    if (n === 0 && !this.rejectedRows.has(line)) this.lost++;
  }
}

function superseded(line: number, winner: number, key: string, verb: string): RowError {
  const message =
    verb === 'was overwritten by'
      ? `Line ${line} was overwritten by line ${winner} of the same file: both are ${key}; only line ${winner}'s values are stored.`
      : `Line ${line} is not stored: line ${winner} of the same file is ${key} as well, and its values are kept.`;
  return {
    line,
    code: 'W_SUPERSEDED_IN_FILE',
    message: `${message} If both rows are real (e.g. a re-measurement), the mapping must map a replicate field; otherwise send each fact once.`,
  };
}
