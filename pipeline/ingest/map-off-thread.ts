// Maps a big file on a thread of its own (node:worker_threads), so that the thread that applies
// files — and holds the write lock while it does — never parses: the mapping thread reads the
// archived original, writes the mapped rows to a spool file in batches, and hands the spool over
// when the whole file is mapped. The writer then applies it exactly as a spool mapped in-thread.
//
// Memory: the mapping thread holds one batch (MAP_BATCH_UNITS rows) plus the reader's chunk; its
// heap is capped (`MAP_THREAD_LIMITS`). A thread that dies (out of memory on hostile input, a
// crash) rejects the file with E_PARSE_THREAD_FAILED; the process goes on.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { FileError, type RowError } from '../model/types.js';
import type { MappingSpec } from '../mapping/spec.js';
import type { ErrorCode } from '../codes.js';
import type { FileLimits } from './limits.js';
import type { MapJob, MapOutcome, SpooledUnit } from './map-to-spool.js';
import { Spool, type SpoolHandoff } from './spool.js';

/** Heap of one mapping thread: batches are small, so anything near this is a hostile file. */
export const MAP_THREAD_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 };

/** What the mapping thread is started with (structured clone: the spec, not the compiled mapping). */
export interface MapThreadData {
  spec: MappingSpec;
  hash: string;
  partnerId: string;
  archivePath: string;
  originalName: string;
  sha256: string;
  /** ISO instant: "now" for date plausibility, the same as the writer's. */
  now: string;
  limits: FileLimits;
  spoolDir: string;
}

export type MapThreadMessage<T> =
  | { kind: 'progress'; rows: number }
  | { kind: 'mapped'; spool: SpoolHandoff<T>; rows: number; filtered: number; notRows?: Map<string, number>; headerWarnings?: RowError[] }
  | { kind: 'file_error'; error: { code: ErrorCode; message: string; line?: number; column?: number; field?: string }; rows: number; filtered: number }
  | { kind: 'over_limit'; code: 'E_TOO_MANY_ROWS' | 'E_TOO_MANY_ERRORS'; message: string; rows: number; filtered: number; sample: RowError[] }
  /** An exception on the thread; `errno` for system errors (disk full, …), retried like any failed run. */
  | { kind: 'failed'; message: string; errno?: string };

export function mapThreadEntry(from: string = import.meta.url): URL {
  const here = new URL(from);
  const entry = here.pathname.endsWith('.ts') ? new URL('../../dist/pipeline/ingest/map-thread.js', here) : new URL('./map-thread.js', here);
  if (!existsSync(fileURLToPath(entry))) {
    throw new Error(`lotgate's mapping thread runs compiled JavaScript, and ${fileURLToPath(entry)} is missing: run \`npm run build\` in the lotgate folder first.`);
  }
  return entry;
}

export function mapOffThread(job: Omit<MapJob, 'compiled' | 'spoolMemoryBytes'> & { hash: string }): Promise<MapOutcome> {
  const data: MapThreadData = {
    spec: job.spec,
    hash: job.hash,
    partnerId: job.partnerId,
    archivePath: job.archivePath,
    originalName: job.originalName,
    sha256: job.sha256,
    now: job.now.toISOString(),
    limits: job.limits,
    spoolDir: job.spoolDir,
  };
  return new Promise<MapOutcome>((resolve, reject) => {
    let settled = false;
    const worker = new Worker(mapThreadEntry(), { workerData: data, resourceLimits: MAP_THREAD_LIMITS });
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
    };
    const crashed = (why: string): void =>
      done(() =>
        resolve({
          kind: 'file_error',
          error: new FileError('E_PARSE_THREAD_FAILED', `The file could not be read and mapped: ${why}. Nothing was applied.`),
          rows: 0,
          filtered: 0,
        }),
      );
    worker.on('message', (m: MapThreadMessage<SpooledUnit[]>) => {
      switch (m.kind) {
        case 'progress':
          job.onProgress?.(m.rows);
          return;
        case 'mapped': {
          if (settled) {
            Spool.adopt(job.spoolDir, m.spool).dispose();
            return;
          }
          const spool = Spool.adopt<SpooledUnit[]>(job.spoolDir, m.spool);
          return done(() => resolve({ kind: 'mapped', spool, rows: m.rows, filtered: m.filtered, notRows: m.notRows, headerWarnings: m.headerWarnings }));
        }
        case 'file_error':
          return done(() => resolve({ kind: 'file_error', error: new FileError(m.error.code, m.error.message, m.error.line, m.error.column, m.error.field), rows: m.rows, filtered: m.filtered }));
        case 'over_limit':
          return done(() => resolve(m));
        case 'failed':
          if (m.errno !== undefined) return done(() => reject(Object.assign(new Error(m.message), { code: m.errno })));
          return crashed(m.message);
      }
    });
    worker.on('error', (err) => crashed(String((err as Error)?.message ?? err)));
    worker.on('exit', (code) => crashed(`the mapping thread stopped (exit code ${code})`));
  });
}
