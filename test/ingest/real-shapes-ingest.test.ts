// End to end through ingest: an instrument report with a key/value header block, computed and
// addressed columns (fixtures/shapes/aas-report), and an open-ended wide file whose unread
// column reaches the partner's ack as W_UNCLAIMED_COLUMN (fixtures/shapes/icp-wide).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { root, upload, world, type World } from './helpers.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

/** A shapes mapping in place of bravo-lab's lims-results feed (same partner, feed name and match). */
function asLimsFeed(file: string): (y: string) => string {
  const text = readFileSync(path.join(root, file), 'utf8');
  const body = text.slice(0, text.includes('\n  - emit: lot') ? text.indexOf('\n  - emit: lot') : undefined);
  return () => body.replace(/^feed: .*$/m, 'feed: lims-results').replace(/^match: .*$/m, 'match: ["LIMS_EXPORT_*.csv"]') + '\n';
}


describe('real partner shapes through lotgate ingest', () => {
  it('an instrument report: the block sample id and lot reach every stored result', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/aas-report.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/aas-report.csv', 'LIMS_EXPORT_20261118_0300.csv', (t) => t.replace('Lot: L-77', 'Lot: NW26-0411'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 3, applied: 3, rejected: 0, filtered: 0 });
  });

  it('a wide file: one result per analyte column, and the column nothing reads is a coded warning in the ack', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/icp-wide.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/icp-wide.csv', 'LIMS_EXPORT_20261118_0400.csv', (t) => t.replace('L-77', 'NW26-0411').replace('L-78', 'NW26-0415'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 2, applied: 2, rejected: 0 });
    expect(r.ack.errors).toEqual([]);
    expect(r.ack.warnings).toEqual([expect.objectContaining({ code: 'W_UNCLAIMED_COLUMN', line: 1, column: 8 })]);
  });

  it('a file of several sections: the rows of every table applied with their own sample and lot', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': asLimsFeed('fixtures/shapes/multi-sample.yaml') });
    const file = upload(w.dir, 'fixtures/shapes/multi-sample.csv', 'LIMS_EXPORT_20261118_0500.csv', (t) => t.replace('L-77', 'NW26-0411').replace('L-78', 'NW26-0415'));
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('applied_with_errors');
    expect(r.ack.counts).toMatchObject({ rows: 5, applied: 4, rejected: 1, filtered: 0, superseded: 0 });
    expect(r.ack.errors.map((e) => [e.code, e.line])).toEqual([['E_RAGGED_ROW', 18]]);
  });
});

describe('an Excel workbook through lotgate ingest', () => {
  it('format xlsx: the results sheet of a workbook is applied like a CSV export', async () => {
    const ExcelJS = (await import('exceljs')).default;
    w = await world({
      'bravo-lab/lims-results.yaml': () => [
        'partner: bravo-lab',
        'feed: lims-results',
        'format: xlsx',
        'match: ["LIMS_EXPORT_*.xlsx"]',
        'xlsx: { sheet: Results }',
        'dialect: { headerRow: 3 }',
        'records:',
        '  - emit: test_result',
        '    fields:',
        '      sample:    { from: { block: "Sample" }, xref: lims_sample, required: true }',
        '      lotNumber: { from: Lot, required: true }',
        '      testCode:  { from: Test }',
        '      result:    { from: Result }',
        '      testedAt:  { from: Tested, format: ["yyyy-MM-dd\'T\'HH:mm:ss", yyyy-MM-dd], tz: America/New_York }',
        '',
      ].join('\n'),
    });
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Results');
    ws.addRow(['Sample', 'S26-009001']);
    ws.addRow([]);
    ws.addRow(['Lot', 'Test', 'Result', 'Tested']);
    ws.addRow(['NW26-0411', 'ASSAY', 99.6, new Date(Date.UTC(2026, 10, 18, 9, 42))]).getCell(4).numFmt = 'm/d/yy h:mm';
    ws.addRow(['NW26-0415', 'WATER', 0.4, new Date(Date.UTC(2026, 10, 18, 10, 0))]).getCell(4).numFmt = 'm/d/yy h:mm';
    const file = path.join(w.dir, 'up', 'LIMS_EXPORT_20261118_0600.xlsx');
    await wb.xlsx.writeFile(file);
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 2, applied: 2, rejected: 0, filtered: 0 });
  });
});
