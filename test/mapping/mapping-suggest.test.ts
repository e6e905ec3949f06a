// `lotgate mapping suggest`: for every CSV/xlsx sample of fixtures/shapes and the partner
// fixtures, the draft loads with the mapping loader (valid against the schema) and maps its own
// sample without a file-level error; and what the draft says about the samples it is meant for.

import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { suggestMapping } from '../../pipeline/mapping/draft/suggest-mapping.js';
import { mapFile } from '../../pipeline/mapping/map-file.js';
import { compile, load, specOf } from './helpers.js';

const NOW = new Date('2026-11-20T12:00:00Z');
const SHAPES = readdirSync('fixtures/shapes').filter((f) => /\.(csv|xlsx)$/.test(f)).map((f) => `fixtures/shapes/${f}`);
const PARTNER_SAMPLES = [
  'fixtures/acme-cmo/Chargenstatus_20261119.csv',
  'fixtures/acme-cmo/Abweichungen_20261119.csv',
  'fixtures/bravo-lab/LIMS_EXPORT_20261118_0200.csv',
  'fixtures/bravo-lab/LIMS_SUMMARY_20261118.csv',
  'fixtures/erp/ZMM_BATCHES_20261120.csv',
  'fixtures/erp/ZMM_PO_20261120.csv',
  'fixtures/bad/Chargenstatus_utf16.csv',
  'fixtures/delta-cmo/DCM_MES_20261118T2305.xml',
  'fixtures/delta-cmo/DCM_EPCIS_20261118.xml',
];

describe('mapping suggest: every sample gets a draft that loads and maps it', () => {
  it('finds the shapes samples', () => expect(SHAPES.length).toBeGreaterThanOrEqual(4));

  for (const file of [...SHAPES, ...PARTNER_SAMPLES]) {
    it(file, async () => {
      const { yaml, report } = await suggestMapping(file);
      expect(report.diagnostics).toEqual([]);
      expect(load(yaml).diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      // No file-level error: mapFile runs to its end (row errors are the analyst's to fix).
      let units = 0;
      for await (const u of mapFile(compile(yaml), specOf(yaml), file, file.split('/').pop()!, { now: NOW })) if (u.records.length > 0) units++;
      expect(units).toBeGreaterThan(0);
    });
  }
});

describe('mapping suggest: what the drafts say', () => {
  it('an instrument report: ";" and decimal comma, header past the preamble, blocks as fields, date + time joined', async () => {
    const { yaml, report } = await suggestMapping('fixtures/shapes/aas-report.csv');
    expect(report.delimiter?.value).toBe(';');
    expect(report.decimal?.value).toBe(',');
    expect(report.headerRow.value).toBe(8);
    expect(report.record.kind).toBe('test_result');
    expect(report.blocks.map((b) => [b.label, b.value])).toEqual(expect.arrayContaining([['Sample ID', 'S-1042'], ['Instrument', 'AAS-2'], ['Lot', 'L-77']]));
    expect(yaml).toContain('sample:    { from: { block: "Sample ID" }, xref: "lims_sample" }');
    expect(yaml).toContain('testedAt:  { template: "{Date} {Time}", format: "dd.MM.yyyy HH:mm", type: "datetime", tz: "UTC" }');
    const r = await dryRun(compile(yaml), specOf(yaml), 'fixtures/shapes/aas-report.csv', { now: NOW });
    expect(r.counts).toMatchObject({ rows: 3, applied: 3, rejected: 0 });
    expect(r.records[0].fields).toMatchObject({ lotNumber: 'L-77', testCode: 'Pb', resultValue: 0.12, method: 'AAS-2', testedAt: '2026-02-04T09:20:00.000Z' });
  });

  it('a wide file: the analyte columns as an `each` pattern with the unit', async () => {
    const { yaml, report } = await suggestMapping('fixtures/shapes/icp-wide.csv');
    expect(report.record.each).toEqual({ columns: '^(.+?)\\s*\\(mg/kg\\)$', set: { unit: 'mg/kg' } });
    const r = await dryRun(compile(yaml), specOf(yaml), 'fixtures/shapes/icp-wide.csv', { now: NOW });
    expect(r.counts.records).toBeGreaterThan(r.counts.rows);
    expect(new Set(r.records.map((x) => x.fields.unit))).toEqual(new Set(['mg/kg']));
  });

  it('a German Windows-1252 Excel CSV: encoding, title lines, stage events with a status map', async () => {
    const { yaml, report } = await suggestMapping('fixtures/acme-cmo/Chargenstatus_20261119.csv');
    expect(report.encoding?.value).toBe('windows-1252');
    expect(report.headerRow.value).toBe(3);
    expect(report.record.kind).toBe('stage_event');
    expect(yaml).toMatch(/status: +\{ from: "Status", required: true, map: \{ [^}]*abgeschlossen: "completed"/);
    expect(yaml).toContain('format: "dd.MM.yyyy HH:mm"');
  });

  it('the CMO workbook: a merged two-row header, dates as workbook cells, the hidden sheet skipped', async () => {
    const { yaml, report } = await suggestMapping('fixtures/shapes/cmo-workbook.xlsx');
    expect(report.format).toBe('xlsx');
    expect(report.headerRow.value).toBe(4);
    expect(report.headerRows).toBe(2);
    expect(report.columns.map((c) => c.header)).toEqual(['Charge', 'Prozess Schritt', 'Prozess Status', 'Zeitpunkt', 'Menge Wert', 'Menge Einheit', 'Verfall', 'Bemerkung']);
    expect(yaml).toContain('xlsx: { sheet: 1, headerRows: 2 }');
    const r = await dryRun(compile(yaml), specOf(yaml), 'fixtures/shapes/cmo-workbook.xlsx', { now: NOW });
    expect(r.counts).toMatchObject({ rows: 5, applied: 5 });
  });

  it('several sections: the first table is drafted and the repeated header is pointed out', async () => {
    const { yaml, report } = await suggestMapping('fixtures/shapes/multi-sample.csv');
    expect(report.headerRow.value).toBe(6);
    expect(yaml).toMatch(/The header repeats at line\(s\) 12, 16/);
  });

  it('XML: the repeated elements as record-path candidates, fields by relative path', async () => {
    const { yaml, report } = await suggestMapping('fixtures/delta-cmo/DCM_MES_20261118T2305.xml');
    expect(report.format).toBe('xml');
    expect(report.recordCandidates?.[0]).toEqual({ path: 'BatchExport/Batches/BatchHeader', count: 3, fields: 10 });
    expect(report.recordCandidates?.map((c) => c.path)).toEqual(expect.arrayContaining(['BatchExport/OperationResponses/OperationResponse']));
    expect(yaml).toContain('xml: { record: "BatchExport/Batches/BatchHeader" }');
    expect(yaml).toContain('batch:           { from: "@batchId", xref: "cmo_batch" }');
    expect(yaml).toContain('uom:             { from: "Quantity/@uom" }');
    expect(yaml).toContain('match: ["DCM_MES_*.xml"]');
  });

  it('not a table: a coded error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lotgate-suggest-'));
    writeFileSync(join(dir, 'note.txt'), 'Dear lab,\nplease find attached\n');
    await expect(suggestMapping(join(dir, 'note.txt'))).rejects.toMatchObject({ code: 'E_SUGGEST_UNREADABLE' });
    writeFileSync(join(dir, 'doc.xml'), '<a><b/><b/></a>');
    await expect(suggestMapping(join(dir, 'doc.xml'))).rejects.toMatchObject({ code: 'E_SUGGEST_UNREADABLE' });
  });
});
