// End to end through ingest: a mainframe fixed-width lot extract (fixtures/shapes/fixed-width) as
// the ERP's lot feed, an EPCIS shipment whose pallet resolves to its lots through the document's
// aggregation events (fixtures/shapes/epcis-shipment) and delta-cmo's DSCSA feed on its sample.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { copyUp, root, shapeAsFeed, uploadBytes, world, type World } from './helpers.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const asFeed = shapeAsFeed;

const upload = uploadBytes;

describe('fixed-width text through lotgate ingest', () => {
  it('a mainframe lot extract: the good lines applied, the short and the shifted line rejected with their line and column', async () => {
    w = await world({ 'erp/lots.yaml': asFeed('fixtures/shapes/fixed-width.yaml', 'erp', 'lots', 'NWPX0420_*.txt') });
    const file = upload(w.dir, 'fixtures/shapes/fixed-width.txt', 'NWPX0420_20261120.txt');
    const [r] = await ingestFiles(w.lg, 'erp', [file]);
    expect(r.state).toBe('applied_with_errors');
    expect(r.ack.counts).toMatchObject({ rows: 5, applied: 3, rejected: 2, filtered: 0 });
    expect(r.ack.errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['E_FIXED_SHORT_LINE', 8, 31],
      ['E_FIXED_LONG_LINE', 9, 71],
    ]);
  });

  it('a trailer whose record count does not match rejects the whole file', async () => {
    w = await world({ 'erp/lots.yaml': asFeed('fixtures/shapes/fixed-width.yaml', 'erp', 'lots', 'NWPX0420_*.txt') });
    const file = upload(w.dir, 'fixtures/shapes/fixed-width.txt', 'NWPX0420_20261121.txt', (t) => Buffer.from(t.toString('latin1').replace('TRL0000005', 'TRL0000006'), 'latin1'));
    const [r] = await ingestFiles(w.lg, 'erp', [file]);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors.map((e) => e.code)).toEqual(['E_FIXED_TRAILER_COUNT']);
  });
});

describe('EPCIS through lotgate ingest', () => {
  it('the shipping event of a pallet reaches the lots packed on it; the unknown pallet is a coded error', async () => {
    w = await world({ 'delta-cmo/epcis-dscsa.yaml': asFeed('fixtures/shapes/epcis-shipment.yaml', 'delta-cmo', 'epcis-dscsa', 'GS1_*.xml') });
    const file = upload(w.dir, 'fixtures/shapes/epcis-shipment.xml', 'GS1_SHIP_20261119.xml', (t) =>
      t.toString('utf8').replaceAll('L-2601', 'NW26-0421').replaceAll('L-2602', 'NW26-0424').replace('2028-01-31', '2029-08-31').replace('2028-02-29', '2029-09-30'),
    );
    const [r] = await ingestFiles(w.lg, 'delta-cmo', [file]);
    expect(r.ack.counts).toMatchObject({ rows: 8, applied: 6, rejected: 1, filtered: 1 });
    expect(r.ack.errors.map((e) => [e.code, e.line])).toEqual([['E_JOIN_UNRESOLVED', 106]]);
    expect(r.state).toBe('applied_with_errors');
  });

  it("delta-cmo's DSCSA feed: every event of its document applied to lot NW26-0424", async () => {
    w = await world();
    const file = copyUp(w.dir, path.join(root, 'fixtures/epcis/GS1_DCM_DSCSA_20261118.xml'));
    const [r] = await ingestFiles(w.lg, 'delta-cmo', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 5, applied: 5, rejected: 0, filtered: 0 });
  });
});

const corpusFile = path.join(process.env.LOTGATE_CORPUS ?? path.resolve(root, '../shared/corpus'), 'epcis/GS1_US_Pharma_Example_2_2_1_1.xml');

describe.skipIf(!existsSync(corpusFile))('the GS1 corpus EPCIS document through lotgate ingest', () => {
  it('every one of its 8 events applied to the lot (its lot A123 renamed to a lot the ERP knows)', async () => {
    w = await world();
    const file = upload(w.dir, path.relative(root, corpusFile), 'GS1_US_Pharma_Example_2_2_1_1.xml', (t) => t.toString('utf8').replaceAll('>A123<', '>NW26-0424<').replaceAll('2025-03-27', '2029-09-30'));
    const [r] = await ingestFiles(w.lg, 'delta-cmo', [file]);
    expect(r.ack.errors).toEqual([]);
    expect(r.state).toBe('applied');
    expect(r.ack.counts).toMatchObject({ rows: 8, applied: 8, rejected: 0, filtered: 0 });
    // The shipping event named only the pallet SSCC: it is stored on the lot.
    const found = await w.lg.store.masterdata.resolveLot(w.lg.partners().get('delta-cmo')!, { ids: [], lotNumber: 'NW26-0424' });
    expect('lotId' in found).toBe(true);
    const stages = (await w.lg.store.readiness.loadLotFacts((found as { lotId: number }).lotId)).stageEvents.filter((e) => e.eventTime.startsWith('2023'));
    expect(stages.map((e) => [e.stage, e.eventTime.slice(0, 16)])).toContainEqual(['shipped', '2023-04-01T07:48']);
    expect(stages.filter((e) => e.stage === 'packaging')).toHaveLength(7);
  });
});
