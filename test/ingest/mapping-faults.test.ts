// Mapping faults at ingest are named as such: a named column missing from the header is
// E_MISSING_COLUMN (not a silently empty field), an XML record path or CSV header row that
// matches nothing is E_RECORD_PATH_NO_MATCH / E_HEADER_NOT_FOUND naming what the file has
// instead, never E_NO_ROWS blaming the partner.

import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { copyUp, root, world, type World } from './helpers.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const LIMS = path.join(root, 'fixtures/bravo-lab/LIMS_EXPORT_20261118_0200.csv');
const EPCIS = path.join(root, 'fixtures/delta-cmo/DCM_EPCIS_20261118.xml');

describe('mapping faults at ingest', () => {
  it('a typo in an optional column rejects the file with E_MISSING_COLUMN and a did-you-mean', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': (y) => y.replace('specHigh: { from: ["Spec High", "High Limit"]', 'specHigh: { from: ["Spec Hi"]') });
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [copyUp(w.dir, LIMS)]);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors[0]).toMatchObject({ code: 'E_MISSING_COLUMN', line: 1 });
    expect(r.ack.errors[0].message).toContain(`no column for field 'specHigh' (tried "Spec Hi"; did you mean "Spec High"?)`);
    expect(r.ack.counts).toEqual({ rows: 0, applied: 0, rejected: 0, filtered: 0, superseded: 0 });
  });

  it('an XML record path that matches nothing: E_RECORD_PATH_NO_MATCH with the elements that are there; the ack blames the mapping', async () => {
    w = await world({ 'delta-cmo/epcis.yaml': (y) => y.replace('record: "EPCISDocument/EPCISBody/EventList/ObjectEvent"', 'record: "EPCISDocument/EPCISBody/Events/ObjectEvent"') });
    const [r] = await ingestFiles(w.lg, 'delta-cmo', [copyUp(w.dir, EPCIS)]);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors.map((e) => e.code)).toEqual(['E_RECORD_PATH_NO_MATCH']);
    expect(r.ack.errors[0].message).toMatch(/"EPCISDocument\/EPCISBody" is there, but it holds no <Events>; it holds <EventList>/);
    expect(r.ack.message).toMatch(/the sponsor's mapping for this feed does not fit the file/);
    expect(r.ack.message).not.toMatch(/Correct the problem below and send the file again/);

    const feed = w.lg.mappings.select(w.lg.partners().get('delta-cmo')!, 'DCM_EPCIS_20261118.xml');
    if (!feed || !('spec' in feed)) throw new Error('no feed');
    const dry = await dryRun(feed.compiled, feed.spec, EPCIS);
    expect(dry.errors.map((e) => e.code)).toEqual(['E_RECORD_PATH_NO_MATCH']);
    expect(dry.errors[0].message).toContain('The document\'s top elements are <EPCISDocument> with <EPCISBody>');
  });

  it('a CSV header row that matches nothing (wrong headerRow): E_HEADER_NOT_FOUND, not E_NO_ROWS or a list of missing columns', async () => {
    w = await world({ 'bravo-lab/lims-results.yaml': (y) => y.replace('headerRow: 1', 'headerRow: 2') });
    const [r] = await ingestFiles(w.lg, 'bravo-lab', [copyUp(w.dir, LIMS)]);
    expect(r.state).toBe('rejected');
    expect(r.ack.errors[0]).toMatchObject({ code: 'E_HEADER_NOT_FOUND', line: 2 });
    expect(r.ack.errors[0].message).toContain('dialect.headerRow is 2: is the header on that line?');
    expect(r.ack.message).toMatch(/mapping for this feed does not fit/);
  });
});
