// `replicate: { sequence: true }`: repeated measurements numbered per file, across the file's
// sections, and never mixed between two files mapped at the same time.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../../pipeline/mapping/dry-run.js';
import { compile, specOf, yaml } from './helpers.js';

const now = new Date('2026-02-05T00:00:00Z');
const replicates = (r: Awaited<ReturnType<typeof dryRun>>) => r.records.map((x) => `${x.fields.testCode}#${x.fields.replicate}`);

describe('replicate sequence', () => {
  it('two files mapped at the same time with one compiled mapping each count from 1', async () => {
    const mapping = readFileSync('fixtures/shapes/lab-qualifiers.yaml', 'utf8');
    const compiled = compile(mapping);
    const spec = specOf(mapping);
    const file = 'fixtures/shapes/lab-qualifiers.csv';
    const [a, b] = await Promise.all([dryRun(compiled, spec, file, { now }), dryRun(compiled, spec, file, { now })]);
    expect(replicates(a).slice(0, 3)).toEqual(['ASSAY#1', 'ASSAY#2', 'ASSAY#3']);
    expect(replicates(b)).toEqual(replicates(a));
    // And again afterwards: a new file starts at 1.
    expect(replicates(await dryRun(compiled, spec, file, { now })).slice(0, 3)).toEqual(['ASSAY#1', 'ASSAY#2', 'ASSAY#3']);
  });

  it('counts across the sections of one file, per sample', async () => {
    const mapping = yaml`
      partner: acme
      feed: feed
      match: ["*.csv"]
      dialect: { delimiter: ";" }
      sections: { header: Test }
      records:
        - emit: test_result
          fields:
            lotNumber: { from: { block: "Lot" }, required: true }
            sampleId:  { from: { block: "Sample" } }
            testCode:  { from: Test }
            result:    { from: Result }
            replicate: { sequence: true }
    `;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seq-'));
    const file = path.join(dir, 'runs.csv');
    writeFileSync(file, ['Lot;L-1', 'Sample;S-1', 'Test;Result', 'PH;6.8', 'PH;6.9', '', 'Sample;S-2', 'Test;Result', 'PH;7.0', '', 'Sample;S-1', 'Test;Result', 'PH;6.7'].join('\n') + '\n');
    const r = await dryRun(compile(mapping), specOf(mapping), file, { now });
    expect(r.records.map((x) => `${x.fields.sampleId}:${x.fields.replicate}`)).toEqual(['S-1:1', 'S-1:2', 'S-2:1', 'S-1:3']);
  });
});

describe('replicate sequence and rejected rows', () => {
  it('a rejected row keeps its number, so a corrected resend numbers its rows alike', async () => {
    const mapping = yaml`
      partner: acme
      feed: feed
      match: ["*.csv"]
      records:
        - emit: test_result
          fields:
            lotNumber: { from: Lot, required: true }
            testCode:  { from: Test }
            result:    { from: Result }
            replicate: { sequence: true }
    `;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seq-'));
    const file = path.join(dir, 'r.csv');
    writeFileSync(file, 'Lot,Test,Result\nL-1,PH,6.8\nL-1,PH,6.x\nL-1,PH,7.0\n');
    const r = await dryRun(compile(mapping), specOf(mapping), file, { now });
    expect(r.records.map((x) => [x.line, x.fields.replicate])).toEqual([[2, '1'], [4, '3']]);
    expect(r.errors.map((e) => [e.code, e.line])).toEqual([['E_BAD_NUMBER', 3]]);
  });
});

describe('replicate sequence in XML files', () => {
  it('two XML files mapped at the same time with one compiled mapping each count from 1', async () => {
    const mapping = yaml`
      partner: acme
      feed: feed
      format: xml
      match: ["*.xml"]
      xml: { record: Results/Result }
      records:
        - emit: test_result
          fields:
            lotNumber: { from: Lot, required: true }
            testCode:  { from: Test }
            result:    { from: Value }
            replicate: { sequence: true }
    `;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seq-'));
    const file = path.join(dir, 'r.xml');
    const result = (v: string) => `<Result><Lot>L-1</Lot><Test>PH</Test><Value>${v}</Value></Result>`;
    // Large enough that the two files' records interleave between reads.
    writeFileSync(file, `<Results>${Array.from({ length: 3000 }, (_, i) => result(`6.${i % 10}`)).join('\n')}</Results>\n`);
    const compiled = compile(mapping);
    const spec = specOf(mapping);
    const [a, b] = await Promise.all([dryRun(compiled, spec, file, { now }), dryRun(compiled, spec, file, { now })]);
    const numbers = (r: Awaited<ReturnType<typeof dryRun>>) => r.records.map((x) => Number(x.fields.replicate));
    expect(numbers(a)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(numbers(b)).toEqual(numbers(a));
  });
});
