// The `lotgate` command as a user runs it (compiled CLI in a child process), checked against the
// contracts later work relies on: lot/lots/mapping test --json shapes, the acknowledgment,
// replay without duplicated facts, audit verify catching tampering, partner onboarding.

import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/store/store.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/lotgate.js');
let work: string;

function lotgate(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, '--config', path.join(work, 'config.yaml'), ...args], {
    cwd: work,
    input,
    encoding: 'utf8',
    env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function json(args: string[]) {
  const r = lotgate([...args, '--json']);
  expect(r.err).toBe('');
  return JSON.parse(r.out);
}

function fixtures(partner: string): string[] {
  const dir = path.join(work, 'fixtures', partner);
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.expected.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'lotgate-cli-'));
  for (const d of ['partners', 'mappings', 'fixtures']) cpSync(path.join(root, d), path.join(work, d), { recursive: true });
  copyFileSync(path.join(root, 'config.yaml'), path.join(work, 'config.yaml'));
  const erp = fixtures('erp');
  const order = ['MATERIALS', 'PO', 'BATCHES'].map((k) => erp.find((f) => path.basename(f).includes(`_${k}_`))!);
  expect(lotgate(['ingest', '--partner', 'erp', ...order]).code).toBe(0);
  for (const p of ['acme-cmo', 'bravo-lab', 'delta-cmo']) expect(lotgate(['ingest', '--partner', p, ...fixtures(p)]).code).toBe(0);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lotgate CLI', () => {
  it('lots --json: every lot with lotNumber and readiness {state, late, reasons}', () => {
    const lots = json(['lots']);
    const states = new Map(lots.map((l: any) => [l.lotNumber, l.readiness.state]));
    expect(states.get('NW26-0411')).toBe('READY');
    expect(new Set(states.values())).toEqual(new Set(['READY', 'BLOCKED', 'CONDITIONAL', 'NOT_READY']));
    for (const l of lots) {
      expect(typeof l.readiness.late).toBe('boolean');
      expect(Array.isArray(l.readiness.reasons)).toBe(true);
    }
    expect(json(['lots', '--readiness', 'blocked']).map((l: any) => l.lotNumber).sort()).toEqual(['NW26-0415', 'NW26-0421']);
  });

  it('lot --json: lotNumber, materialId, identifiers, stages, readiness with coded reasons', () => {
    const lot = json(['lot', 'NW26-0415']);
    expect(lot.lotNumber).toBe('NW26-0415');
    expect(lot.materialId).toBe('000000000010012346'); // zero padding kept
    expect(lot.identifiers.some((i: any) => i.scheme === 'cmo_batch' && i.issuer === 'acme-cmo')).toBe(true);
    expect(lot.stages.length).toBeGreaterThan(0);
    expect(lot.readiness.state).toBe('BLOCKED');
    const reason = lot.readiness.reasons.find((r: any) => r.code === 'R_DEVIATION_OPEN_MAJOR');
    expect(reason.message).toMatch(/NW26-0415|deviation/i);
    expect(lot.tests.every((t: any) => ['pass', 'fail', 'unknown'].includes(t.evaluation))).toBe(true);
  });

  it('lot: unknown lot is a clear error with a non-zero exit', () => {
    const r = lotgate(['lot', 'NOPE-1']);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/no lot "NOPE-1"/);
  });

  it('mapping test --json: records, errors with line/field/code/message, counts', () => {
    const r = lotgate(['mapping', 'test', 'bravo-lab', path.join(work, 'fixtures/bravo-lab/LIMS_EXPORT_20261118_0200.csv'), '--json']);
    const out = JSON.parse(r.out);
    expect(out.counts).toMatchObject({ rows: 19, errors: 1 });
    expect(out.records.length).toBe(out.counts.records);
    expect(out.errors[0]).toMatchObject({ line: 14, field: 'testedAt', code: 'E_BAD_DATE' });
    expect(r.code).toBe(1); // row errors → non-zero, for scripts
  });

  it('mapping test --mapping: a draft outside mappings/ is checked, compiled and run; its partner must be the one named', () => {
    const shape = (f: string) => path.join(work, 'fixtures/shapes', f);
    const r = lotgate(['mapping', 'test', 'bravo-lab', shape('aas-report.csv'), '--mapping', shape('aas-report.yaml'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.mapping).toMatchObject({ name: 'bravo-lab/aas-report', path: shape('aas-report.yaml') });
    expect(out.counts).toMatchObject({ rows: 3, applied: 3, rejected: 0 });
    const other = lotgate(['mapping', 'test', 'acme-cmo', shape('aas-report.csv'), '--mapping', shape('aas-report.yaml')]);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/is for partner "bravo-lab", not "acme-cmo"/);
    writeFileSync(path.join(work, 'broken.yaml'), readFileSync(shape('aas-report.yaml'), 'utf8').replace('emit: lot', 'emit: lott'));
    const broken = lotgate(['mapping', 'test', 'bravo-lab', shape('aas-report.csv'), '--mapping', path.join(work, 'broken.yaml')]);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/broken\.yaml:\d+:\d+/);
  });

  it('submissions and submission: filtered and superseded counts, and rows always add up', () => {
    const subs = json(['submissions', '--limit', '100']);
    expect(subs.length).toBeGreaterThan(10);
    for (const s of subs) expect(s.rows, s.originalName).toBe(s.applied + s.rejected + s.filtered + s.superseded);
    const mes = subs.find((s: any) => s.originalName === 'DCM_MES_20261118T2305.xml');
    expect(mes).toMatchObject({ state: 'applied', rows: 19, applied: 17, filtered: 2, superseded: 0 });
    const table = lotgate(['submissions']).out;
    expect(table.split('\n')[0]).toMatch(/ROWS +APPLIED +REJECTED +FILTERED +SUPERSEDED/);
    expect(lotgate(['submission', String(mes.id)]).out).toMatch(/filtered +2/);
  });

  it('mapping test: counts add up and each filtered row says which condition removed it', () => {
    const file = path.join(work, 'fixtures/delta-cmo/DCM_MES_20261118T2305.xml');
    const human = lotgate(['mapping', 'test', 'delta-cmo', file]);
    expect(human.out).toContain('rows 19: applied 17, rejected 0, filtered 2');
    expect(human.out).toMatch(/filtered 1 row\(s\): .*stage: code "DISP" is not in the map \(unmapped: skip\)/);
    expect(human.out).toMatch(/ 2 × records\[0\] lot: when \[ClientMaterial present\] not met/);
    const json = JSON.parse(lotgate(['mapping', 'test', 'delta-cmo', file, '--json']).out);
    expect(json.counts.rows).toBe(json.counts.applied + json.counts.rejected + json.counts.filtered);
    expect(json.filteredBy).toHaveLength(2);
    expect(json.filteredBy.reduce((n: number, f: { rows: number }) => n + f.rows, 0)).toBe(json.counts.filtered);
  });

  it('a named column missing from the header: mapping check (via the sample) and mapping test (human, --json) say E_MISSING_COLUMN', () => {
    const file = path.join(work, 'mappings/bravo-lab/lims-results.yaml');
    const orig = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, orig.replace('analyst: { from: "Analyst" }', 'analyst: { from: "Analyst X" }'));
      const line = orig.split('\n').findIndex((l) => l.includes('analyst: { from: "Analyst" }')) + 1;
      const check = lotgate(['mapping', 'check', 'bravo-lab']);
      expect(check.code).toBe(1);
      expect(check.out).toMatch(new RegExp(`lims-results\\.yaml:${line}:\\d+: error E_MISSING_COLUMN: with sample fixtures/bravo-lab/LIMS_EXPORT_20261118_0200\\.csv: no column for field 'analyst' \\(tried "Analyst X"; did you mean "Analyst"\\?\\)`));
      const checkJson = JSON.parse(lotgate(['mapping', 'check', 'bravo-lab', '--json']).out);
      expect(checkJson.diagnostics).toEqual([expect.objectContaining({ code: 'E_MISSING_COLUMN', line, severity: 'error' })]);
      const sample = path.join(work, 'fixtures/bravo-lab/LIMS_EXPORT_20261118_0200.csv');
      const t = lotgate(['mapping', 'test', 'bravo-lab', sample]);
      expect(t.code).toBe(1);
      expect(t.out).toContain('E_MISSING_COLUMN');
      const tj = JSON.parse(lotgate(['mapping', 'test', 'bravo-lab', sample, '--json']).out);
      expect(tj.errors).toEqual([expect.objectContaining({ code: 'E_MISSING_COLUMN', field: 'analyst', line: 1 })]);
    } finally {
      writeFileSync(file, orig);
    }
  });

  it('mapping check: all shipped mappings are valid; a broken one gives file:line:col', () => {
    expect(lotgate(['mapping', 'check']).code).toBe(0);
    const file = path.join(work, 'mappings/acme-cmo/batch-status.yaml');
    const orig = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, orig.replace('format: csv', 'format: csvv'));
      const r = lotgate(['mapping', 'check', 'acme-cmo']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/batch-status\.yaml:\d+:\d+: error/);
    } finally {
      writeFileSync(file, orig);
    }
  });

  it('acknowledgment file has the documented shape', () => {
    const ack = JSON.parse(readFileSync(path.join(work, 'data/drop/acme-cmo/outbound/Chargenstatus_20261119.csv.ack.json'), 'utf8'));
    expect(ack).toMatchObject({ file: 'Chargenstatus_20261119.csv', state: 'applied_with_errors', counts: { rows: 19, applied: 17, rejected: 2 } });
    expect(ack.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isNaN(Date.parse(ack.receivedAt))).toBe(false);
    expect(ack.errors.map((e: any) => e.code).sort()).toEqual(['E_UNKNOWN_LOT', 'E_UNMAPPED_CODE']);
    expect(existsSync(path.join(work, 'data/drop/acme-cmo/outbound/Chargenstatus_20261119.csv.ack.csv'))).toBe(true);
  });

  it('the same bytes again are a duplicate; replay re-applies without duplicating facts', () => {
    const file = path.join(work, 'fixtures/bravo-lab/LIMS_SUMMARY_20261118.csv');
    const before = json(['lot', 'NW26-0411']).tests.length;
    const dup = JSON.parse(lotgate(['ingest', '--partner', 'bravo-lab', file, '--json']).out)[0];
    expect(dup.state).toBe('duplicate');
    const subs = json(['submissions', '--partner', 'bravo-lab']);
    const original = subs.find((s: any) => s.originalName === 'LIMS_SUMMARY_20261118.csv' && s.state === 'applied');
    const replay = JSON.parse(lotgate(['replay', String(original.id), '--json']).out);
    expect(replay.state).toBe('applied');
    expect(json(['lot', 'NW26-0411']).tests.length).toBe(before);
  });

  it('ingest of a bad file: coded rejection, exit 3, nothing applied, original archived', () => {
    const bad = path.join(work, 'fixtures/bad/LIMS_EXPORT_unbalanced_quote.csv');
    const r = lotgate(['ingest', '--partner', 'bravo-lab', bad, '--json']);
    expect(r.code).toBe(3);
    const ack = JSON.parse(r.out)[0];
    expect(ack.state).toBe('rejected');
    expect(ack.errors[0].code).toBe('E_CSV_QUOTE');
    expect(ack.errors[0].line).toBeGreaterThan(0);
    const sub = json(['submission', String(ack.submissionId)]);
    expect(existsSync(sub.archivePath)).toBe(true);
  });

  it('audit verify passes, then detects a tampered event with a non-zero exit', async () => {
    expect(lotgate(['audit', 'verify']).code).toBe(0);
    // Through a connection of the test's own (on SQLite the file, under test:postgres its database).
    const store = await openStore(path.join(work, 'data/lotgate.db'));
    try {
      // The database refuses edits; an attacker with file (or owner) access drops the guard first.
      await expect(store.db.run("UPDATE audit_events SET actor = 'x' WHERE seq = 3")).rejects.toThrow(/append-only/);
      if (store.db.dialect === 'postgres') await store.db.exec('ALTER TABLE audit_events DISABLE TRIGGER USER');
      else for (const t of await store.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")) await store.db.exec(`DROP TRIGGER ${t.name}`);
      await store.db.run("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3");
    } finally {
      await store.close();
    }
    const r = lotgate(['audit', 'verify', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('partner add writes a validated partner file that start-up accepts', () => {
    const r = lotgate(['partner', 'add', 'echo-lab', '--name', 'Echo Lab', '--role', 'lab', '--key', path.join(work, 'fixtures/keys/erp.pub'), '--password'], 'correct-horse-battery\n');
    expect(r.code).toBe(0);
    const listed = json(['partner', 'list']).find((p: any) => p.id === 'echo-lab');
    expect(listed).toMatchObject({ role: 'lab', mode: 'review', sftp: { keys: 1, password: true } });
    expect(lotgate(['partner', 'add', 'echo-lab', '--name', 'x', '--role', 'lab', '--password'], 'correct-horse-battery\n').code).toBe(2);
    expect(lotgate(['partner', 'add', 'x-lab', '--name', 'x', '--role', 'lab', '--password'], 'short\n').err).toMatch(/at least 12/);
  });
});

