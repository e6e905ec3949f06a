// Rows of one file that overwrite each other (issue 8 §1): the same sample and test twice in a
// lab export. Without a replicate field the earlier row is superseded — not counted applied,
// W_SUPERSEDED_IN_FILE names the line that is stored — and `applied` equals the results
// stored. With a replicate field in the mapping both measurements are kept.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';

const root = path.resolve(import.meta.dirname, '../..');
const NOW = new Date('2026-11-20T12:00:00Z');
const ERP_FILES = ['ZMM_MATERIALS_20261120.csv', 'ZMM_PO_20261120.csv', 'ZMM_BATCHES_20261120.csv'];

const HEADER = 'Sample ID,Lot Number,Mfr Batch,Test Code,Test Name,Method,Result,Units,Spec Low,Spec High,Status,Analyst,Tested On,Rep';
const ROWS = [
  'S-1,NW26-0411,AC-24117,ASSAY-HPLC,,,99.6,%,95.0,105.0,Final,,10/20/26 9:42 AM,1', // line 2
  'S-1,NW26-0411,AC-24117,KF-H2O,,,1.8,%,,3.0,Final,,10/19/26 2:10 PM,1', // line 3
  'S-1,NW26-0411,AC-24117,ASSAY-HPLC,,,98.9,%,95.0,105.0,Final,,10/20/26 9:42 AM,2', // line 4: same key as line 2
  'S-1,NW26-0411,AC-24117,KF-H2O,,,1.8,%,,3.0,Final,,10/19/26 2:10 PM,1', // line 5: line 3 again, identical
];

const dirs: string[] = [];
const open: Lotgate[] = [];
afterAll(async () => {
  for (const lg of open) await lg.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function world(editMapping?: (yaml: string) => string): Promise<{ lg: Lotgate; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-superseded-'));
  dirs.push(dir);
  const mappingsDir = path.join(dir, 'mappings');
  cpSync(path.join(root, 'mappings'), mappingsDir, { recursive: true });
  if (editMapping) {
    const file = path.join(mappingsDir, 'bravo-lab/lims-results.yaml');
    writeFileSync(file, editMapping(readFileSync(file, 'utf8')));
  }
  const config = loadConfig({ configPath: path.join(root, 'config.yaml'), dataDir: dir, env: {} });
  const lg = await createLotgate({ ...config, mappingsDir, dropDir: path.join(dir, 'drop') }, { now: () => NOW, log: pino({ level: 'silent' }) });
  open.push(lg);
  const up = path.join(dir, 'up');
  mkdirSync(up);
  for (const f of ERP_FILES) cpSync(path.join(root, 'fixtures/erp', f), path.join(up, f));
  await ingestFiles(lg, 'erp', ERP_FILES.map((f) => path.join(up, f)));
  return { lg, dir };
}

async function send(lg: Lotgate, dir: string) {
  const file = path.join(dir, 'up', 'LIMS_EXPORT_20261120_0200.csv');
  writeFileSync(file, [HEADER, ...ROWS].join('\n') + '\n');
  const [r] = await ingestFiles(lg, 'bravo-lab', [file]);
  // Read through the store's own connection: the same on SQLite and PostgreSQL.
  const db = lg.store.db;
  const stored = await db.get<{ n: number }>('SELECT count(*) AS n FROM test_results WHERE submission_id = ?', [r.submissionId]);
  return { r, stored: Number(stored!.n), db };
}

describe('rows that overwrite each other inside one file', () => {
  it('without a replicate field: the displaced rows are superseded, named, and applied equals what was stored', async () => {
    const { lg, dir } = await world();
    const { r, stored, db } = await send(lg, dir);
    expect(r.ack.counts).toEqual({ rows: 4, applied: 2, rejected: 0, filtered: 0, superseded: 2 });
    expect(stored).toBe(r.ack.counts.applied);
    expect(r.ack.state).toBe('applied');
    expect(r.ack.message).not.toMatch(/all rows/i);
    expect(r.ack.errors).toEqual([]);
    const warnings = (r.ack.warnings ?? []).filter((e) => e.code === 'W_SUPERSEDED_IN_FILE');
    expect(warnings.map((w) => w.line)).toEqual([2, 5]);
    expect(warnings[0].message).toMatch(/Line 2 was overwritten by line 4 of the same file/);
    expect(warnings[0].message).toContain('test_result ASSAY');
    expect(warnings[1].message).toMatch(/Line 5 is not stored: line 3 of the same file/);
    // The value stored is the later measurement's.
    const v = await db.get("SELECT result_value AS v, line FROM test_results WHERE submission_id = ? AND test_code = 'ASSAY'", [r.submissionId]);
    expect(v).toEqual({ v: 98.9, line: 4 });
  });

  it('with a replicate field in the mapping both measurements are kept', async () => {
    const { lg, dir } = await world((y) => y.replace('      analyst: { from: "Analyst" }', '      analyst: { from: "Analyst" }\n      replicate: { from: "Rep" }'));
    const { r, stored, db } = await send(lg, dir);
    // Line 5 repeats line 3 with the same replicate number: still one fact.
    expect(r.ack.counts).toEqual({ rows: 4, applied: 3, rejected: 0, filtered: 0, superseded: 1 });
    expect(stored).toBe(3);
    const assays = await db.all("SELECT replicate, result_value AS v FROM test_results WHERE submission_id = ? AND test_code = 'ASSAY' ORDER BY replicate", [r.submissionId]);
    expect(assays).toEqual([{ replicate: '1', v: 99.6 }, { replicate: '2', v: 98.9 }]);
  });
});
