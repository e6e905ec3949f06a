// Big files are parsed and mapped on a thread of their own (pipeline/ingest/map-off-thread.ts)
// and applied from the spool it hands over. The outcome must be the one of the in-thread path,
// row for row: the same state, counts, coded errors, warnings and stored facts. A mapping thread
// that fails rejects the file with a coded error; the process goes on.
// (Runs the compiled thread entry: `npx tsc -p tsconfig.json` first.)

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { applyRateEstimate, mapOffThread, noteApplyRate } from '../../pipeline/ingest/map-off-thread.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import type { MappingSpec } from '../../pipeline/mapping/spec.js';
import { testLog } from '../runtime/helpers/log.js';
import { lotsCsv, makeWorld, MATERIAL, type World } from '../runtime/helpers/world.js';

const worlds: { w: World; lg: Lotgate }[] = [];
afterEach(async () => {
  for (const { w, lg } of worlds.splice(0)) {
    await lg.close();
    w.cleanup();
  }
});

async function world(configExtra: string): Promise<{ w: World; lg: Lotgate; submit: (name: string, content: string) => Promise<number> }> {
  const w = makeWorld();
  writeFileSync(w.configPath, readFileSync(w.configPath, 'utf8') + configExtra);
  const lg = await createLotgate(loadConfig({ configPath: w.configPath, env: {} }), { log: testLog() });
  worlds.push({ w, lg });
  const submit = async (name: string, content: string): Promise<number> => {
    const file = path.join(w.dir, `in-${name}`);
    writeFileSync(file, content);
    return registerFile(lg, { partner: name.startsWith('LOTS') ? 'erp' : 'lab-a', path: file, name, source: 'cli', removeSource: false });
  };
  expect((await processSubmission(lg, await submit('LOTS_1.csv', lotsCsv(['L1', 'L2'])))).state).toBe('applied');
  return { w, lg, submit };
}

/** A results file with good rows, bad numbers, unknown lots and in-file overwrites, over several batches. */
function mixedResults(rows: number): string {
  const out = ['Lot,Material,Sample,Test,Value'];
  for (let i = 1; i <= rows; i++) {
    const lot = i % 97 === 0 ? 'NOPE' : i % 2 ? 'L1' : 'L2';
    const value = i % 89 === 0 ? 'n/a' : (90 + (i % 20) / 2).toFixed(1);
    // Every 50th row repeats the sample of the row before: a later row overwrites it (W_SUPERSEDED_IN_FILE).
    const sample = i % 50 === 0 ? `S-${i - 2}` : `S-${i}`;
    out.push(`${lot},${MATERIAL},${sample},ASSAY,${value}`);
  }
  return out.join('\n') + '\n';
}

async function outcome(configExtra: string, name: string, content: string) {
  const { lg, submit } = await world(configExtra);
  const r = await processSubmission(lg, await submit(name, content));
  const sub = (await lg.store.ledger.getSubmission(r.submissionId))!;
  // Read through the store's own connection: the same on SQLite and PostgreSQL.
  const rejected = await lg.store.db.all('SELECT line, code, message FROM rejected_rows WHERE submission_id = ? ORDER BY id', [r.submissionId]);
  const tests = await lg.store.db.all('SELECT test_code, sample_id, result_value, line FROM test_results ORDER BY sample_id, line');
  return { state: r.state, counts: [sub.rows, sub.applied, sub.rejected, sub.filtered, sub.superseded], errors: r.ack.errors, rejected, tests };
}

describe('mapping on a thread of its own', () => {
  it('gives the same submission, errors, warnings and facts as mapping in-thread', async () => {
    const file = mixedResults(5_500);
    const inThread = await outcome('', 'RESULTS_mixed.csv', file);
    const offThread = await outcome('ingest: { parseThreadMinBytes: 0 }\n', 'RESULTS_mixed.csv', file);
    expect(inThread.state).toBe('applied_with_errors');
    expect(inThread.rejected.some((r) => (r as { code: string }).code === 'W_SUPERSEDED_IN_FILE')).toBe(true);
    expect(offThread).toEqual(inThread);
    // A writer that believes it is very slow starts at the first line and reads the rows while
    // they are being mapped (waiting on the mapping thread): still the same outcome.
    for (let i = 0; i < 40; i++) noteApplyRate(10_000, 1e9);
    expect(applyRateEstimate()).toBeLessThan(1);
    const streamed = await outcome('ingest: { parseThreadMinBytes: 0 }\n', 'RESULTS_mixed.csv', file);
    expect(streamed).toEqual(inThread);
    const lateQuote = mixedResults(8_000) + 'L1,x,"S-unclosed,ASSAY,1\n';
    expect(await outcome('ingest: { parseThreadMinBytes: 0 }\n', 'RESULTS_quote.csv', lateQuote)).toEqual(await outcome('', 'RESULTS_quote.csv', lateQuote));
    for (let i = 0; i < 40; i++) noteApplyRate(30_000, 1000);
  });

  it('rejects a file beyond its limits and a file without its columns the same way', async () => {
    const over = 'ingest: { limits: { maxErrors: 3 } }\n';
    const a = await outcome(over, 'RESULTS_over.csv', mixedResults(1_000));
    const b = await outcome(`ingest: { limits: { maxErrors: 3 }, parseThreadMinBytes: 0 }\n`, 'RESULTS_over.csv', mixedResults(1_000));
    expect(a.state).toBe('rejected');
    expect(b).toEqual(a);
    const noColumn = 'Lot,Material,Value\nL1,x,1\n';
    const c = await outcome('', 'RESULTS_cols.csv', noColumn);
    const d = await outcome('ingest: { parseThreadMinBytes: 0 }\n', 'RESULTS_cols.csv', noColumn);
    expect(c.errors[0].code).toBe('E_MISSING_COLUMN');
    expect(d).toEqual(c);
    // A file error far down the file, found after the writer may have started applying.
    const lateQuote = mixedResults(8_000) + 'L1,x,"S-unclosed,ASSAY,1\n';
    const e = await outcome('', 'RESULTS_quote.csv', lateQuote);
    const f = await outcome('ingest: { parseThreadMinBytes: 0 }\n', 'RESULTS_quote.csv', lateQuote);
    expect(e.errors[0].code).toBe('E_CSV_QUOTE');
    expect(f).toEqual(e);
  });

  it('rejects the file with E_PARSE_THREAD_FAILED when the mapping thread fails, and goes on', async () => {
    const { w } = await world('');
    const archive = path.join(w.dir, 'x.csv');
    writeFileSync(archive, 'a\n1\n');
    // A spec the thread cannot compile stands in for any failure inside the thread.
    const broken = { partner: 'lab-a', feed: 'results', format: 'csv', records: 42 } as unknown as MappingSpec;
    const out = await mapOffThread({ spec: broken, hash: 'x', size: 4, partnerId: 'lab-a', archivePath: archive, originalName: 'x.csv', sha256: 'x', now: new Date(), limits: { maxRows: 10, maxErrors: 10 }, spoolDir: path.join(w.dir, 'tmp') });
    expect(out.kind).toBe('file_error');
    if (out.kind === 'file_error') expect(out.error.code).toBe('E_PARSE_THREAD_FAILED');
    expect(readdirSync(path.join(w.dir, 'tmp'))).toEqual([]);
    // The process is still fine: a file after it maps on a thread again.
    const good = await outcome('ingest: { parseThreadMinBytes: 0 }\n', 'RESULTS_ok.csv', mixedResults(10));
    expect(good.state).toBe('applied');
  });
});
