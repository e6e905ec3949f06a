// The GS1 US pharma EPCIS example from ../shared/corpus (written outside this project) mapped
// with a mapping written for it: commissioning events name lot A123 in their ILMD.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { compile, specOf, yaml } from './helpers.js';

const corpusFile = join(process.cwd(), '..', 'shared', 'corpus', 'epcis', 'GS1_US_Pharma_Example_2_2_1_1.xml');

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
