// The stream file between a mapping thread and the writer (pipeline/ingest/map-stream.ts): lines
// come back in order and unchanged, how mapping ended is read after the rows, and a writer whose
// mapping thread stops moving gives up with a coded error instead of waiting forever.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COUNTERS, MapStreamReader, MapStreamWriter } from '../../pipeline/ingest/map-stream.js';
import type { SpooledUnit } from '../../pipeline/ingest/map-to-spool.js';
import { FileError } from '../../pipeline/model/types.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stream(): { file: string; counters: Int32Array } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-map-stream-'));
  dirs.push(dir);
  return { file: path.join(dir, 'stream.bin'), counters: new Int32Array(new SharedArrayBuffer(COUNTERS * 4)) };
}

const unit = (line: number, extra: Record<string, unknown> = {}): SpooledUnit => ({
  line,
  errors: [],
  records: [{ kind: 'test_result', line, ids: [], fields: { lotNumber: 'L1', sampleId: `S-${line}`, testCode: 'ASSAY', resultValue: 90 + line / 10, ...extra } }],
});

describe('map stream', () => {
  it('gives back the header warnings, every unit in order and unchanged, then how mapping ended', () => {
    const { file, counters } = stream();
    const w = new MapStreamWriter(file, counters);
    const warnings = [{ code: 'W_UNCLAIMED_COLUMN' as const, message: 'Column X is not read.', line: 1 }];
    w.header(warnings);
    const sent = [unit(2), unit(3, { testedAt: new Date('2026-01-02T03:04:05Z'), odd: Number.NaN }), unit(4, { text: 'line\nbreak "quoted" ü' })];
    w.batch(sent.slice(0, 2));
    w.batch(sent.slice(2));
    w.end({ kind: 'mapped', rows: 3, filtered: 0, notRows: [['Trailer', 1]] });
    const r = new MapStreamReader(file, counters);
    expect(r.headerWarnings()).toEqual(warnings);
    expect([...r.units()]).toEqual(sent);
    expect(r.end()).toMatchObject({ kind: 'mapped', rows: 3, notRows: [['Trailer', 1]] });
    r.dispose();
  });

  it('gives up with E_PARSE_THREAD_FAILED when the mapping thread stops moving', () => {
    const { file, counters } = stream();
    const w = new MapStreamWriter(file, counters);
    w.batch([unit(2)]);
    // No end line, no progress: the thread died (e.g. out of memory) without a word.
    const r = new MapStreamReader(file, counters, 300);
    const got: SpooledUnit[] = [];
    let err: unknown;
    try {
      for (const u of r.units()) got.push(u);
    } catch (e) {
      err = e;
    }
    expect(got).toEqual([unit(2)]);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('E_PARSE_THREAD_FAILED');
    r.dispose();
  });
});
