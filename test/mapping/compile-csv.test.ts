import { describe, expect, it } from 'vitest';
import { bind, compile, mapRows, yaml } from './helpers.js';

const CMO = yaml`
  partner: acme-cmo
  feed: batch-status
  format: csv
  match: ["batch_status_*.csv"]
  dialect: { delimiter: ";", encoding: windows-1252, headerRow: 3, decimal: ",", thousands: "." }
  missing: ["n.a.", "-"]
  records:
    - emit: stage_event
      fields:
        batch:     { from: ["Batch No", "Charge"], xref: cmo_batch, required: true }
        stage:     { from: Step, map: { MIX: compounding, FILL: filling, PACK: packaging }, unmapped: error }
        status:    { from: Status, map: { Started: started, Done: completed, Hold: on_hold } }
        eventTime: { from: "Date", type: datetime, format: "dd.MM.yyyy HH:mm", tz: Europe/Berlin }
        site:      { from: Site, default: "Plant 1", optional: true }
    - emit: lot
      when: [{ field: Step, equals: PACK }, { field: Status, equals: Done }]
      fields:
        batch:    { from: ["Batch No", "Charge"], xref: cmo_batch, required: true }
        quantity: { from: Qty }
        expiryDate: { from: Expiry, type: date, format: dd.MM.yyyy }
        materialId: { from: Material }
`;
const CMO_HEADER = ['Charge', 'Material', 'Step', 'Status', 'Date', 'Site', 'Qty', 'Expiry'];

describe('CSV row mapping: a German CMO batch status row', () => {
  const mapper = bind(CMO, CMO_HEADER, 3);

  it('maps ids, value maps, Berlin local time to UTC, decimal comma with thousands dots, dd.MM.yyyy dates', () => {
    const [r] = mapRows(mapper, ['AC-24117;00123;PACK;Done;15.01.2026 08:30;Lörrach;239.850,5;31.12.2028'], ';', 4);
    expect(r.errors).toEqual([]);
    expect(r.records).toEqual([
      {
        kind: 'stage_event',
        line: 4,
        ids: [{ scheme: 'cmo_batch', value: 'AC-24117' }],
        fields: { stage: 'packaging', status: 'completed', eventTime: '2026-01-15T07:30:00.000Z', site: 'Lörrach' },
      },
      {
        kind: 'lot',
        line: 4,
        ids: [{ scheme: 'cmo_batch', value: 'AC-24117' }],
        fields: { quantity: 239850.5, expiryDate: '2028-12-31', materialId: '00123' },
      },
    ]);
    expect(typeof (r.records[1].fields as Record<string, unknown>).materialId).toBe('string');
  });

  it('uses the summer offset in July and binds headers ignoring case and whitespace runs', () => {
    const m = bind(CMO, CMO_HEADER.map((h) => ` ${h.toUpperCase()} `).map((h) => (h === ' CHARGE ' ? 'BATCH\u00a0 NO' : h)), 3);
    const [r] = mapRows(m, ['AC-1;1;MIX;Started;01.07.2026 12:00;X;;'], ';');
    expect(r.records[0].fields.eventTime).toBe('2026-07-01T10:00:00.000Z');
    expect(r.records).toHaveLength(1); // the lot record's `when` does not hold
  });

  it('rejects a junk quantity with E_BAD_NUMBER on that record only, naming column, value and notation', () => {
    const [r] = mapRows(mapper, ['AC-1;1;PACK;Done;15.01.2026 08:30;X;12.5;31.12.2028'], ';', 9);
    expect(r.records.map((x) => x.kind)).toEqual(['stage_event']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 9, column: 7, field: 'quantity', code: 'E_BAD_NUMBER', value: '12.5' });
    expect(r.errors[0].message).toContain('decimal separator ","');
    expect(r.errors[0].message).toContain('"12.5"');
  });

  it('reports E_BAD_DATE with the pattern expected and the value found', () => {
    const [r] = mapRows(mapper, ['AC-1;1;MIX;Started;2026-01-15 08:30;X;;'], ';', 5);
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([
      expect.objectContaining({ line: 5, column: 5, field: 'eventTime', code: 'E_BAD_DATE', value: '2026-01-15 08:30' }),
    ]);
    expect(r.errors[0].message).toContain('"dd.MM.yyyy HH:mm"');
    expect(r.errors[0].message).toContain('got "2026-01-15 08:30"');
  });

  it('rejects impossible calendar dates and local times inside the DST gap', () => {
    const [feb, gap] = mapRows(mapper, ['AC-1;1;MIX;Started;30.02.2026 08:30;X;;', 'AC-1;1;MIX;Started;29.03.2026 02:30;X;;'], ';');
    expect(feb.errors[0]).toMatchObject({ code: 'E_BAD_DATE' });
    expect(feb.errors[0].message).toContain('day 30 does not exist');
    expect(gap.errors[0]).toMatchObject({ code: 'E_BAD_DATE' });
    expect(gap.errors[0].message).toContain('Europe/Berlin');
  });

  it('names an unmapped code and lists the known ones (E_UNMAPPED_CODE)', () => {
    const [r] = mapRows(mapper, ['AC-1;1;COAT;Started;15.01.2026 08:30;X;;'], ';');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'E_UNMAPPED_CODE', field: 'stage', column: 3, value: 'COAT' });
    expect(r.errors[0].message).toContain('"COAT"');
    expect(r.errors[0].message).toContain('"MIX", "FILL", "PACK"');
  });

  it('treats missing markers and empty cells as absent: default applies, required fails with E_REQUIRED', () => {
    const [dash, empty, marker] = mapRows(mapper, ['AC-1;1;MIX;Started;15.01.2026 08:30;-;;', ';1;MIX;Started;15.01.2026 08:30;X;;', 'N.A.;1;MIX;Started;15.01.2026 08:30;X;;'], ';');
    expect(dash.records[0].fields.site).toBe('Plant 1');
    expect(empty.records).toEqual([]);
    expect(empty.errors[0]).toMatchObject({ code: 'E_REQUIRED', field: 'batch', column: 1 });
    expect(marker.errors[0]).toMatchObject({ code: 'E_REQUIRED', field: 'batch', value: 'N.A.' });
    expect(marker.errors[0].message).toContain('missing-value marker');
  });

  it('a canonically required field that arrives empty fails validation (status of a stage_event)', () => {
    const [r] = mapRows(mapper, ['AC-1;1;MIX;;15.01.2026 08:30;X;;'], ';');
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_REQUIRED', field: 'status', column: 4 })]);
  });

  it('a header without a required column is a file-level E_MISSING_COLUMN naming aliases and headers', () => {
    const bound = compile(CMO).bindCsvHeader(['Batch', 'Step', 'Status', 'Date'], 3);
    expect('error' in bound).toBe(true);
    if (!('error' in bound)) return;
    expect(bound.error).toMatchObject({ code: 'E_MISSING_COLUMN', line: 3, field: 'batch' });
    expect(bound.error.message).toContain('"Batch No", "Charge"');
    expect(bound.error.message).toContain('"Batch", "Step", "Status", "Date"');
  });

  it('returns the bound columns, and no warnings when every header is there once', () => {
    expect(mapper.columns.batch).toEqual({ header: 'Charge', index: 0 });
    expect(mapper.columns.eventTime).toEqual({ header: 'Date', index: 4 });
    expect(mapper.warnings).toEqual([]);
  });

  it('warns about optional columns that are absent and headers that appear twice', () => {
    const m = bind(CMO, ['Charge', 'Material', 'Step', 'Status', 'Date', 'Qty', 'Expiry', 'status'], 3);
    expect(m.warnings).toEqual([
      expect.objectContaining({ line: 3, column: 8, field: 'status', code: 'W_DUPLICATE_HEADER' }),
      expect.objectContaining({ line: 3, field: 'site', code: 'W_COLUMN_NOT_FOUND', message: expect.stringContaining('takes its default') }),
    ]);
    const [r] = mapRows(m, ['AC-1;1;MIX;Started;15.01.2026 08:30;;;Done'], ';');
    expect(r.records[0].fields).toMatchObject({ status: 'started', site: 'Plant 1' });
  });
});

describe('US lab export: M/d/yy h:mm a in America/New_York', () => {
  const LAB = yaml`
    partner: bravo-lab
    feed: lims
    match: "LIMS_*.csv"
    records:
      - emit: test_result
        fields:
          sample:   { from: "Sample ID", xref: lims_sample }
          testCode: { from: Test }
          result:   { from: Result }
          testedAt: { from: "Tested On", type: datetime, format: "M/d/yy h:mm a", tz: America/New_York }
          resultStatus: { from: Status, map: { F: final, P: preliminary }, default: final }
  `;
  const mapper = bind(LAB, ['Sample ID', 'Test', 'Result', 'Tested On', 'Status']);

  it('parses 12-hour times with AM/PM, two-digit years and the zone offset (EST and EDT)', () => {
    const rows = mapRows(mapper, ['S1,ASSAY,99.6,10/20/26 9:42 AM,F', 'S1,ASSAY,99.6,1/5/26 12:05 AM,', 'S1,ASSAY,99.6,1/5/26 12:05 PM,P']);
    expect(rows.map((r) => r.errors)).toEqual([[], [], []]);
    expect(rows.map((r) => r.records[0].fields.testedAt)).toEqual(['2026-10-20T13:42:00.000Z', '2026-01-05T05:05:00.000Z', '2026-01-05T17:05:00.000Z']);
    expect(rows.map((r) => r.records[0].fields.resultStatus)).toEqual(['final', 'final', 'preliminary']);
  });

  it('splits lab result text into qualifier and value, keeping the raw text', () => {
    const rows = mapRows(mapper, ['S1,IMP,<0.05,,', 'S1,IMP,ND,,', 'S1,IMP,n.d.,,', 'S1,IMP,not detected,,', 'S1,IMP,<LOQ,,', 'S1,IMP,>= 5,,', 'S1,STER,Complies,,', 'S1,IMP,12.3.4,,']);
    expect(rows.slice(0, 7).map((r) => r.records[0].fields)).toEqual([
      { testCode: 'IMP', resultRaw: '<0.05', resultValue: 0.05, qualifier: '<', resultStatus: 'final' },
      { testCode: 'IMP', resultRaw: 'ND', qualifier: 'ND', resultStatus: 'final' },
      { testCode: 'IMP', resultRaw: 'n.d.', qualifier: 'ND', resultStatus: 'final' },
      { testCode: 'IMP', resultRaw: 'not detected', qualifier: 'ND', resultStatus: 'final' },
      { testCode: 'IMP', resultRaw: '<LOQ', qualifier: '<LOQ', resultStatus: 'final' },
      { testCode: 'IMP', resultRaw: '>= 5', resultValue: 5, qualifier: '>=', resultStatus: 'final' },
      { testCode: 'STER', resultRaw: 'Complies', resultStatus: 'final' },
    ]);
    expect(rows[7].records).toEqual([]);
    expect(rows[7].errors[0]).toMatchObject({ code: 'E_BAD_NUMBER', field: 'result', column: 3, value: '12.3.4' });
  });

  it('a record naming no lot is rejected with E_NO_LOT_REF', () => {
    const [r] = mapRows(mapper, [',ASSAY,99.6,,F']);
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_NO_LOT_REF', line: 2 })]);
  });
});

describe('decimal comma results', () => {
  it('reads "99,8" as 99.8 when the dialect declares a decimal comma', () => {
    const m = bind(
      yaml`
        partner: p
        feed: f
        match: "*.csv"
        dialect: { delimiter: ";", decimal: "," }
        records:
          - emit: test_result
            fields:
              lotNumber: { from: Lot }
              testCode: { from: Test }
              result: { from: Result }
      `,
      ['Lot', 'Test', 'Result'],
    );
    const [a, b] = mapRows(m, ['L1;ASSAY;99,8', 'L1;IMP;< 0,05'], ';');
    expect(a.records[0].fields).toMatchObject({ resultRaw: '99,8', resultValue: 99.8 });
    expect(b.records[0].fields).toMatchObject({ resultValue: 0.05, qualifier: '<' });
  });
});

describe('wide LIMS rows: each', () => {
  const WIDE = yaml`
    partner: bravo-lab
    feed: summary
    match: "*.csv"
    missing: ["N/A"]
    records:
      - emit: test_result
        each:
          - column: ["Assay (%)", "Assay"]
            set: { testCode: ASSAY, unit: "%", specLow: 95, specHigh: 105 }
          - column: "Water KF (%)"
            set: { testCode: WATER, unit: "%", specHigh: 3.0 }
          - column: ["Total Impurities (%)"]
            set: { testCode: IMP_TOTAL }
        fields:
          lotNumber: { from: Lot, required: true }
          testName: { from: $eachColumn }
          result: { from: $each }
          resultStatus: { const: final }
  `;
  const mapper = bind(WIDE, ['Lot', 'Assay', 'Water KF (%)', 'Total Impurities (%)']);

  it('makes one test_result per wide column that has a value', () => {
    const [r] = mapRows(mapper, ['NW26-0411,99.1,N/A,<0.05']);
    expect(r.errors).toEqual([]);
    expect(r.filtered).toBe(0);
    expect(r.records).toEqual([
      {
        kind: 'test_result',
        line: 2,
        ids: [],
        fields: { lotNumber: 'NW26-0411', testName: 'Assay', resultRaw: '99.1', resultValue: 99.1, resultStatus: 'final', testCode: 'ASSAY', unit: '%', specLow: 95, specHigh: 105 },
      },
      {
        kind: 'test_result',
        line: 2,
        ids: [],
        fields: { lotNumber: 'NW26-0411', testName: 'Total Impurities (%)', resultRaw: '<0.05', resultValue: 0.05, qualifier: '<', resultStatus: 'final', testCode: 'IMP_TOTAL' },
      },
    ]);
  });

  it('a bad cell rejects only its own record, with the wide column as the error column', () => {
    const [r] = mapRows(mapper, ['NW26-0411,98.0,1.2.3,0.1']);
    expect(r.records.map((x) => x.fields.testCode)).toEqual(['ASSAY', 'IMP_TOTAL']);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_BAD_NUMBER', field: 'result', column: 3, value: '1.2.3' })]);
  });

  it('a row-level problem is reported once, not once per wide column', () => {
    const [r] = mapRows(mapper, [',98.0,2.0,0.1']);
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_REQUIRED', field: 'lotNumber', column: 1 })]);
  });

  it('a row with no wide values produces nothing and counts as filtered', () => {
    const [r] = mapRows(mapper, ['NW26-0411,,N/A,']);
    expect(r).toEqual({ records: [], errors: [], filtered: 1, why: ['records[0] test_result: no wide (each) column has a value'] });
  });

  it('binding fails when none of the wide columns exist', () => {
    const bound = compile(WIDE).bindCsvHeader(['Lot', 'pH'], 1);
    expect('error' in bound && bound.error.code).toBe('E_MISSING_COLUMN');
  });
});

describe('unmapped code policies', () => {
  const mapping = (policy: string) => yaml`
    partner: p
    feed: f
    match: "*.csv"
    records:
      - emit: stage_event
        fields:
          lotNumber: { from: Lot }
          stage: { from: Step, map: { MIX: compounding } }
          status: { from: Status, map: { S: started, D: completed }, unmapped: ${policy} }
          eventTime: { from: Time }
          site: { from: Site, map: { P1: "Plant 1" }, unmapped: ${policy} }
  `;
  const header = ['Lot', 'Step', 'Status', 'Time', 'Site'];
  const row = 'L1,MIX,S,2026-01-01T10:00:00Z,P9';

  it('error (the default): rejects the record', () => {
    const [r] = mapRows(bind(mapping('error'), header), [row]);
    expect(r.records).toEqual([]);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_UNMAPPED_CODE', field: 'site', value: 'P9', column: 5 })]);
    const [d] = mapRows(bind(mapping('error'), header), ['L1,FILL,S,2026-01-01T10:00:00Z,P1']);
    expect(d.errors).toEqual([expect.objectContaining({ code: 'E_UNMAPPED_CODE', field: 'stage', value: 'FILL' })]);
  });

  it('keep: passes the code through (and record validation still guards enums)', () => {
    const m = bind(mapping('keep'), header);
    const [ok, bad] = mapRows(m, [row, 'L1,MIX,X,2026-01-01T10:00:00Z,P1']);
    expect(ok.records[0].fields.site).toBe('P9');
    expect(bad.records).toEqual([]);
    expect(bad.errors).toEqual([expect.objectContaining({ code: 'E_INVALID_VALUE', field: 'status', column: 3, value: 'X' })]);
    expect(bad.errors[0].message).toContain('started, completed, on_hold, aborted');
  });

  it('null: treats the code as missing', () => {
    const [r] = mapRows(bind(mapping('null'), header), [row]);
    expect(r.errors).toEqual([]);
    expect(r.records[0].fields).not.toHaveProperty('site');
    const [req] = mapRows(bind(mapping('null'), header), ['L1,MIX,X,2026-01-01T10:00:00Z,P1']);
    expect(req.errors).toEqual([expect.objectContaining({ code: 'E_REQUIRED', field: 'status' })]);
  });

  it('skip: drops the record silently and counts it as filtered', () => {
    const [r] = mapRows(bind(mapping('skip'), header), [row]);
    expect(r).toEqual({ records: [], errors: [], filtered: 1, why: ['records[0] stage_event: site: code "P9" is not in the map (unmapped: skip)'] });
  });

  it('mapCaseInsensitive matches codes ignoring case', () => {
    const m = bind(
      yaml`
        partner: p
        feed: f
        match: "*.csv"
        records:
          - emit: stage_event
            fields:
              lotNumber: { from: Lot }
              stage: { const: filling }
              status: { from: Status, map: { Abgeschlossen: completed }, mapCaseInsensitive: true }
              eventTime: { from: Time }
      `,
      ['Lot', 'Status', 'Time'],
    );
    const [r] = mapRows(m, ['L1,ABGESCHLOSSEN,2026-01-01T10:00:00+01:00']);
    expect(r.records[0].fields).toEqual({ lotNumber: 'L1', stage: 'filling', status: 'completed', eventTime: '2026-01-01T09:00:00.000Z' });
  });
});

describe('filter, when, constants, extract, lists, booleans, integers', () => {
  const M = yaml`
    partner: p
    feed: f
    match: "*.csv"
    filter:
      - { field: Type, notIn: [TEST, DEMO] }
      - { field: Lot, present: true }
    records:
      - emit: deviation
        when: [{ field: Kind, equals: DEV }]
        fields:
          lotNumber: { from: Lot, extract: "^LOT-(.+)$" }
          partnerRef: { from: Ref }
          classification: { from: Class, map: { "1": minor, "2": major, "3": critical } }
          status: { from: Status, default: open }
          capaRefs: { from: CAPA, type: list, separator: "|" }
          openedAt: { from: Opened, type: datetime, format: ["dd.MM.yyyy HH:mm", "dd.MM.yyyy"], tz: Europe/Berlin }
      - emit: document
        when: [{ field: Kind, matches: "^DOC" }, { field: "=type", in: [coa] }]
        fields:
          lotNumber: { from: Lot, extract: "^LOT-(?<value>.+)$" }
          type: { from: DocType, map: { CoA: coa, BR: batch_record } }
          docId: { from: Ref }
          version: { from: Version }
  `;
  const header = ['Type', 'Kind', 'Lot', 'Ref', 'Class', 'Status', 'CAPA', 'Opened', 'DocType', 'Version'];
  const m = bind(M, header);

  it('filters rows (counted as filtered, never as errors)', () => {
    const [test, noLot] = mapRows(m, ['TEST,DEV,LOT-1,D1,1,,,01.01.2026,,', 'PROD,DEV,-,D1,1,,,01.01.2026,,']);
    expect(test).toEqual({ records: [], errors: [], filtered: 1, why: ['filter [Type not in ["TEST", "DEMO"]] not met'] });
    expect(noLot.filtered).toBe(0); // "-" is not a missing marker here: the lot is "-", extract then fails
    expect(noLot.errors[0]).toMatchObject({ code: 'E_EXTRACT', field: 'lotNumber', value: '-' });
    const [empty] = mapRows(m, ['PROD,DEV,,D1,1,,,01.01.2026,,']);
    expect(empty).toEqual({ records: [], errors: [], filtered: 1, why: expect.any(Array) });
  });

  it('applies when, extract, lists, defaults and a second date pattern', () => {
    const [r] = mapRows(m, ['PROD,DEV,LOT-NW26-1,DEV-7,2,, CAPA-1 | CAPA-2 ,03.02.2026,,']);
    expect(r.errors).toEqual([]);
    expect(r.records).toEqual([
      {
        kind: 'deviation',
        line: 2,
        ids: [],
        fields: { lotNumber: 'NW26-1', partnerRef: 'DEV-7', classification: 'major', status: 'open', capaRefs: ['CAPA-1', 'CAPA-2'], openedAt: '2026-02-03T00:00:00.000Z' },
      },
    ]);
  });

  it('evaluates "=field" conditions on mapped values and named extract groups', () => {
    const [coa, br] = mapRows(m, ['PROD,DOC,LOT-NW26-1,COA-1,,,,,CoA,3', 'PROD,DOC,LOT-NW26-1,BR-1,,,,,BR,1']);
    expect(coa.records).toEqual([{ kind: 'document', line: 2, ids: [], fields: { lotNumber: 'NW26-1', type: 'coa', docId: 'COA-1', version: 3 } }]);
    expect(br).toEqual({ records: [], errors: [], filtered: 1, why: ['records[0] deviation: when [Kind equals "DEV"] not met', 'records[1] document: when [=type in ["coa"]] not met'] });
  });

  it('rejects a non-integer version with E_BAD_NUMBER', () => {
    const [r] = mapRows(m, ['PROD,DOC,LOT-NW26-1,COA-1,,,,,CoA,2.5']);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'E_BAD_NUMBER', field: 'version', column: 10 })]);
  });

  it('a filter on a column the file lacks is a file-level error, not silently filtering everything', () => {
    const bound = compile(M).bindCsvHeader(header.filter((h) => h !== 'Type'), 1);
    expect('error' in bound && bound.error.message).toContain('the filter on \'Type\'');
  });

  it('keeps identifiers with leading zeros as text', () => {
    const mi = bind(
      yaml`
        partner: erp
        feed: materials
        match: "*.csv"
        records:
          - emit: material
            fields:
              materialId: { from: Material }
              gtin: { from: GTIN }
              productFamily: { const: 0042 }
      `,
      ['Material', 'GTIN'],
    );
    const [r] = mapRows(mi, ['000000000010012345,00370001101014']);
    expect(r.records[0].fields).toEqual({ materialId: '000000000010012345', gtin: '00370001101014', productFamily: '0042' });
  });
});

describe('special sources', () => {
  it('$file and $line', () => {
    const m = bind(
      yaml`
        partner: p
        feed: f
        match: "*.csv"
        records:
          - emit: document
            fields:
              lotNumber: { from: Lot }
              type: { const: test_report }
              docId: { from: $file, extract: '^(.+)\.csv$' }
              supersedes: { from: $line }
      `,
      ['Lot'],
    );
    const r = m.mapRow(['L1'], 7, 'REPORT_1.csv');
    expect(r.records[0].fields).toEqual({ lotNumber: 'L1', type: 'test_report', docId: 'REPORT_1', supersedes: '7' });
  });

  it('headerless files bind columns by number', () => {
    const m = bind(
      yaml`
        partner: p
        feed: f
        match: "*.csv"
        dialect: { headerRow: 0 }
        records:
          - emit: lot
            fields:
              lotNumber: { from: "2" }
              materialId: { from: "1" }
      `,
      ['1', '2'],
    );
    expect(m.mapRow(['000123', 'L1'], 1, 'x.csv').records[0].fields).toEqual({ lotNumber: 'L1', materialId: '000123' });
  });
});
