// Reads and maps a whole partner file into a bounded spool, checking the file's limits, with no
// database and no write lock: the same code runs on the thread that applies the file (small
// files) and on a mapping thread of its own (map-thread.ts, for big files). The mapped rows are
// spooled in batches of `MAP_BATCH_UNITS`, in line order; the writer reads them back under its
// lock (process-submission.ts `applySpool`).

import { FileError, type MappedRecord, type RowError } from '../model/types.js';
import { mapFile, type MapUnit } from '../mapping/map-file.js';
import type { CompiledMapping, CsvRowMapper } from '../mapping/compile.js';
import type { MappingSpec } from '../mapping/spec.js';
import { MAX_ACK_ERRORS_KEPT } from './acknowledge.js';
import { tooManyErrorsMessage, tooManyRowsMessage, type FileLimits } from './limits.js';
import { Spool } from './spool.js';

/** Mapped rows per spooled batch (one spool item; one JSON line once spilled). */
export const MAP_BATCH_UNITS = 2000;

/** One mapped row (or XML record / document) that produces records or errors. */
export type SpooledUnit = Pick<MapUnit, 'records' | 'errors' | 'line'>;

export type MapOutcome =
  /** notRows: XML elements the record path did not read (a note for the ack). */
  | { kind: 'mapped'; spool: Spool<SpooledUnit[]>; rows: number; filtered: number; notRows?: Map<string, number>; headerWarnings?: RowError[] }
  /** The file as a whole cannot be read. */
  | { kind: 'file_error'; error: FileError; rows: number; filtered: number }
  /** Beyond the file's limits: rejected as a whole with these first errors. */
  | { kind: 'over_limit'; code: 'E_TOO_MANY_ROWS' | 'E_TOO_MANY_ERRORS'; message: string; rows: number; filtered: number; sample: RowError[] };

export interface MapJob {
  spec: MappingSpec;
  compiled: CompiledMapping;
  partnerId: string;
  /** The archived original (immutable). */
  archivePath: string;
  originalName: string;
  sha256: string;
  now: Date;
  limits: FileLimits;
  spoolDir: string;
  spoolMemoryBytes: number;
  onProgress?: (rows: number) => void;
}

export async function mapToSpool(job: MapJob): Promise<MapOutcome> {
  const { spec, limits, partnerId } = job;
  const spool = new Spool<SpooledUnit[]>(job.spoolDir, job.spoolMemoryBytes);
  let batch: SpooledUnit[] = [];
  let rows = 0;
  let filtered = 0;
  let rowsWithErrors = 0;
  const sample: RowError[] = [];
  let notRows: Map<string, number> | undefined;
  // Header findings the partner should see (columns nothing reads); the others are the analyst's.
  let headerWarnings: RowError[] | undefined;
  const onHeader = (m: CsvRowMapper): void => {
    headerWarnings = m.warnings.filter((w) => w.code === 'W_UNCLAIMED_COLUMN');
  };
  try {
    for await (const unit of mapFile(job.compiled, spec, job.archivePath, job.originalName, { now: job.now, onXmlUnmatched: (m) => (notRows = m), onHeader })) {
      rows++;
      if (rows > limits.maxRows) {
        spool.dispose();
        return { kind: 'over_limit', code: 'E_TOO_MANY_ROWS', message: tooManyRowsMessage(limits, partnerId, spec.feed), rows: rows - 1, filtered, sample: [] };
      }
      if (unit.records.length === 0 && unit.errors.length === 0) {
        filtered++;
        continue;
      }
      if (unit.errors.length > 0) {
        rowsWithErrors++;
        for (const e of unit.errors) if (sample.length < MAX_ACK_ERRORS_KEPT) sample.push(e);
        if (rowsWithErrors > limits.maxErrors) {
          spool.dispose();
          return { kind: 'over_limit', code: 'E_TOO_MANY_ERRORS', message: tooManyErrorsMessage(limits, partnerId, spec.feed, unit.line), rows, filtered, sample };
        }
      }
      for (const rec of unit.records) if (rec.kind === 'document') attachDocumentFile(rec, job.sha256, job.archivePath);
      batch.push({ records: unit.records, errors: unit.errors, line: unit.line });
      if (batch.length >= MAP_BATCH_UNITS) {
        spool.push(batch);
        batch = [];
      }
      if (job.onProgress && rows % 50_000 === 0) job.onProgress(rows);
    }
    if (batch.length > 0) spool.push(batch);
    spool.finish();
  } catch (err) {
    spool.dispose();
    if (err instanceof FileError) return { kind: 'file_error', error: err, rows, filtered };
    throw err;
  }
  return { kind: 'mapped', spool, rows, filtered, notRows, headerWarnings };
}

function attachDocumentFile(rec: MappedRecord, sha256: string, storedPath: string): void {
  rec.fields.sha256 = sha256;
  rec.fields.storedPath = storedPath;
}
