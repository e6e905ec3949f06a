// COPY … FROM STDIN: rows streamed in PostgreSQL's text format into a table on the connection
// of the caller's transaction. One COPY replaces tens of thousands of INSERT round trips: the
// facts area's bulk path fills its staging tables with it (areas/facts-bulk.ts), and
// `lotgate store copy` every table (store/copy/copy-store.ts).

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export type CopyValue = string | number | null;

/** A value COPY text cannot carry (thrown while formatting, before the server sees the row). */
export class CopyValueError extends Error {}

/**
 * One value in COPY text format: \N is NULL; backslash, tab (the delimiter), newline and
 * carriage return are escaped with a backslash; everything else, unicode included, goes as is.
 */
export function copyText(v: CopyValue): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new CopyValueError(`COPY: not a finite number: ${v}`);
    return String(v);
  }
  if (v.includes('\0')) throw new CopyValueError('a text value holds a NUL character, which PostgreSQL text cannot store');
  return v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** The rows as COPY text, a few hundred lines per chunk (the stream's unit of back-pressure). */
function* copyChunks(rows: Iterable<readonly CopyValue[]>, linesPerChunk = 500): Generator<string> {
  let chunk = '';
  let n = 0;
  for (const row of rows) {
    chunk += row.map(copyText).join('\t') + '\n';
    if (++n === linesPerChunk) {
      yield chunk;
      chunk = '';
      n = 0;
    }
  }
  if (chunk) yield chunk;
}

/** COPY the rows into table(columns); resolves once the server has taken them all. */
export async function copyRows(client: pg.PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from(copyChunks(rows)), stream);
}
