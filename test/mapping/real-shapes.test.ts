// The shapes labs and CMOs actually send (issue 11): key/value header blocks, computed fields
// (template, split: number/unit, GS1, SGTIN, SSCC), columns addressed by position, occurrence,
// empty header and neighbour. Dry runs on fixtures/shapes/*.

import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { createSplitter, parseGs1, parseSgtin, parseSscc } from '../../pipeline/mapping/split.js';
import { ConvError } from '../../pipeline/mapping/values.js';
import { compile, load, specOf, yaml } from './helpers.js';

const NOW = new Date('2026-02-05T00:00:00Z');
const AAS_YAML = readFileSync('fixtures/shapes/aas-report.yaml', 'utf8');
const AAS_CSV = 'fixtures/shapes/aas-report.csv';

async function run(mapping: string, file: string) {
  return dryRun(compile(mapping), specOf(mapping), file, { now: NOW });
}

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lotgate-shapes-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('key/value header blocks, computed fields and column addressing (fixtures/shapes/aas-report)', () => {
  it('copies the block values into every record and shows where they were found', async () => {
    const r = await run(AAS_YAML, AAS_CSV);
    expect(r.errors).toEqual([]);
    expect(r.counts).toMatchObject({ rows: 3, applied: 3, rejected: 0, filtered: 0, records: 7 });
    const results = r.records.filter((x) => x.kind === 'test_result' && x.fields.testCode !== 'HG-RAW');
    expect(results).toHaveLength(3);
    for (const t of results) {
      expect(t.ids).toEqual([{ scheme: 'lims_sample', value: 'S-1042' }]);
      expect(t.fields).toMatchObject({ lotNumber: 'L-77', analyst: 'J. Doe', method: 'AAS-2' });
    }
    expect(r.blocks).toEqual({
      'Sample ID': { value: 'S-1042', line: 3 },
      'Lot:': { value: 'L-77', line: 4 },
      Analyst: { value: 'J. Doe', line: 7 },
      Instrument: { value: 'AAS-2', line: 3 },
    });
  });

  it('joins date and time by template, reads the nth "Units", the empty header cell and the column right of a header', async () => {
    const r = await run(AAS_YAML, AAS_CSV);
    const pb = r.records.find((x) => x.fields.testCode === 'Pb')!;
    expect(pb.fields).toMatchObject({
      testCode: 'Pb', resultValue: 0.12, unit: 'mg/kg', specText: 'mg/kg (ICH Q3D)', specHigh: 0.5, resultStatus: 'final', testedAt: '2026-02-04T08:20:00.000Z',
    });
    expect(r.warnings ?? []).toEqual([]); // the second "Units" is read on purpose: no W_DUPLICATE_HEADER
  });

  it('splits a GS1 element string into lot, GTIN and expiry (day 00 = end of month; absent AI = empty) and a number with its unit', async () => {
    const r = await run(AAS_YAML, AAS_CSV);
    const lots = r.records.filter((x) => x.kind === 'lot').map((x) => x.fields);
    expect(lots).toEqual([
      { lotNumber: 'L-77', materialId: '09506000134352', expiryDate: '2028-12-31' },
      { lotNumber: 'L-77', materialId: '09506000134352', expiryDate: '2028-12-31' },
      { lotNumber: 'L-77', materialId: '09506000134352' },
    ]);
    const raw = r.records.find((x) => x.fields.testCode === 'HG-RAW')!;
    expect(raw.fields).toMatchObject({ resultValue: 12.5, unit: 'µg/kg' });
  });

  it('types a block value like any field, and rejects the file when a required block label is absent', async () => {
    const text = readFileSync(AAS_CSV, 'utf8');
    const m = yaml`
      partner: bravo-lab
      feed: aas
      format: csv
      match: ["*.csv"]
      dialect: { delimiter: ";", headerRow: 8, decimal: "," }
      records:
        - emit: test_result
          fields:
            sample:   { from: { block: "sample id:" }, xref: lims_sample }
            testCode: { from: Analyte }
            result:   { from: Result }
            testedAt: { from: { block: "Run" }, type: datetime, format: "dd.MM.yyyy HH:mm", tz: Europe/Berlin }
    `;
    const r = await run(m, AAS_CSV);
    expect(r.errors).toEqual([]);
    expect(r.records[0].fields.testedAt).toBe('2026-02-04T08:15:00.000Z');
    const noRun = tmpFile('x.csv', text.replace('Run:;04.02.2026 09:15', 'Start:;04.02.2026 09:15'));
    const bad = await run(m, noRun);
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]).toMatchObject({ code: 'E_MISSING_COLUMN', field: 'testedAt' });
    expect(bad.errors[0].message).toContain('the label "Run"');
    const optional = await run(m.replace('tz: Europe/Berlin }', 'tz: Europe/Berlin, optional: true }'), noRun);
    expect(optional.errors).toEqual([]);
    expect(optional.warnings?.map((w) => w.code)).toEqual(['W_COLUMN_NOT_FOUND']);
  });

  it('a template with an empty placeholder is empty; header matching ignores case, spaces and NBSP', async () => {
    const file = tmpFile('t.csv', 'LOT\u00a0NO ,Date,Time\nL1,01.02.2026,\nL2,01.02.2026,10:00\n');
    const m = yaml`
      partner: acme
      feed: f
      format: csv
      match: ["*.csv"]
      records:
        - emit: stage_event
          fields:
            lotNumber: { from: "lot no", required: true }
            stage:     { const: packaging }
            status:    { const: completed }
            eventTime: { template: "{Date} {Time}", type: datetime, format: "dd.MM.yyyy HH:mm", tz: UTC, required: true }
    `;
    const r = await run(m, file);
    expect(r.errors).toEqual([expect.objectContaining({ line: 2, code: 'E_REQUIRED', field: 'eventTime' })]);
    expect(r.records.map((x) => [x.fields.lotNumber, x.fields.eventTime])).toEqual([['L2', '2026-02-01T10:00:00.000Z']]);
  });

  it('mapping check: from and template together conflict; schema knows block/column/header/rightOf and split kinds', () => {
    const base = (field: string) => yaml`
      partner: acme
      feed: feed
      format: csv
      match: ["*.csv"]
      records:
        - emit: lot
          fields:
            lotNumber: ${field}
    `;
    const codes = (t: string) => load(t).diagnostics.map((d) => d.code);
    expect(codes(base('{ from: A, template: "{A}{B}" }'))).toContain('E_CONFLICTING_SOURCE');
    expect(codes(base('{ template: "{A" }'))).toContain('E_BAD_TEMPLATE');
    expect(codes(base('{ from: A, split: "gs1:xx" }')).length).toBeGreaterThan(0);
    expect(codes(base('{ from: { colum: 3 } }')).length).toBeGreaterThan(0);
    expect(load(base('{ from: { rightOf: Result, offset: -1 }, split: "gs1:10" }')).diagnostics).toEqual([]);
  });
});

describe('split: compound values', () => {
  it('GS1 element strings in brackets and unbracketed with GS separators', () => {
    expect(parseGs1('(01)09506000134352(17)261231(10)AB-12')).toEqual(new Map([['01', '09506000134352'], ['17', '261231'], ['10', 'AB-12']]));
    expect(parseGs1(']d20109506000134352172612311' + '0AB-12\x1d21XYZ')).toEqual(new Map([['01', '09506000134352'], ['17', '261231'], ['10', 'AB-12'], ['21', 'XYZ']]));
    expect(createSplitter('gs1:17')('(17)270200')).toBe('2027-02-28');
    expect(createSplitter('gs1:17')('(17)271301')).toBeInstanceOf(ConvError);
    expect(createSplitter('gs1:10')('lot 12')).toBeInstanceOf(ConvError);
  });

  it('SGTIN → GTIN-14 with check digit and serial; SSCC URI → 18 digits', () => {
    expect(parseSgtin('urn:epc:id:sgtin:0614141.107346.2017')).toEqual({ gtin: '10614141073464', serial: '2017' });
    expect(parseSscc('urn:epc:id:sscc:0614141.1234567890')).toBe('106141412345678908');
    expect(createSplitter('sgtin:serial')('urn:epc:id:sgtin:0614141.107346.A%2FB')).toBe('A/B');
    expect(createSplitter('sscc')('pallet 7')).toBeInstanceOf(ConvError);
  });

  it('number and unit, with qualifiers and decimal commas', () => {
    const n = createSplitter('number');
    const u = createSplitter('unit');
    expect([n('12,5 mg/kg'), u('12,5 mg/kg')]).toEqual(['12,5', 'mg/kg']);
    expect([n('<0.05%'), u('<0.05%')]).toEqual(['<0.05', '%']);
    expect(u('7')).toBeUndefined();
    expect(n('n.d.')).toBeInstanceOf(ConvError);
  });
});

describe('open-ended wide files (fixtures/shapes/icp-wide)', () => {
  const WIDE = readFileSync('fixtures/shapes/icp-wide.yaml', 'utf8');
  const FILE = 'fixtures/shapes/icp-wide.csv';

  it('takes every column matching the pattern, the capture group as the test code; empty cells make no record', async () => {
    const r = await run(WIDE, FILE);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.ids[0].value, x.fields.testCode, x.fields.resultRaw, x.fields.unit])).toEqual([
      ['S-1', 'Pb', '0,12', 'mg/kg'], ['S-1', 'Cd', '<0,01', 'mg/kg'],
      ['S-2', 'Pb', '0,3', 'mg/kg'], ['S-2', 'Cd', '0,02', 'mg/kg'], ['S-2', 'As', '0,05', 'mg/kg'],
    ]);
  });

  it('a new analyte column is picked up without a mapping change; a column nothing reads is W_UNCLAIMED_COLUMN', async () => {
    const file = tmpFile('w.csv', readFileSync(FILE, 'utf8').replace('Comment;', 'Hg (mg/kg);Comment;').replace(';ok;', ';0,001;ok;').replace(';;JD', ';;;JD'));
    const r = await run(WIDE, file);
    expect(r.records.filter((x) => x.fields.testCode === 'Hg').map((x) => x.fields.resultRaw)).toEqual(['0,001']);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'W_UNCLAIMED_COLUMN', line: 1, column: 9 })]);
    expect(r.warnings![0].message).toContain('9 "Operator"');
    expect(r.warnings![0].message).not.toContain('Comment');
  });

  it('allExcept: all columns but the listed ones and those read elsewhere', async () => {
    const m = WIDE.replace('- columns: "^(\\\\w+) \\\\(mg/kg\\\\)$"', '- allExcept: [Operator]').replace('{ from: $eachMatch }', '{ from: $eachColumn, extract: "^(\\\\w+)" }');
    expect(m).toContain('allExcept');
    const r = await run(m, FILE);
    expect(r.errors).toEqual([]);
    // Excepted is not read: Operator is still reported (ignoreColumns silences it).
    expect(r.warnings?.map((w) => [w.code, w.column])).toEqual([['W_UNCLAIMED_COLUMN', 8]]);
    expect(r.records.map((x) => x.fields.testCode)).toEqual(['Pb', 'Cd', 'Pb', 'Cd', 'As']);
  });

  it('no column matches the pattern: the file is rejected with E_MISSING_COLUMN naming the pattern', async () => {
    const r = await run(WIDE.replace('mg/kg\\\\)$"', 'µg/kg\\\\)$"'), FILE);
    expect(r.errors[0]).toMatchObject({ code: 'E_MISSING_COLUMN' });
    expect(r.errors[0].message).toContain('headers matching /^(\\w+) \\(µg\\/kg\\)$/');
  });

  it('mapping check: an each entry needs exactly one of column, columns, allExcept', () => {
    const bad = WIDE.replace('- columns:', '- column: X\n        columns:');
    expect(load(bad).diagnostics.map((d) => d.code)).toContain('E_SCHEMA');
    expect(load(WIDE).diagnostics).toEqual([]);
  });
});

describe('several sections in one file (fixtures/shapes/multi-sample)', () => {
  const MULTI = readFileSync('fixtures/shapes/multi-sample.yaml', 'utf8');
  const FILE = 'fixtures/shapes/multi-sample.csv';

  it('each table takes its own block; block values carry down; blank and marker lines end tables', async () => {
    const r = await run(MULTI, FILE);
    expect(r.records.map((x) => [x.line, x.ids[0].value, x.fields.lotNumber, x.fields.method, x.fields.resultValue])).toEqual([
      [7, 'S-2001', 'L-77', 'MA-3', 0.41],
      [8, 'S-2001', 'L-77', 'MA-3', 0.43],
      [13, 'S-2002', 'L-78', 'MA-3', 0.39],
      [17, 'S-2003', 'L-78', 'MA-3', 0.55],
    ]);
    expect(r.sections?.map((s) => [s.headerLine, s.blocks['Sample ID'].value, s.blocks['Sample ID'].line])).toEqual([[6, 'S-2001', 4], [12, 'S-2002', 10], [16, 'S-2003', 15]]);
  });

  it('block lines of other sections are not ragged rows; a row that does not fit its table is', async () => {
    const r = await run(MULTI, FILE);
    expect(r.errors).toEqual([expect.objectContaining({ line: 18, code: 'E_RAGGED_ROW' })]);
    expect(r.counts).toMatchObject({ rows: 5, applied: 4, rejected: 1, filtered: 0 });
  });

  it('the file\'s own block (above the first table) reaches the last of thousands of sections', async () => {
    const lines = ['Instrument:;MA-9', ''];
    for (let i = 1; i <= 1500; i++) lines.push(`Sample ID:;S-${i}`, `Lot:;L-${i}`, 'Test;Result;Unit', 'LOD;0,4;%', '');
    const file = tmpFile('many-sections.csv', lines.join('\n') + '\n');
    const r = await run(MULTI, file);
    expect(r.counts).toMatchObject({ rows: 1500, applied: 1500, rejected: 0 });
    const last = r.records[r.records.length - 1];
    expect([last.ids[0].value, last.fields.lotNumber, last.fields.method]).toEqual(['S-1500', 'L-1500', 'MA-9']);
  });

  it('no header cell anywhere: E_HEADER_NOT_FOUND naming sections.header', async () => {
    const r = await run(MULTI.replace('header: Test ', 'header: Prüfung '), FILE);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_HEADER_NOT_FOUND' })]);
    expect(r.errors[0].message).toContain('"Prüfung"');
  });
});
