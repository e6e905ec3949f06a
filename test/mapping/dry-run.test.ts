import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { mapFile } from '../../pipeline/mapping/map-file.js';
import { FileError } from '../../pipeline/model/types.js';
import { compile, specOf, yaml } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lotgate-dry-'));
});

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const CMO = yaml`
  partner: acme-cmo
  feed: batch-status
  match: ["Chargenstatus_*.csv"]
  dialect: { delimiter: ";", encoding: windows-1252, headerRow: 3, decimal: ",", thousands: "." }
  missing: ["", "-", "n.a."]
  records:
    - emit: stage_event
      fields:
        batch: { from: ["Charge", "Charge Nr."], xref: cmo_batch, required: true }
        stage: { from: Prozessschritt, map: { Granulierung: compounding, Verpackung: packaging, Prüfung QK: testing } }
        status: { from: Status, map: { gestartet: started, abgeschlossen: completed }, mapCaseInsensitive: true }
        eventTime: { from: Zeitpunkt, type: datetime, format: "dd.MM.yyyy HH:mm", tz: Europe/Berlin }
        site: { from: Standort }
    - emit: lot
      when: [{ field: Prozessschritt, equals: Verpackung }]
      fields:
        batch: { from: ["Charge", "Charge Nr."], xref: cmo_batch, required: true }
        quantity: { from: Menge }
  `;

function cp1252(text: string): Buffer {
  // The test text only uses characters whose Windows-1252 code equals their Latin-1 code.
  return Buffer.from(text, 'latin1');
}

describe('dry run over a real CSV file (Windows-1252, ";" and a preamble)', () => {
  it('maps every row, keeps line numbers, reports bad rows and counts', async () => {
    const path = file(
      'Chargenstatus_20261119.csv',
      cp1252(
        [
          'Chargenstatus – Export;;;;;;',
          'ACME Lohnfertigung GmbH · Werk Lörrach;;;;;;',
          'Charge;Material-Nr.;Prozessschritt;Status;Zeitpunkt;Standort;Menge',
          'AC-24117;10012345;Granulierung;gestartet;05.10.2026 06:15;Lörrach;',
          'AC-24117;10012345;Prüfung QK;Abgeschlossen;06.10.2026 18:40;Lörrach;',
          'AC-24117;10012345;Verpackung;abgeschlossen;07.10.2026 09:00;-;239.850',
          'AC-24118;10012345;Verpackung;Nacharbeit;07.10.2026 10:00;Lörrach;1.000',
          'AC-24119;10012345;Granulierung;gestartet;07.10.2026',
          '',
        ].join('\r\n').replace('Chargenstatus – Export', 'Chargenstatus - Export'),
      ),
    );
    const spec = specOf(CMO);
    const r = await dryRun(compile(CMO), spec, path);
    expect(r.counts).toEqual({ rows: 5, applied: 3, rejected: 2, records: 5, errors: 2, filtered: 0 });
    expect(r.records.map((x) => [x.line, x.kind, x.fields.stage ?? x.fields.quantity])).toEqual([
      [4, 'stage_event', 'compounding'],
      [5, 'stage_event', 'testing'],
      [6, 'stage_event', 'packaging'],
      [6, 'lot', 239850],
      [7, 'lot', 1000],
    ]);
    expect(r.records[1].fields.site).toBe('Lörrach');
    expect(r.records[0].fields.eventTime).toBe('2026-10-05T04:15:00.000Z');
    expect(r.errors).toEqual([
      expect.objectContaining({ line: 7, column: 4, field: 'status', code: 'E_UNMAPPED_CODE', value: 'Nacharbeit' }),
      expect.objectContaining({ line: 8, code: 'E_RAGGED_ROW' }),
    ]);
    expect(r.warnings).toBeUndefined();
  });

  it('limit keeps the first records but counts them all', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `AC-${i};1;Granulierung;gestartet;05.10.2026 06:15;L;`);
    const path = file('Chargenstatus_big.csv', cp1252(['t', 't', 'Charge;Material-Nr.;Prozessschritt;Status;Zeitpunkt;Standort;Menge', ...rows].join('\n')));
    const r = await dryRun(compile(CMO), specOf(CMO), path, { limit: 10 });
    expect(r.records).toHaveLength(10);
    expect(r.counts).toEqual({ rows: 500, applied: 500, rejected: 0, records: 500, errors: 0, filtered: 0 });
  });

  it('a header without a required column becomes one file-level error', async () => {
    const partial = file('Chargenstatus_nosite.csv', cp1252('a\nb\nCharge;Prozessschritt;Status;Zeitpunkt;Menge\nAC-1;Granulierung;gestartet;05.10.2026 06:15;\n'));
    // A column the mapping names is missing: an error, unless the field is optional.
    const strict = await dryRun(compile(CMO), specOf(CMO), partial);
    expect(strict.counts.records).toBe(0);
    expect(strict.errors).toEqual([{ line: 3, field: 'site', code: 'E_MISSING_COLUMN', message: expect.stringContaining(`no column for field 'site' (tried "Standort")`) }]);
    expect(strict.errors[0].message).toContain('"Charge", "Prozessschritt", "Status", "Zeitpunkt", "Menge"');
    const OPTIONAL = CMO.replace('site: { from: Standort }', 'site: { from: Standort, optional: true }');
    const ok = await dryRun(compile(OPTIONAL), specOf(OPTIONAL), partial);
    expect(ok.counts.records).toBe(1);
    expect(ok.warnings).toEqual([expect.objectContaining({ line: 3, code: 'W_COLUMN_NOT_FOUND', field: 'site' })]);
    const path = file('Chargenstatus_nocol.csv', cp1252('a\nb\nBatch;Prozessschritt;Status;Zeitpunkt\nAC-1;Granulierung;gestartet;05.10.2026 06:15\n'));
    const r = await dryRun(compile(CMO), specOf(CMO), path);
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([{ line: 3, field: 'batch', code: 'E_MISSING_COLUMN', message: expect.stringContaining('"Charge", "Charge Nr."') }]);
    expect(r.counts).toEqual({ rows: 0, applied: 0, rejected: 0, records: 0, errors: 1, filtered: 0 });
  });

  it('a file the reader refuses becomes one file-level error; mapFile throws it as a FileError', async () => {
    const path = file('Chargenstatus_empty.csv', '');
    const r = await dryRun(compile(CMO), specOf(CMO), path);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].code).toMatch(/^E_/);
    await expect(async () => {
      for await (const _ of mapFile(compile(CMO), specOf(CMO), path, 'Chargenstatus_empty.csv')) void _;
    }).rejects.toBeInstanceOf(FileError);
  });
});

const XML = yaml`
  partner: delta-cmo
  feed: mes
  format: xml
  match: "DCM_MES_*.xml"
  xml: { record: "BatchExport/Operations/OperationResponse" }
  records:
    - emit: stage_event
      fields:
        batch: { from: "@batchId", xref: cmo_batch, required: true }
        lotNumber: { from: "@clientLot" }
        stage: { from: "Operation/@code", map: { GRAN: compounding, PACK: packaging, QC: testing }, unmapped: skip }
        status: { from: State, map: { Running: started, Completed: completed, Held: on_hold } }
        eventTime: { from: [ActualEnd, ActualStart], type: datetime, format: iso }
        site: { from: HierarchyScope, extract: "^([^/]+)" }
  `;

describe('dry run over a real XML file', () => {
  it('streams record elements with their lines; skip counts as filtered', async () => {
    const path = file(
      'DCM_MES_1.xml',
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<dcm:BatchExport xmlns:dcm="urn:delta:mes">',
        '  <dcm:Operations>',
        '    <dcm:OperationResponse batchId="DX-260457" clientLot="NW26-0421">',
        '      <dcm:Operation code="GRAN"/>',
        '      <dcm:State>Completed</dcm:State>',
        '      <dcm:ActualStart>2026-09-14T06:00:00-04:00</dcm:ActualStart>',
        '      <dcm:ActualEnd>2026-09-14T14:30:00-04:00</dcm:ActualEnd>',
        '      <dcm:HierarchyScope>WIL/OSD-2/GRN-02</dcm:HierarchyScope>',
        '    </dcm:OperationResponse>',
        '    <dcm:OperationResponse batchId="DX-260457">',
        '      <dcm:Operation code="COAT"/>',
        '      <dcm:State>Running</dcm:State>',
        '      <dcm:ActualStart>2026-09-15T06:00:00Z</dcm:ActualStart>',
        '    </dcm:OperationResponse>',
        '    <dcm:OperationResponse batchId="DX-260457">',
        '      <dcm:Operation code="PACK"/>',
        '      <dcm:State>Paused</dcm:State>',
        '      <dcm:ActualStart>2026-09-16T06:00:00Z</dcm:ActualStart>',
        '    </dcm:OperationResponse>',
        '  </dcm:Operations>',
        '</dcm:BatchExport>',
        '',
      ].join('\n'),
    );
    const r = await dryRun(compile(XML), specOf(XML), path);
    expect(r.counts).toEqual({ rows: 3, applied: 1, rejected: 1, records: 1, errors: 1, filtered: 1 });
    expect(r.records).toEqual([
      {
        kind: 'stage_event',
        line: 4,
        ids: [{ scheme: 'cmo_batch', value: 'DX-260457' }],
        fields: { lotNumber: 'NW26-0421', stage: 'compounding', status: 'completed', eventTime: '2026-09-14T18:30:00.000Z', site: 'WIL' },
      },
    ]);
    expect(r.errors).toEqual([expect.objectContaining({ line: 16, field: 'status', code: 'E_UNMAPPED_CODE', value: 'Paused' })]);
  });

  it('XML with a DTD is refused as a file-level error', async () => {
    const path = file('DCM_MES_dtd.xml', '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<BatchExport/>\n');
    const r = await dryRun(compile(XML), specOf(XML), path);
    expect(r.records).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].code).toMatch(/^E_XML/);
  });
});

describe('dry run of a document feed', () => {
  const COA = yaml`
    partner: acme-cmo
    feed: coa
    format: document
    match: ["COA_*_v*.pdf"]
    records:
      - emit: document
        fields:
          batch: { from: $file, extract: '^COA_(.+)_v\d+\.pdf$', xref: cmo_batch, required: true }
          type: { const: coa }
          docId: { from: $file, extract: '^(COA_.+)_v\d+\.pdf$' }
          version: { from: $file, extract: '_v(\d+)\.pdf$', type: integer }
  `;
  it('reads everything from the file name (not the path) and never opens the file', async () => {
    const r = await dryRun(compile(COA), specOf(COA), join(dir, 'does-not-exist', 'COA_AC-24117_v2.pdf'));
    expect(r.counts).toEqual({ rows: 1, applied: 1, rejected: 0, records: 1, errors: 0, filtered: 0 });
    expect(r.records[0]).toEqual({ kind: 'document', line: 1, ids: [{ scheme: 'cmo_batch', value: 'AC-24117' }], fields: { type: 'coa', docId: 'COA_AC-24117', version: 2 } });
    const named = await dryRun(compile(COA), specOf(COA), join(dir, 'blob.bin'), { fileName: 'COA_AC-1_v7.pdf' });
    expect(named.records[0].fields.version).toBe(7);
  });
});
