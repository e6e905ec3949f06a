// Maps a big file on a thread of its own (node:worker_threads) while the writer applies it:
// the mapping thread reads the archived original and appends the mapped rows, in batches, to a
// stream file (map-stream.ts); the writer reads them in line order inside the file's one
// transaction. The writer takes the write lock only once the mapping is far enough ahead that
// it would finish before the writer catches up (estimated from the bytes read so far and the
// writer's measured rows per second), so the lock is held about as long as applying the rows
// takes — not for the parse — while parsing and applying still overlap.
//
// Memory: the mapping thread holds one batch (MAP_BATCH_UNITS rows) plus the reader's chunk;
// its heap is capped (`MAP_THREAD_LIMITS`). A thread that dies (out of memory on hostile input,
// a crash) rejects the file with E_PARSE_THREAD_FAILED; the process goes on.

import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { FileError, type RowError } from '../model/types.js';
import type { MappingSpec } from '../mapping/spec.js';
import type { FileLimits } from './limits.js';
import type { MapEnd, MapJob, SpooledUnit } from './map-to-spool.js';
import { COUNTERS, DONE, KIB_READ, LINES, MapStreamReader, OUTCOME, ROWS, type EndLine } from './map-stream.js';

/** Heap of one mapping thread: it holds one batch at a time, so anything near this is a hostile file. */
export const MAP_THREAD_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 };

/** How often the writer looks at the mapping thread's progress before it takes the lock. */
const POLL_MS = 20;

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
  /** The stream file the thread appends to, and the shared counters (map-stream.ts). */
  streamFile: string;
  counters: SharedArrayBuffer;
}

/** The rows of a file being mapped, for the writer (all reads are synchronous). */
export interface MappedRows {
  headerWarnings: RowError[] | undefined;
  units(): Iterable<SpooledUnit>;
  /** After units(): how mapping ended (a thread failure is a FileError E_PARSE_THREAD_FAILED). */
  end(): MapEnd;
  /** Milliseconds the writer spent waiting for the mapping thread. */
  waitedMs(): number;
  /** CPU milliseconds the mapping thread used (known once it ended; Linux only). */
  mapCpuMs?(): number | undefined;
  dispose(): void;
}

// The writer's apply rate, measured on the files it applied (rows per second, moving average).
let applyRowsPerSecond = 30_000;

/** Records how fast the writer applied a streamed file (time waiting for the mapping excluded). */
export function noteApplyRate(rows: number, busyMs: number): void {
  if (rows < 10_000 || busyMs <= 0) return;
  applyRowsPerSecond = 0.5 * applyRowsPerSecond + 0.5 * (rows / (busyMs / 1000));
}

export function mapThreadEntry(from: string = import.meta.url): URL {
  const here = new URL(from);
  const entry = here.pathname.endsWith('.ts') ? new URL('../../dist/pipeline/ingest/map-thread.js', here) : new URL('./map-thread.js', here);
  if (!existsSync(fileURLToPath(entry))) {
    throw new Error(`lotgate's mapping thread runs compiled JavaScript, and ${fileURLToPath(entry)} is missing: run \`npm run build\` in the lotgate folder first.`);
  }
  return entry;
}

function threadFailed(why: string): FileError {
  return new FileError('E_PARSE_THREAD_FAILED', `The file could not be read and mapped: ${why}. Nothing was applied.`);
}

function mapEndOf(e: EndLine): MapEnd {
  switch (e.kind) {
    case 'mapped':
      return { kind: 'mapped', rows: e.rows, filtered: e.filtered, notRows: e.notRows ? new Map(e.notRows) : undefined, headerWarnings: e.headerWarnings };
    case 'file_error':
      return { kind: 'file_error', error: new FileError(e.error.code, e.error.message, e.error.line, e.error.column, e.error.field), rows: e.rows, filtered: e.filtered };
    case 'over_limit':
      return e;
    case 'failed':
      // A system error (disk full, …) is retried like any failed run; anything else is the file's.
      if (e.errno !== undefined) throw Object.assign(new Error(e.message), { code: e.errno });
      throw threadFailed(e.message);
  }
}

/**
 * Starts mapping `job` on its own thread and resolves once the writer should start applying:
 * `stream` (rows readable in order, possibly still being mapped), or how mapping ended when it
 * ended without rows to apply (a file error, beyond limits, a failed thread).
 */
export async function mapOffThread(
  job: Omit<MapJob, 'compiled' | 'spoolMemoryBytes' | 'onInput'> & { hash: string; size: number },
): Promise<{ kind: 'stream'; rows: MappedRows } | Exclude<MapEnd, { kind: 'mapped' }>> {
  mkdirSync(job.spoolDir, { recursive: true });
  // Named like a spool, so removeStaleSpools() removes it after a crash of the process.
  const streamFile = path.join(job.spoolDir, `spool-${process.pid}-${randomBytes(6).toString('hex')}.bin`);
  const shared = new SharedArrayBuffer(COUNTERS * 4);
  const counters = new Int32Array(shared);
  const data: MapThreadData = {
    spec: job.spec,
    hash: job.hash,
    partnerId: job.partnerId,
    archivePath: job.archivePath,
    originalName: job.originalName,
    sha256: job.sha256,
    now: job.now.toISOString(),
    limits: job.limits,
    streamFile,
    counters: shared,
  };
  let failure: string | undefined;
  const started = performance.now();
  const worker = new Worker(mapThreadEntry(), { workerData: data, resourceLimits: MAP_THREAD_LIMITS });
  worker.on('error', (err) => (failure ??= String((err as Error)?.message ?? err)));
  worker.on('exit', (code) => (failure ??= `the mapping thread stopped (exit code ${code})`));
  worker.unref();

  let reader: MapStreamReader | undefined;
  const dispose = (): void => {
    void worker.terminate();
    reader?.dispose();
    reader = undefined;
  };
  try {
    let lastProgress = 0;
    for (;;) {
      const done = Atomics.load(counters, DONE) === 1;
      const mapped = Atomics.load(counters, ROWS);
      // Progress while the lock is not taken yet (every 50,000 rows, as the in-thread path).
      while (job.onProgress && mapped - lastProgress >= 50_000) {
        lastProgress += 50_000;
        job.onProgress(lastProgress);
      }
      if (!done && failure !== undefined) {
        dispose();
        return { kind: 'file_error', error: threadFailed(failure), rows: 0, filtered: 0 };
      }
      if (done || (Atomics.load(counters, LINES) > 0 && job.spec.sections === undefined && aheadEnough(counters, job.size, performance.now() - started))) {
        reader ??= new MapStreamReader(streamFile, counters);
        if (done && Atomics.load(counters, OUTCOME) !== 1) {
          const line = reader.end();
          dispose();
          try {
            return mapEndOf(line) as Exclude<MapEnd, { kind: 'mapped' }>;
          } catch (err) {
            if (err instanceof FileError) return { kind: 'file_error', error: err, rows: 0, filtered: 0 };
            throw err;
          }
        }
        const r = reader;
        const rows: MappedRows = {
          headerWarnings: r.headerWarnings(),
          units: () => r.units(),
          end: () => mapEndOf(r.end()),
          waitedMs: () => r.waitedMs,
          mapCpuMs: () => {
            const e = r.end();
            return e.kind === 'mapped' ? e.threadCpuMs : undefined;
          },
          dispose,
        };
        return { kind: 'stream', rows };
      }
      await sleep(POLL_MS);
    }
  } catch (err) {
    dispose();
    throw err;
  }
}

/**
 * Whether the mapping thread is far enough ahead: what is left to map (from the share of the
 * file read so far and the time it took) takes no longer than applying the whole file would.
 */
function aheadEnough(counters: Int32Array, size: number, elapsedMs: number): boolean {
  if (size <= 0) return false;
  const share = Math.min(1, (Atomics.load(counters, KIB_READ) * 1024) / size);
  if (share < 0.01) return false;
  const mapLeftMs = (elapsedMs * (1 - share)) / share;
  const applyAllMs = (Atomics.load(counters, ROWS) / share / applyRowsPerSecond) * 1000;
  return mapLeftMs <= applyAllMs;
}

/** The writer's current apply-rate estimate (rows per second): shown by tests and the bench. */
export function applyRateEstimate(): number {
  return applyRowsPerSecond;
}
