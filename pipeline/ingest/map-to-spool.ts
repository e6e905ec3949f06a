// Reads and maps a whole partner file, checking the file's limits, with no database and no
// write lock: the same code runs on the thread that applies the file (small files, into a
// bounded in-memory/temp-file spool) and on a mapping thread of its own (map-thread.ts, big
// files, into a spool file the writer reads while it grows). Mapped rows go to the sink in
// batches of `MAP_BATCH_UNITS`, in line order.

import { FileError, type MappedRecord, type RowError } from '../model/types.js';
import { mapFileBatches, type MapUnit } from '../mapping/map-file.js';
import type { CompiledMapping, CsvRowMapper } from '../mapping/compile.js';
import type { MappingSpec } from '../mapping/spec.js';
import { MAX_ACK_ERRORS_KEPT } from './acknowledge.js';
import { tooManyErrorsMessage, tooManyRowsMessage, type FileLimits } from './limits.js';
import { Spool } from './spool.js';

/** Mapped rows per batch (one spool item; one line of the spool file). */
export const MAP_BATCH_UNITS = 250;

/** One mapped row (or XML record / document) that produces records or errors. */
export type SpooledUnit = Pick<MapUnit, 'records' | 'errors' | 'line'>;

/** How mapping a file ended (the rows themselves went to the sink). */
export type MapEnd =
  /** notRows: XML elements the record path did not read (a note for the ack). */
  | { kind: 'mapped'; rows: number; filtered: number; notRows?: Map<string, number>; headerWarnings?: RowError[] }
  /** The file as a whole cannot be read. */
  | { kind: 'file_error'; error: FileError; rows: number; filtered: number }
  /** Beyond the file's limits: rejected as a whole with these first errors. */
  | { kind: 'over_limit'; code: 'E_TOO_MANY_ROWS' | 'E_TOO_MANY_ERRORS'; message: string; rows: number; filtered: number; sample: RowError[] };

export type MapOutcome = (Extract<MapEnd, { kind: 'mapped' }> & { spool: Spool<SpooledUnit[]> }) | Exclude<MapEnd, { kind: 'mapped' }>;

export interface MapSink {
  /** The header's partner-facing warnings (columns nothing reads), when a header is bound. */
  header(warnings: RowError[]): void;
  /** The next mapped rows, in line order. */
  batch(units: SpooledUnit[]): void;
}

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
  /** The byte stream being read (for progress by bytes). */
  onInput?: (input: { readonly bytesRead: number }) => void;
}

/** Maps the file into `sink`; a FileError becomes a `file_error` end, anything else is thrown. */
export async function mapUnits(job: MapJob, sink: MapSink): Promise<MapEnd> {
  const { spec, limits, partnerId } = job;
  let batch: SpooledUnit[] = [];
  let rows = 0;
  let filtered = 0;
  let rowsWithErrors = 0;
  const sample: RowError[] = [];
  let notRows: Map<string, number> | undefined;
  let headerWarnings: RowError[] | undefined;
  const onHeader = (m: CsvRowMapper): void => {
    headerWarnings = m.warnings.filter((w) => w.code === 'W_UNCLAIMED_COLUMN');
    sink.header(headerWarnings);
  };
  try {
    const hooks = { now: job.now, onXmlUnmatched: (m: Map<string, number>) => (notRows = m), onHeader, onInput: job.onInput };
    for await (const mappedBatch of mapFileBatches(job.compiled, spec, job.archivePath, job.originalName, hooks)) for (const unit of mappedBatch) {
      rows++;
      if (rows > limits.maxRows) {
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
          return { kind: 'over_limit', code: 'E_TOO_MANY_ERRORS', message: tooManyErrorsMessage(limits, partnerId, spec.feed, unit.line), rows, filtered, sample };
        }
      }
      for (const rec of unit.records) if (rec.kind === 'document') attachDocumentFile(rec, job.sha256, job.archivePath);
      batch.push({ records: unit.records, errors: unit.errors, line: unit.line });
      if (batch.length >= MAP_BATCH_UNITS) {
        sink.batch(batch);
        batch = [];
      }
      if (job.onProgress && rows % 50_000 === 0) job.onProgress(rows);
    }
    if (batch.length > 0) sink.batch(batch);
  } catch (err) {
    if (err instanceof FileError) return { kind: 'file_error', error: err, rows, filtered };
    throw err;
  }
  return { kind: 'mapped', rows, filtered, notRows, headerWarnings };
}

/** Maps the file into a bounded spool on this thread (small files, dry runs of the ingest). */
export async function mapToSpool(job: MapJob): Promise<MapOutcome> {
  const spool = new Spool<SpooledUnit[]>(job.spoolDir, job.spoolMemoryBytes);
  let end: MapEnd;
  try {
    end = await mapUnits(job, { header: () => {}, batch: (units) => spool.push(units) });
    if (end.kind === 'mapped') spool.finish();
  } catch (err) {
    spool.dispose();
    throw err;
  }
  if (end.kind !== 'mapped') {
    spool.dispose();
    return end;
  }
  return { ...end, spool };
}

function attachDocumentFile(rec: MappedRecord, sha256: string, storedPath: string): void {
  rec.fields.sha256 = sha256;
  rec.fields.storedPath = storedPath;
}
