// Every partner-file shape in fixtures/shapes/ with its expected canonical output.
//
// A shape is three files with one base name: `<name>.yaml` (the mapping an analyst writes), the
// sample (`<name>.<ext>`, the one other file of that name: .csv, .txt, .xml, .xlsx …) and
// `<name>.expected.json`: what `lotgate mapping test` must make of the sample — the counts, every
// canonical record (kind, line, ids, fields), every error and warning (code, line, column,
// field). The expected file is written by a person reading the sample; to refresh it after a
// deliberate change, run `UPDATE_SHAPES=1 npx vitest run test/mapping/shape-fixtures.test.ts`
// and review the diff like code.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun, type DryRunResult } from '../../pipeline/mapping/dry-run.js';
import type { RowError } from '../../pipeline/model/types.js';
import { compile, specOf } from './helpers.js';

const DIR = 'fixtures/shapes';
/** "Now" for date plausibility: the fixtures were written in early 2026. */
const DEFAULT_NOW = '2026-02-05T00:00:00Z';

interface Expected {
  /** The sample's file name (default: the one non-yaml/json file with the shape's base name). */
  sample?: string;
  /** ISO instant used as "now" (default DEFAULT_NOW). */
  now?: string;
  counts: Record<string, number>;
  records: unknown[];
  errors: unknown[];
  warnings: unknown[];
}

const problem = (e: RowError) => ({ code: e.code, line: e.line, column: e.column, field: e.field });

function observed(r: DryRunResult) {
  return {
    counts: r.counts,
    records: r.records.map((x) => ({ kind: x.kind, line: x.line, ids: x.ids, fields: x.fields })),
    errors: r.errors.map(problem),
    warnings: (r.warnings ?? []).map(problem),
  };
}

function sampleOf(name: string, expected: Partial<Expected>): string {
  if (expected.sample !== undefined) return expected.sample;
  const candidates = readdirSync(DIR).filter((f) => f.startsWith(`${name}.`) && !/\.(ya?ml|json)$/.test(f) && f.slice(name.length + 1).indexOf('.') === -1);
  if (candidates.length !== 1) throw new Error(`${DIR}/${name}: expected exactly one sample file named ${name}.<ext>, found ${candidates.join(', ') || 'none'} (or name it in "sample")`);
  return candidates[0];
}

const shapes = readdirSync(DIR).filter((f) => f.endsWith('.expected.json')).map((f) => f.slice(0, -'.expected.json'.length)).sort();

describe('fixtures/shapes: each shape maps to its expected canonical output', () => {
  it('has shapes with expected output, each with its mapping', () => {
    expect(shapes.length).toBeGreaterThan(0);
    for (const name of shapes) expect(existsSync(join(DIR, `${name}.yaml`)), `${name}.yaml`).toBe(true);
  });

  for (const name of shapes) {
    it(name, async () => {
      const expectedPath = join(DIR, `${name}.expected.json`);
      const expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as Expected;
      const mapping = readFileSync(join(DIR, `${name}.yaml`), 'utf8');
      const sample = sampleOf(name, expected);
      const result = observed(await dryRun(compile(mapping), specOf(mapping), join(DIR, sample), { now: new Date(expected.now ?? DEFAULT_NOW) }));
      if (process.env.UPDATE_SHAPES === '1') {
        const keep: Partial<Expected> = {};
        if (expected.sample !== undefined) keep.sample = expected.sample;
        if (expected.now !== undefined) keep.now = expected.now;
        writeFileSync(expectedPath, JSON.stringify({ ...keep, ...result }, null, 2) + '\n');
        return;
      }
      // JSON round trip: undefined keys vanish and dates become strings, as in the committed file.
      expect(JSON.parse(JSON.stringify(result))).toEqual({ counts: expected.counts, records: expected.records, errors: expected.errors, warnings: expected.warnings });
    });
  }
});
