// Every row accounted for: each fixture file (good and bad) and the third-party corpus files a
// demo feed accepts go through the real ingest path, and for every acknowledgment, its CSV twin
// and the ledger row: rows = applied + rejected + filtered + superseded. An acknowledgment
// never says "All rows were applied" while rows were filtered out or superseded.

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { loadConfig } from '../../pipeline/config/config.js';
import type { ProcessResult } from '../../pipeline/ingest/process-submission.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import type { AckCounts } from '../../pipeline/model/types.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'fixtures');
const corpusDir = process.env.LOTGATE_CORPUS ?? path.resolve(root, '../shared/corpus');
const NOW = new Date('2026-11-20T12:00:00Z');
const ERP_FILES = ['ZMM_MATERIALS_20261120.csv', 'ZMM_PO_20261120.csv', 'ZMM_BATCHES_20261120.csv'];

let dir: string;
let lg: Lotgate;
const results: { name: string; r: ProcessResult }[] = [];

function copyIn(from: string, name: string, as = name): string {
  const to = path.join(dir, 'uploads', String(results.length));
  mkdirSync(to, { recursive: true });
  copyFileSync(path.join(from, name), path.join(to, as));
  return path.join(to, as);
}

async function ingest(partner: string, file: string): Promise<void> {
  const [r] = await ingestFiles(lg, partner, [file]);
  results.push({ name: `${partner}/${path.basename(file)}`, r });
}

function addsUp(c: AckCounts): boolean {
  return c.rows === c.applied + c.rejected + c.filtered + c.superseded;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-accounting-'));
  const config = loadConfig({ configPath: path.join(root, 'config.yaml'), dataDir: dir, env: {} });
  lg = await createLotgate({ ...config, dropDir: path.join(dir, 'drop') }, { now: () => NOW, log: pino({ level: 'silent' }) });
  for (const f of ERP_FILES) await ingest('erp', copyIn(path.join(fixtures, 'erp'), f));
  for (const partnerId of ['acme-cmo', 'bravo-lab', 'delta-cmo']) {
    const partner = lg.partners().get(partnerId)!;
    for (const from of [path.join(fixtures, partnerId), path.join(fixtures, 'bad')]) {
      for (const name of readdirSync(from).sort()) {
        if (lg.mappings.select(partner, name) === undefined) continue;
        await ingest(partnerId, copyIn(from, name));
      }
    }
  }
  const epcis = path.join(corpusDir, 'epcis');
  if (existsSync(epcis)) {
    for (const name of readdirSync(epcis).filter((n) => n.endsWith('.xml'))) await ingest('delta-cmo', copyIn(epcis, name, `epcis_${name}`));
  }
}, 120_000);

afterAll(async () => {
  await lg?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('row accounting over every fixture and corpus file', () => {
  it('ingested the fixtures', () => {
    expect(results.length).toBeGreaterThan(15);
  });

  it('ack counts, ack CSV and the ledger row add up and agree', async () => {
    for (const { name, r } of results) {
      const c = r.ack.counts;
      expect(Object.keys(c).sort(), name).toEqual(['applied', 'filtered', 'rejected', 'rows', 'superseded']);
      expect(addsUp(c), `${name}: ${JSON.stringify(c)}`).toBe(true);
      const sub = (await lg.store.ledger.getSubmission(r.submissionId))!;
      expect({ rows: sub.rows, applied: sub.applied, rejected: sub.rejected, filtered: sub.filtered, superseded: sub.superseded }, name).toEqual(c);
      // The .ack.csv is in the partner's dialect (its feed's delimiter; ';' + BOM where configured).
      const csv = readFileSync(r.ackPath.replace(/\.json$/, '.csv'), 'utf8').replace(/^\uFEFF/, '').split('\r\n');
      const delimiter = [';', '\t', '|', ','].find((d) => csv[0].includes(d))!;
      const head = csv[0].split(delimiter);
      const row = csv[1].split(delimiter);
      for (const k of ['rows', 'applied', 'rejected', 'filtered', 'superseded'] as const) expect(Number(row[head.indexOf(k)]), `${name} csv ${k}`).toBe(c[k]);
    }
  });

  it('never says "All rows were applied" when rows were filtered or superseded', () => {
    let seen = 0;
    for (const { name, r } of results) {
      const c = r.ack.counts;
      if (c.filtered + c.superseded === 0) continue;
      seen++;
      expect(r.ack.message, name).not.toMatch(/all rows/i);
      if (r.ack.state === 'applied') expect(r.ack.message, name).toContain(`${c.filtered} row(s) were filtered out`);
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('DCM_MES: the two MES operations the mapping skips are counted as filtered', () => {
    const mes = results.find((x) => x.name === 'delta-cmo/DCM_MES_20261118T2305.xml')!.r;
    expect(mes.ack.counts).toMatchObject({ rows: 19, filtered: 2 });
    expect(mes.ack.state).toBe('applied');
    expect(mes.ack.message).toMatch(/^17 of 19 row\(s\) were applied; 2 row\(s\) were filtered out by the mapping/);
  });

  it.skipIf(!existsSync(path.join(corpusDir, 'epcis')))('GS1 EPCIS corpus: ObjectEvents without a lot are counted as filtered', () => {
    const epcis = results.filter((x) => x.name.startsWith('delta-cmo/epcis_'));
    expect(epcis.length).toBeGreaterThan(0);
    for (const { r } of epcis) {
      expect(r.ack.counts.rows).toBe(4);
      expect(r.ack.counts.filtered).toBe(2);
      // The packing events beside the ObjectEvents are not rows of this feed: the ack says so.
      expect(r.ack.message).toContain('Not rows for this feed, and not read: 4 <AggregationEvent> beside the records.');
    }
  });
});
