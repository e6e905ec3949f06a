// `lotgate mapping suggest` as the analyst runs it: a draft written with --out (never over an
// existing file without --force), then `mapping check` and `mapping test` on the same sample.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/lotgate.js');
let work: string;

function lotgate(args: string[]) {
  const r = spawnSync(process.execPath, [bin, '--config', path.join(work, 'config.yaml'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'lotgate-suggest-cli-'));
  for (const d of ['partners', 'mappings', 'fixtures']) cpSync(path.join(root, d), path.join(work, d), { recursive: true });
  writeFileSync(path.join(work, 'config.yaml'), readFileSync(path.join(root, 'config.yaml'), 'utf8'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lotgate mapping suggest', () => {
  it('drafts a mapping that mapping test runs on the same sample; --out refuses to overwrite without --force', () => {
    const sample = path.join(work, 'fixtures/bravo-lab/LIMS_EXPORT_20261118_0200.csv');
    const out = path.join(work, 'mappings/bravo-lab/lims-results.yaml');
    const refused = lotgate(['mapping', 'suggest', sample, '--partner', 'bravo-lab', '--feed', 'lims-results', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('E_SUGGEST_EXISTS');
    const written = lotgate(['mapping', 'suggest', sample, '--partner', 'bravo-lab', '--feed', 'lims-results', '--out', out, '--force']);
    expect(written.err).toBe('');
    expect(written.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('emit: test_result');
    const check = lotgate(['mapping', 'check', 'bravo-lab']);
    expect(check.out).not.toMatch(/lims-results\.yaml:\d+:\d+: error/);
    const test = JSON.parse(lotgate(['mapping', 'test', 'bravo-lab', sample, '--json']).out);
    expect(test.counts).toMatchObject({ rows: 19, applied: 19, rejected: 0 });
  });

  it('--json gives the detection report; a workbook sample too', () => {
    const r = lotgate(['mapping', 'suggest', path.join(work, 'fixtures/shapes/cmo-workbook.xlsx'), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ format: 'xlsx', headerRows: 2, headerRow: { value: 4 }, record: { kind: 'stage_event' }, diagnostics: [] });
    expect(report.yaml).toContain('xlsx: { sheet: 1, headerRows: 2 }');
  });

  it('a file with no table: a coded error and exit 3', () => {
    const note = path.join(work, 'note.txt');
    writeFileSync(note, 'Dear lab,\nplease find attached\n');
    const r = lotgate(['mapping', 'suggest', note]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('E_SUGGEST_UNREADABLE');
  });
});
