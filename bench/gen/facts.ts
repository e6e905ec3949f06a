// Generated partner files that give every lot a realistic history for the readiness sweep:
// the CMOs' stage events (progress depends on how close the planned receipt is), CoAs, batch
// records and label approvals, a few deviations, and the lab's release tests (a few out of
// specification). Formats are the bench's own simple CSV feeds (mappings below) plus Bravo's
// real LIMS format.

import path from 'node:path';
import { Rng } from '../lib/rng.js';
import { LineWriter } from '../lib/line-writer.js';
import type { MappingDef } from '../lib/workspace.js';
import { isoMinute, workingTime } from './dates.js';
import type { GenLot, MasterData } from './erp.js';
import { LIMS_HEADER, limsRow, TESTS } from './lims.js';

const STAGES: { name: string; dueDaysBeforeReceipt: number; label: string }[] = [
  { name: 'compounding', dueDaysBeforeReceipt: 28, label: 'Compounding' },
  { name: 'filling', dueDaysBeforeReceipt: 21, label: 'Filling' },
  { name: 'packaging', dueDaysBeforeReceipt: 14, label: 'Packaging' },
  { name: 'testing', dueDaysBeforeReceipt: 7, label: 'QC Testing' },
  { name: 'qa_review', dueDaysBeforeReceipt: 3, label: 'QA Review' },
];

export function cmoMappings(partner: string): MappingDef[] {
  const tz = 'tz: Europe/Berlin';
  return [
    {
      partner,
      feed: 'stages',
      text: `partner: ${partner}
feed: stages
version: 1
description: bench — CMO batch progress export → stage events
format: csv
match: ["STAGES_*.csv"]
dialect: { delimiter: ",", encoding: utf-8, headerRow: 1 }
records:
  - emit: stage_event
    fields:
      batch: { from: "Batch", xref: cmo_batch, required: true }
      stage: { from: "Step", map: { Compounding: compounding, Filling: filling, Packaging: packaging, QC Testing: testing, QA Review: qa_review }, unmapped: error, required: true }
      status: { from: "Status", map: { Started: started, Completed: completed, On Hold: on_hold }, unmapped: error, required: true }
      eventTime: { from: "Time", type: datetime, format: "yyyy-MM-dd HH:mm", ${tz}, required: true }
      site: { from: "Site" }
`,
    },
    {
      partner,
      feed: 'documents',
      text: `partner: ${partner}
feed: documents
version: 1
description: bench — CMO document register → documents
format: csv
match: ["DOCS_*.csv"]
dialect: { delimiter: ",", encoding: utf-8, headerRow: 1 }
records:
  - emit: document
    fields:
      batch: { from: "Batch", xref: cmo_batch, required: true }
      type: { from: "Type", map: { CoA: coa, Batch Record: batch_record, Label Approval: label_approval }, unmapped: error, required: true }
      docId: { from: "Document", required: true }
      version: { from: "Version", type: integer, required: true }
      issuedAt: { from: "Issued", type: datetime, format: "yyyy-MM-dd HH:mm", ${tz} }
`,
    },
    {
      partner,
      feed: 'deviations',
      text: `partner: ${partner}
feed: deviations
version: 1
description: bench — CMO deviation log → deviations
format: csv
match: ["DEVIATIONS_*.csv"]
dialect: { delimiter: ",", encoding: utf-8, headerRow: 1 }
records:
  - emit: deviation
    fields:
      batch: { from: "Batch", xref: cmo_batch, required: true }
      partnerRef: { from: "Deviation", required: true }
      title: { from: "Title" }
      classification: { from: "Class", map: { Minor: minor, Major: major, Critical: critical }, unmapped: error, required: true }
      status: { from: "Status", map: { Open: open, Investigation: investigation, Closed: closed }, unmapped: error, required: true }
      openedAt: { from: "Opened", type: datetime, format: "yyyy-MM-dd HH:mm", ${tz}, required: true }
      closedAt: { from: "Closed", type: datetime, format: "yyyy-MM-dd HH:mm", ${tz} }
      capaRefs: { from: "CAPA", type: list, separator: ";" }
`,
    },
  ];
}

interface Writers {
  stages: LineWriter;
  docs: LineWriter;
  devs: LineWriter;
}

export interface FactFiles {
  /** Per partner, in the order to ingest. */
  byPartner: Map<string, string[]>;
  rows: number;
}

async function put(w: LineWriter, line: string): Promise<void> {
  const p = w.line(line);
  if (p) await p;
}

/** Writes the CMO and lab files for all lots of `md` into `dir`. */
export async function writeFactFiles(dir: string, md: MasterData, seed: number): Promise<FactFiles> {
  const r = new Rng(seed);
  const cmoIds = [...new Set(md.lots.map((l) => l.vendor))].sort();
  const files = new Map<string, string[]>();
  const writers = new Map<string, Writers>();
  for (const cmo of cmoIds) {
    const names = [`STAGES_${cmo}_20261120.csv`, `DOCS_${cmo}_20261120.csv`, `DEVIATIONS_${cmo}_20261120.csv`].map((n) => path.join(dir, n));
    files.set(cmo, names);
    const w = { stages: new LineWriter(names[0]), docs: new LineWriter(names[1]), devs: new LineWriter(names[2]) };
    await w.stages.line('Batch,Step,Status,Time,Site');
    await w.docs.line('Batch,Type,Document,Version,Issued');
    await w.devs.line('Batch,Deviation,Title,Class,Status,Opened,Closed,CAPA');
    writers.set(cmo, w);
  }
  const limsPath = path.join(dir, 'LIMS_EXPORT_20261120_0200.csv');
  files.set('bravo-lab', [limsPath]);
  const lims = new LineWriter(limsPath);
  await lims.line(LIMS_HEADER);
  let rows = 0;
  let sample = 0;
  let deviation = 0;

  for (const lot of md.lots) {
    const w = writers.get(lot.vendor)!;
    const site = lot.vendor === 'acme-cmo' ? 'Loerrach' : 'Durham NC';
    // Day each stage completes, relative to the anchor; lots that slip are late.
    const slip = r.chance(0.1) ? r.int(3, 12) : r.int(-4, 2);
    let reached = -1;
    for (const [k, st] of STAGES.entries()) {
      const done = lot.plannedDay - st.dueDaysBeforeReceipt + slip;
      const start = done - r.int(1, 3);
      if (start >= 0) break;
      await put(w.stages, `${lot.vendorBatch},${st.label},Started,${isoMinute(workingTime(start, r.int(0, 600)))},${site}`);
      rows++;
      if (done >= 0) break;
      const onHold = r.chance(0.01);
      await put(w.stages, `${lot.vendorBatch},${st.label},${onHold ? 'On Hold' : 'Completed'},${isoMinute(workingTime(done, r.int(0, 600)))},${site}`);
      rows++;
      if (onHold) break;
      reached = k;
    }
    if (reached >= 2) rows += await labTests(lims, r, lot, ++sample, lot.plannedDay - 9 + slip);
    if (reached >= 3) {
      await put(w.docs, `${lot.vendorBatch},CoA,COA_${lot.vendorBatch},1,${isoMinute(workingTime(lot.plannedDay - 4 + slip, r.int(0, 600)))}`);
      rows++;
      if (lot.material.family === 'sterile-injectable') {
        await put(w.docs, `${lot.vendorBatch},Batch Record,BR_${lot.vendorBatch},1,${isoMinute(workingTime(lot.plannedDay - 5 + slip, r.int(0, 600)))}`);
        rows++;
        if (r.chance(0.8)) {
          await put(w.docs, `${lot.vendorBatch},Label Approval,LA_${lot.vendorBatch},1,${isoMinute(workingTime(lot.plannedDay - 6 + slip, r.int(0, 600)))}`);
          rows++;
        }
      }
    }
    if (reached >= 0 && r.chance(0.04)) {
      const opened = lot.plannedDay - 25 + r.int(0, 10);
      const closed = r.chance(0.6) && opened + 7 < 0 ? isoMinute(workingTime(opened + 7, r.int(0, 600))) : '';
      const cls = r.chance(0.8) ? 'Minor' : r.chance(0.9) ? 'Major' : 'Critical';
      await put(w.devs, `${lot.vendorBatch},DEV-26-${String(++deviation).padStart(5, '0')},Environmental excursion in room ${r.int(100, 199)},${cls},${closed ? 'Closed' : 'Investigation'},${isoMinute(workingTime(Math.min(opened, -1), r.int(0, 600)))},${closed},${closed ? `CAPA-26-${deviation}` : ''}`);
      rows++;
    }
  }
  for (const w of writers.values()) {
    await w.stages.close();
    await w.docs.close();
    await w.devs.close();
  }
  await lims.close();
  return { byPartner: files, rows };
}

async function labTests(lims: LineWriter, r: Rng, lot: GenLot, sample: number, day: number): Promise<number> {
  const sampleId = `R26-${String(sample).padStart(7, '0')}`;
  const tests =
    lot.material.family === 'sterile-injectable'
      ? [TESTS.assay, { ...TESTS.endo, code: 'ENDOTOXIN' }, { ...TESTS.steril, code: 'STERILITY' }]
      : [TESTS.assay, TESTS.disso, TESTS.water, TESTS.imp];
  for (const t of tests) {
    // About 2% of results fall outside the specification.
    const def = r.chance(0.02) && t.code === 'ASSAY-HPLC' ? { ...t, result: (x: Rng) => x.real(90, 94.5).toFixed(1) } : t;
    await put(lims, limsRow(r, sampleId, lot.lotNumber, def, Math.min(day, -1), r.chance(0.97) ? 'Final' : 'Prelim'));
  }
  return tests.length;
}
