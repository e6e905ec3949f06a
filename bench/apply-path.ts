// Micro-benchmark of the apply path alone (no parsing, no mapping, no readiness): N pre-mapped
// LIMS test results, with one new lims_sample identifier learned per 10 rows, applied through
// store.apply.applyRecord in one transaction — once with a savepoint per record (the old way), once
// without where a record cannot half-fail. Prints wall and CPU seconds of each.
//
//   node dist/bench/apply-path.js [rows=200000] [lots=25000]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MappedRecord, PartnerConfig } from '../pipeline/model/types.js';
import { openStore } from '../pipeline/store/store.js';

const rows = Number(process.argv[2] ?? 200_000);
const lots = Number(process.argv[3] ?? 25_000);
const LAB: PartnerConfig = { id: 'bravo-lab', name: 'bravo-lab', role: 'lab', mode: 'live', sites: [], products: [], feeds: [] };
const TESTS = ['ASSAY', 'DISSO', 'CU', 'WATER', 'IMP-A', 'IMP-B', 'IMP-TOT', 'MICRO-TAMC', 'MICRO-TYMC', 'ID-IR'];

function records(): MappedRecord[] {
  const out: MappedRecord[] = [];
  let seed = 20261120;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; out.length < rows; i++) {
    const lot = `NW26-${String(Math.floor(rand() * lots)).padStart(6, '0')}`;
    const sample = `S-${i}`;
    for (const t of TESTS) {
      if (out.length >= rows) break;
      out.push({
        kind: 'test_result',
        line: out.length + 2,
        ids: [{ scheme: 'lims_sample', value: sample }],
        fields: { lotNumber: lot, sampleId: sample, testCode: t, testName: t, resultRaw: '99.6', resultValue: 99.6, unit: '%', specLow: 95, specHigh: 105, resultStatus: 'final', testedAt: '2026-11-19T14:00:00.000Z', analyst: 'ann' },
      });
    }
  }
  return out;
}

async function run(mode: 'always' | 'when-needed', recs: MappedRecord[]): Promise<{ wall: number; cpu: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotgate-apply-'));
  try {
    const store = await openStore(path.join(dir, 'lotgate.db'));
    const erp = { submissionId: null, partner: 'erp' };
    await store.transaction(async (tx) => {
      await tx.masterdata.upsertMaterial({ materialId: 'M1', description: 'Tablet', productFamily: 'oral-solid' }, erp);
      for (let i = 0; i < lots; i++) await tx.masterdata.upsertLot('M1', `NW26-${String(i).padStart(6, '0')}`, { vendor: 'acme-cmo' }, erp);
    });
    const sub = await store.ledger.insertSubmission({ partner: 'bravo-lab', originalName: 'lims.csv', size: 1, sha256: 'a'.repeat(64), source: 'cli', archivePath: '/x', receivedAt: new Date().toISOString() });
    const prov = { submissionId: sub, partner: 'bravo-lab', mappingHash: 'h'.repeat(64) };
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await store.transaction(async (tx) => {
      for (const r of recs) {
        const res = await tx.apply.applyRecord(LAB, r, { ...prov, line: r.line }, { savepoint: mode });
        if ('error' in res) throw new Error(JSON.stringify(res.error));
      }
    });
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    await store.close();
    return { wall, cpu: (c.user + c.system) / 1e6 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const recs = records();
for (const mode of ['always', 'when-needed', 'always', 'when-needed'] as const) {
  const r = await run(mode, recs);
  console.log(`${mode.padEnd(11)} ${rows} rows: wall ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s`);
}
