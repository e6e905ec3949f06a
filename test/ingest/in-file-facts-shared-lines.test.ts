// Rows that share a line (the wells of one plate-grid line): a later row that overwrites one of
// their facts makes one applied row of that line superseded, never a rejected one.

import { describe, expect, it } from 'vitest';
import { InFileFacts } from '../../pipeline/ingest/in-file-facts.js';

const fact = (priorLine: number, heldByLine: number) => ({ key: 'test_result T, lot L', priorLine, heldByLine });

describe('InFileFacts with several rows on one line', () => {
  it('counts the overwritten applied row of a shared line as superseded', () => {
    const f = new InFileFacts();
    const fates: string[] = [];
    for (const [line, failed] of [[9, false], [9, true], [9, false], [10, false]] as const) {
      f.beginRow(line);
      if (!failed) f.wrote(undefined);
      fates.push(f.endRow(failed));
    }
    expect(fates).toEqual(['applied', 'rejected', 'applied', 'applied']);
    f.beginRow(23);
    expect(f.wrote(fact(9, 23)).map((w) => [w.code, w.line])).toEqual([['W_SUPERSEDED_IN_FILE', 9]]);
    expect(f.endRow(false)).toBe('applied');
    expect(f.takeSuperseded()).toBe(1);
    f.beginRow(24);
    f.wrote(fact(9, 24));
    f.endRow(false);
    expect(f.takeSuperseded()).toBe(1);
    // Line 9 has no applied row with a stored record left: a third overwrite finds nothing to take.
    f.beginRow(25);
    f.wrote(fact(9, 25));
    f.endRow(false);
    expect(f.takeSuperseded()).toBe(0);
  });
});
