// Entry of the mapping thread (started by map-off-thread.ts for big files): compiles the
// selected mapping from its spec, reads the archived original, maps it into a spool file with
// `mapToSpool` and hands the spool to the writer. It opens no database and takes no lock.

import { parentPort, workerData } from 'node:worker_threads';
import { compileMapping } from '../mapping/compile.js';
import { FileError } from '../model/types.js';
import { mapToSpool, type SpooledUnit } from './map-to-spool.js';
import type { MapThreadData, MapThreadMessage } from './map-off-thread.js';

const data = workerData as MapThreadData;
const post = (m: MapThreadMessage<SpooledUnit[]>): void => parentPort!.postMessage(m);

try {
  const compiled = compileMapping(data.spec, data.hash);
  const out = await mapToSpool({
    spec: data.spec,
    compiled,
    partnerId: data.partnerId,
    archivePath: data.archivePath,
    originalName: data.originalName,
    sha256: data.sha256,
    now: new Date(data.now),
    limits: data.limits,
    spoolDir: data.spoolDir,
    // Everything goes to the spool file: the writer reads it back batch by batch.
    spoolMemoryBytes: 0,
    onProgress: (rows) => post({ kind: 'progress', rows }),
  });
  if (out.kind === 'mapped') {
    post({ kind: 'mapped', spool: out.spool.detach(), rows: out.rows, filtered: out.filtered, notRows: out.notRows, headerWarnings: out.headerWarnings });
  } else if (out.kind === 'file_error') {
    const e = out.error;
    post({ kind: 'file_error', error: { code: e.code, message: e.message, line: e.line, column: e.column, field: e.field }, rows: out.rows, filtered: out.filtered });
  } else {
    post(out);
  }
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  post({ kind: 'failed', message: String(e?.message ?? err), errno: typeof e?.code === 'string' && !(err instanceof FileError) ? e.code : undefined });
}
