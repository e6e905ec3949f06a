// EPCIS with joins at scale: a generated DSCSA document (units commissioned per lot, packed into
// cases and pallets, each pallet shipped by its SSCC only) mapped with delta-cmo's epcis-dscsa
// feed — two passes over the file, the join index bounded. Prints rows/s, CPU seconds beside wall
// time, and peak RSS. Not part of `npm run bench` (no reference tool to compare with).
//
//   npm run build && node dist/bench/epcis-join.js [pallets=2000]

import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { compileMapping } from '../pipeline/mapping/compile.js';
import { dryRun } from '../pipeline/mapping/dry-run.js';
import { loadMapping } from '../pipeline/mapping/load.js';

const CASES_PER_PALLET = 20;
const UNITS_PER_CASE = 12;

async function generate(file: string, pallets: number): Promise<number> {
  const out = createWriteStream(file);
  const w = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let events = 0;
  const ev = (body: string, kind = 'ObjectEvent') => {
    events++;
    return `<${kind}><eventTime>2026-11-18T10:00:00Z</eventTime>${body}<readPoint><id>urn:epc:id:sgln:0370001.00004.0</id></readPoint></${kind}>\n`;
  };
  await w('<?xml version="1.0" encoding="UTF-8"?>\n<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:cbvmda="urn:epcglobal:cbv:mda" schemaVersion="1.2"><EPCISBody><EventList>\n');
  for (let p = 0; p < pallets; p++) {
    const lot = `L${String(p % 97).padStart(4, '0')}`;
    const cases: string[] = [];
    for (let c = 0; c < CASES_PER_PALLET; c++) {
      const caseId = `urn:epc:id:sgtin:0370001.510309.${p * CASES_PER_PALLET + c}`;
      const units = Array.from({ length: UNITS_PER_CASE }, (_, u) => `urn:epc:id:sgtin:0370001.010309.${(p * CASES_PER_PALLET + c) * UNITS_PER_CASE + u}`);
      await w(ev(`<epcList>${units.map((u) => `<epc>${u}</epc>`).join('')}</epcList><action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep><extension><ilmd><cbvmda:lotNumber>${lot}</cbvmda:lotNumber><cbvmda:itemExpirationDate>2029-09-30</cbvmda:itemExpirationDate></ilmd></extension>`));
      await w(ev(`<parentID>${caseId}</parentID><childEPCs>${units.map((u) => `<epc>${u}</epc>`).join('')}</childEPCs><action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:packing</bizStep>`, 'AggregationEvent'));
      cases.push(caseId);
    }
    const sscc = `urn:epc:id:sscc:0370001.${String(p).padStart(10, '0')}`;
    await w(ev(`<parentID>${sscc}</parentID><childEPCs>${cases.map((c) => `<epc>${c}</epc>`).join('')}</childEPCs><action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:packing</bizStep>`, 'AggregationEvent'));
    await w(ev(`<epcList><epc>${sscc}</epc></epcList><action>OBSERVE</action><bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>`));
  }
  await w('</EventList></EPCISBody></epcis:EPCISDocument>\n');
  out.end();
  await once(out, 'finish');
  return events;
}

async function main(): Promise<void> {
  const pallets = Number.parseInt(process.argv[2] ?? '2000', 10);
  const dir = mkdtempSync(path.join(tmpdir(), 'epcis-join-'));
  const file = path.join(dir, 'GS1_BENCH.xml');
  try {
    const events = await generate(file, pallets);
    const m = loadMapping(path.resolve(import.meta.dirname, '../../mappings/delta-cmo/epcis-dscsa.yaml'));
    if (m.spec === undefined) throw new Error('mapping has errors');
    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await dryRun(compileMapping(m.spec, m.hash), m.spec, file, { limit: 0, errorLimit: 10, now: new Date('2026-11-20T00:00:00Z') });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    const mb = statSync(file).size / 1024 / 1024;
    console.log(JSON.stringify({ pallets, events, fileMB: +mb.toFixed(1), counts: r.counts, joins: r.joins, errors: r.errors.slice(0, 3) }));
    console.log(`${events} events (${mb.toFixed(1)} MB) in ${wall.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU-s: ${Math.round(events / wall)} events/s, peak RSS ${Math.round(peak / 1024 / 1024)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
