// End to end through `lotgate ingest`: lab result text with qualifiers, specifications as text
// and replicates (fixtures/shapes/lab-qualifiers, lab-replicates), and plate-reader grids with a layout grid
// (fixtures/shapes/plate-reader) or a sample table (fixtures/shapes/plate-reader-table). Every
// row (a CSV row; a well of a grid) is applied, rejected or filtered, and the counts add up.

import { afterEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { shapeAsFeed, upload, world, type World } from './helpers.js';
import type { TestResultRow } from '../../pipeline/model/types.js';
import { evaluateResult } from '../../pipeline/readiness/evaluate-result.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A shapes mapping in place of bravo-lab's lims-results feed (same partner, feed name and match). */
const asLimsFeed = (file: string): ((y: string) => string) => shapeAsFeed(file, 'bravo-lab', 'lims-results', 'LIMS_EXPORT_*.csv');


type Counts = { rows: number; applied: number; rejected: number; filtered: number; superseded: number };
const addsUp = (c: Counts): void => expect(c.applied + c.rejected + c.filtered + c.superseded).toBe(c.rows);

describe('lab result text, spec text and replicates through lotgate ingest', () => {
  it('qualifiers, spec limits and three replicates of one assay are all stored; unreadable values are coded errors', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/lab-qualifiers.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/lab-qualifiers.csv', 'LIMS_EXPORT_20261118_0700.csv', (t) => t.replaceAll('L-9001', 'NW26-0411'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('applied_with_errors');
    expect(r.ack.counts).toMatchObject({ rows: 20, applied: 18, rejected: 2, filtered: 0, superseded: 0 });
    addsUp(r.ack.counts as Counts);
    expect(r.ack.errors.map((e) => [e.code, e.line, e.column, e.field])).toEqual([
      ['E_BAD_NUMBER', 19, 4, 'result'],
      ['E_BAD_SPEC', 20, 6, 'spec'],
    ]);
    expect(r.ack.warnings ?? []).toEqual([]);
    // Readiness judges what was stored: qualifiers against limits, text against specText.
    const tests = (await w.lg.store.reads.getLotDetail('NW26-0411') as { tests: TestResultRow[] }).tests;
    const verdicts = Object.fromEntries(tests.filter((t) => t.testCode !== 'ASSAY').map((t) => [t.testCode, evaluateResult(t)]));
    expect(verdicts).toEqual({
      WATER: 'pass', 'IMP-A': 'pass', 'IMP-B': 'pass', 'IMP-C': 'pass', 'RESIDUAL-SOLVENT': 'pass',
      PARTICLES: 'fail', // "> 100" cannot show it stays under NMT 6000
      TAMC: 'pass', ENDOTOXIN: 'pass', IDENTITY: 'pass', APPEARANCE: 'pass',
      COLOUR: 'fail', PH: 'pass', DISSOLUTION: 'pass', 'CONTENT-UNIFORMITY': 'pass', REMARK: 'pass',
    });
    expect(tests.filter((t) => t.testCode === 'ASSAY').map((t) => [t.resultValue, evaluateResult(t)])).toEqual(
      expect.arrayContaining([[99.2, 'pass'], [99.6, 'pass'], [98.9, 'pass']]),
    );
    // The lot view reads each replicate back with its number.
    expect(tests.filter((t) => t.testCode === 'ASSAY').map((t) => t.replicate)).toEqual(['1', '2', '3']);
    expect(tests.find((t) => t.testCode === 'WATER')).toMatchObject({ replicate: '1' });
  });

  it('without a replicate the repeated assay rows overwrite each other (what sequence: true prevents)', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': (y) => asLimsFeed('fixtures/shapes/lab-qualifiers.yaml')(y).replace(/^\s*replicate: \{ sequence: true \}.*$/m, '') });
    const file = upload(w.dir, 'fixtures/shapes/lab-qualifiers.csv', 'LIMS_EXPORT_20261118_0710.csv', (t) => t.replaceAll('L-9001', 'NW26-0411'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.ack.counts).toMatchObject({ rows: 20, applied: 16, rejected: 2, superseded: 2 });
    addsUp(r.ack.counts as Counts);
    expect((r.ack.warnings ?? []).map((x) => x.code)).toEqual(['W_SUPERSEDED_IN_FILE', 'W_SUPERSEDED_IN_FILE']);
  });
});

describe('replicates from a column and from the measurement time through lotgate ingest', () => {
  it('all five measurements are stored, none superseded', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/lab-replicates.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/lab-replicates.csv', 'LIMS_EXPORT_20261118_0720.csv', (t) => t.replaceAll('L-9002', 'NW26-0415'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 5, applied: 5, rejected: 0, filtered: 0, superseded: 0 });
    addsUp(r.ack.counts as Counts);
    expect(r.ack.warnings ?? []).toEqual([]);
  });
});

describe('plate-reader grids through lotgate ingest', () => {
  it('two plates with a layout grid: one result per measured well; blank and empty wells filtered, a well without sample rejected', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/plate-reader.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/plate-reader.csv', 'LIMS_EXPORT_20261118_0800.csv', (t) => t.replace('L-5001', 'NW26-0411'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('applied_with_errors');
    expect(r.ack.counts).toMatchObject({ rows: 24, applied: 12, rejected: 2, filtered: 10, superseded: 0 });
    addsUp(r.ack.counts as Counts);
    expect(r.ack.errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['E_GRID_NO_SAMPLE', 11, 5],
      ['E_BAD_NUMBER', 23, 5],
    ]);
  });

  it('samples from a table: every well accounted for', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/plate-reader-table.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/plate-reader-table.csv', 'LIMS_EXPORT_20261118_0900.csv', (t) => t.replace('L-5002', 'NW26-0415'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('applied_with_errors');
    expect(r.ack.counts).toMatchObject({ rows: 9, applied: 5, rejected: 1, filtered: 3, superseded: 0 });
    addsUp(r.ack.counts as Counts);
    expect(r.ack.errors.map((e) => [e.code, e.line, e.column])).toEqual([['E_GRID_NO_SAMPLE', 14, 3]]);
  });

  it('a file without the results marker is rejected as a whole with E_GRID_NOT_FOUND', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/plate-reader-table.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/plate-reader-table.csv', 'LIMS_EXPORT_20261118_0910.csv', (t) => t.replace('Results;', 'Resultate;'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors.map((e) => e.code)).toEqual(['E_GRID_NOT_FOUND']);
  });
});

describe('plate-reader grids without a replicate', () => {
  it('two wells of one line with the same key are an error, never a silent overwrite; across plates the later read supersedes', async () => {
    w = await world({
      'bravo-lab/lims-results.yaml': (y) =>
        asLimsFeed('fixtures/shapes/plate-reader.yaml')(y)
          .replace(/^\s*replicate: .*$/m, '')
          .replace(/^\s*testedAt: .*$/m, ''),
    });
    const file = upload(w.dir, 'fixtures/shapes/plate-reader.csv', 'LIMS_EXPORT_20261118_1000.csv', (t) => t.replace('L-5001', 'NW26-0411'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    addsUp(r.ack.counts as Counts);
    // Plate 1: A2 repeats A1's S-01, A4 repeats A3's S-02; plate 2: A2 (S-01) and B4 (S-03) likewise.
    expect(r.ack.errors.filter((e) => e.code === 'E_GRID_SAME_KEY').map((e) => [e.line, e.column])).toEqual([[9, 3], [9, 5], [23, 3], [24, 5]]);
    expect(r.ack.counts).toMatchObject({ rows: 24, applied: 4, rejected: 6, filtered: 10, superseded: 4 });
    // Plate 2's S-01, S-02, S-03, S-04 results overwrite plate 1's (same lot, test, sample; no time,
    // no replicate): each overwrite is a coded warning naming both lines.
    expect((r.ack.warnings ?? []).filter((x) => x.code === 'W_SUPERSEDED_IN_FILE').map((x) => x.line)).toEqual([9, 9, 10, 11]);
  });
});
