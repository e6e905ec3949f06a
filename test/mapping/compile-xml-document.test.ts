import { describe, expect, it } from 'vitest';
import { compile, fakeXml, yaml } from './helpers.js';

describe('XML records', () => {
  const MES = compile(yaml`
    partner: delta-cmo
    feed: mes
    format: xml
    match: "DCM_MES_*.xml"
    xml: { record: "BatchExport/Operations/OperationResponse" }
    records:
      - emit: stage_event
        when: [{ field: "Operation/@code", present: true }]
        fields:
          batch: { from: "@batchId", xref: cmo_batch, required: true }
          stage: { from: "Operation/@code", map: { GRAN: compounding, PACK: packaging }, unmapped: skip }
          status: { from: State, map: { Running: started, Completed: completed } }
          eventTime: { from: [ActualEnd, ActualStart], type: datetime, format: iso }
          site: { from: HierarchyScope, extract: "^([^/]+)" }
      - emit: deviation
        when: [{ field: "Deviation/@ref", present: true }]
        fields:
          batch: { from: "@batchId", xref: cmo_batch }
          partnerRef: { from: "Deviation/@ref" }
          classification: { const: minor }
          status: { const: open }
          capaRefs: { from: "Deviation/Capa", type: list }
          openedAt: { from: ActualStart, type: datetime, format: iso }
  `);

  it('reads paths, attributes, the first present alias, extract and value maps', () => {
    const r = MES.mapXmlRecord(
      fakeXml(40, { '@batchId': 'DX-1', 'Operation/@code': 'GRAN', State: 'Completed', ActualStart: '2026-01-01T08:00:00+01:00', ActualEnd: '2026-01-01T18:00:00+01:00', HierarchyScope: 'WIL/OSD-2/GRN-02' }),
      'DCM_MES_1.xml',
    );
    expect(r).toEqual({
      records: [{ kind: 'stage_event', line: 40, ids: [{ scheme: 'cmo_batch', value: 'DX-1' }], fields: { stage: 'compounding', status: 'completed', eventTime: '2026-01-01T17:00:00.000Z', site: 'WIL' } }],
      errors: [],
      filtered: 0,
    });
    const running = MES.mapXmlRecord(fakeXml(41, { '@batchId': 'DX-1', 'Operation/@code': 'PACK', State: 'Running', ActualStart: '2026-01-02T08:00:00Z' }), 'f.xml');
    expect(running.records[0].fields.eventTime).toBe('2026-01-02T08:00:00.000Z');
  });

  it('repeated elements become a list; errors carry the element line and no column', () => {
    const dev = MES.mapXmlRecord(fakeXml(50, { '@batchId': 'DX-1', 'Deviation/@ref': 'D-1', 'Deviation/Capa': ['C-1', 'C-2'], ActualStart: '2026-01-02T08:00:00Z' }), 'f.xml');
    expect(dev.records[0].fields.capaRefs).toEqual(['C-1', 'C-2']);
    const bad = MES.mapXmlRecord(fakeXml(60, { '@batchId': 'DX-1', 'Operation/@code': 'GRAN', State: 'Paused', ActualStart: 'yesterday' }), 'f.xml');
    expect(bad.records).toEqual([]);
    expect(bad.errors).toEqual([
      { line: 60, field: 'status', code: 'E_UNMAPPED_CODE', message: expect.stringContaining('"Paused"'), value: 'Paused' },
      { line: 60, field: 'eventTime', code: 'E_BAD_DATE', message: expect.stringContaining('ISO-8601'), value: 'yesterday' },
    ]);
  });

  it('unmapped: skip and unmatched when count as filtered', () => {
    expect(MES.mapXmlRecord(fakeXml(70, { '@batchId': 'DX-1', 'Operation/@code': 'COAT', State: 'Running', ActualStart: '2026-01-02T08:00:00Z' }), 'f.xml')).toEqual({ records: [], errors: [], filtered: 1, why: expect.arrayContaining(['records[0] stage_event: stage: code "COAT" is not in the map (unmapped: skip)']) });
    expect(MES.mapXmlRecord(fakeXml(71, { '@batchId': 'DX-1' }), 'f.xml')).toEqual({ records: [], errors: [], filtered: 1, why: expect.any(Array) });
  });
});

describe('documents: fields from the file name', () => {
  const COA = compile(yaml`
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
  `);

  it('extracts batch, document id and version from COA_<batch>_v2.pdf', () => {
    expect(COA.mapDocument('COA_AC-24117_v2.pdf')).toEqual({
      records: [{ kind: 'document', line: 1, ids: [{ scheme: 'cmo_batch', value: 'AC-24117' }], fields: { type: 'coa', docId: 'COA_AC-24117', version: 2 } }],
      errors: [],
      filtered: 0,
    });
  });

  it('a name that does not fit is E_EXTRACT naming the pattern, with no line', () => {
    const r = COA.mapDocument('certificate.pdf');
    expect(r.records).toEqual([]);
    expect(r.errors[0]).toEqual({ field: 'batch', code: 'E_EXTRACT', message: expect.stringContaining('/^COA_(.+)_v\\d+\\.pdf$/'), value: 'certificate.pdf' });
  });
});
