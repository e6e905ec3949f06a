// The GS1 US pharma EPCIS example from ../shared/corpus (written outside this project) mapped
// with a mapping written for it: commissioning events name lot A123 in their ILMD.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { compileMapping } from '../../pipeline/mapping/compile.js';
import { loadMapping } from '../../pipeline/mapping/load.js';
import { compile, specOf, yaml } from './helpers.js';

const corpusFile = join(process.env.LOTGATE_CORPUS ?? join(process.cwd(), '..', 'shared', 'corpus'), 'epcis', 'GS1_US_Pharma_Example_2_2_1_1.xml');

const EPCIS = yaml`
  partner: gs1-mfg
  feed: epcis
  format: xml
  match: ["*.xml"]
  xml: { record: "EPCISDocument/EPCISBody/EventList/ObjectEvent|AggregationEvent" }
  records:
    - emit: stage_event
      when: [{ field: "extension/ilmd/lotNumber", present: true }]
      fields:
        lotNumber: { from: "extension/ilmd/lotNumber", required: true }
        stage: { from: bizStep, map: { "urn:epcglobal:cbv:bizstep:commissioning": packaging, "urn:epcglobal:cbv:bizstep:shipping": shipped }, unmapped: skip }
        status: { const: completed }
        eventTime: { from: eventTime, type: datetime, format: iso, required: true }
        site: { from: [bizLocation/id, readPoint/id] }
    - emit: lot
      when: [{ field: "extension/ilmd/itemExpirationDate", present: true }]
      fields:
        lotNumber: { from: "extension/ilmd/lotNumber", required: true }
        expiryDate: { from: "extension/ilmd/itemExpirationDate", type: date, format: yyyy-MM-dd }
`;

describe.skipIf(!existsSync(corpusFile))('EPCIS corpus document', () => {
  it('maps its commissioning events to packaging events and expiry for lot A123', async () => {
    const r = await dryRun(compile(EPCIS), specOf(EPCIS), corpusFile);
    expect(r.errors).toEqual([]);
    const events = r.records.filter((x) => x.kind === 'stage_event');
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const e of events) {
      expect(e.fields).toMatchObject({ lotNumber: 'A123', stage: 'packaging', status: 'completed', site: 'urn:epc:id:sgln:030001.111111.0' });
      expect(e.fields.eventTime).toMatch(/^2023-03-27T06:4\d:16\.000Z$/);
    }
    const lots = r.records.filter((x) => x.kind === 'lot');
    expect(lots.map((l) => l.fields)).toContainEqual({ lotNumber: 'A123', expiryDate: '2025-03-27' });
    // Aggregation and pallet events name no lot: filtered, not errors, and every element is counted.
    expect(r.counts.rows).toBe(r.counts.filtered + events.length);
  });
});

// delta-cmo's DSCSA feed (mappings/delta-cmo/epcis-dscsa.yaml) on the same document: every one of
// its 8 events is a lot event. The pallet SSCC names no lot; it resolves through the document's
// aggregation events (pallet → 3 cases → 12 units) to the lot the commissioning events' ILMD give.
describe.skipIf(!existsSync(corpusFile))('EPCIS corpus document with the demo DSCSA feed (joins)', () => {
  const m = loadMapping(join(process.cwd(), 'mappings/delta-cmo/epcis-dscsa.yaml'));

  it('accounts for every event: commissioning, packing and the shipping of the pallet, all of lot A123', async () => {
    expect(m.diagnostics).toEqual([]);
    const r = await dryRun(compileMapping(m.spec!, m.hash), m.spec!, corpusFile, { now: new Date('2023-04-02T00:00:00Z') });
    expect(r.errors).toEqual([]);
    expect(r.counts).toEqual({ rows: 8, applied: 8, rejected: 0, filtered: 0, records: 10, errors: 0 });
    expect(r.counts.rows).toBe(r.counts.applied + r.counts.rejected + r.counts.filtered);
    expect(r.joins).toEqual([{ name: 'lot', keys: 15, links: 15, unresolvedRows: 0 }]);
    const events = r.records.filter((x) => x.kind === 'stage_event').map((x) => [x.line, x.fields.stage, x.fields.lotNumber, x.fields.eventTime]);
    expect(events).toEqual([
      [108, 'packaging', 'A123', '2023-03-27T06:45:16.000Z'], // commissioning of 12 units (ILMD)
      [142, 'packaging', 'A123', '2023-03-27T06:46:16.000Z'], // commissioning of 3 cases (ILMD)
      [167, 'packaging', 'A123', '2023-03-27T06:50:16.000Z'], // 4 units into case .110
      [188, 'packaging', 'A123', '2023-03-27T06:51:16.000Z'],
      [209, 'packaging', 'A123', '2023-03-27T06:52:16.000Z'],
      [230, 'packaging', 'A123', '2023-04-01T06:47:16.000Z'], // the pallet SSCC commissioned: lot through its cases
      [247, 'packaging', 'A123', '2023-04-01T06:48:16.000Z'], // 3 cases onto the pallet
      [267, 'shipped', 'A123', '2023-04-01T07:48:16.000Z'], // shipping names only the SSCC
    ]);
    expect(r.records.filter((x) => x.kind === 'lot').map((x) => x.fields)).toEqual([
      { lotNumber: 'A123', expiryDate: '2025-03-27' },
      { lotNumber: 'A123', expiryDate: '2025-03-27' },
    ]);
  });

  it('without the aggregation events the shipping event cannot reach a lot: a coded error, not a silent drop', async () => {
    const { readFileSync, writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const text = readFileSync(corpusFile, 'utf8').replace(/<AggregationEvent>[\s\S]*?<\/AggregationEvent>/g, '');
    const file = join(mkdtempSync(join(tmpdir(), 'epcis-')), 'GS1_no_aggregation.xml');
    writeFileSync(file, text);
    const r = await dryRun(compileMapping(m.spec!, m.hash), m.spec!, file, { now: new Date('2023-04-02T00:00:00Z') });
    expect(r.counts).toMatchObject({ rows: 4, applied: 2, rejected: 2, filtered: 0 });
    const lines = text.split('\n');
    const eventLines = lines.map((l, i) => (l.includes('<ObjectEvent>') ? i + 1 : 0)).filter((n) => n > 0);
    // The 3rd and 4th ObjectEvents: the SSCC commissioning and the shipping.
    expect(r.errors.map((e) => [e.code, e.line])).toEqual([['E_JOIN_UNRESOLVED', eventLines[2]], ['E_JOIN_UNRESOLVED', eventLines[3]]]);
    expect(r.errors[1].message).toContain('urn:epc:id:sscc:030001.41234567890');
  });
});
