// Entry of the mapping thread (started by map-off-thread.ts for big files): compiles the
// selected mapping from its spec, reads the archived original and maps it with `mapUnits` into
// the stream file the writer reads (map-stream.ts). It opens no database and takes no lock.

import { workerData } from 'node:worker_threads';
import { compileMapping } from '../mapping/compile.js';
import { FileError } from '../model/types.js';
import { mapUnits } from './map-to-spool.js';
import { endLineOf, MapStreamWriter } from './map-stream.js';
import type { MapThreadData } from './map-off-thread.js';

const data = workerData as MapThreadData;
const out = new MapStreamWriter(data.streamFile, new Int32Array(data.counters));

try {
  const compiled = compileMapping(data.spec, data.hash);
  let input: { readonly bytesRead: number } | undefined;
  const end = await mapUnits(
    {
      spec: data.spec,
      compiled,
      partnerId: data.partnerId,
      archivePath: data.archivePath,
      originalName: data.originalName,
      sha256: data.sha256,
      now: new Date(data.now),
      limits: data.limits,
      spoolDir: '',
      spoolMemoryBytes: 0,
      onInput: (i) => (input = i),
    },
    {
      header: (w) => out.header(w),
      batch: (units) => {
        if (input !== undefined) out.progress(input.bytesRead);
        out.batch(units);
      },
    },
  );
  if (input !== undefined) out.progress(input.bytesRead);
  out.end(endLineOf(end));
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  out.end({ kind: 'failed', message: String(e?.message ?? err), errno: typeof e?.code === 'string' && !(err instanceof FileError) ? e.code : undefined });
}
