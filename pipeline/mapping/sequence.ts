// `sequence: true` (test_result.replicate): repeated measurements of one test in one file are
// numbered 1, 2, 3 … in file order, so they become replicates instead of overwriting each other
// (W_SUPERSEDED_IN_FILE). The count is per file and per key: the record's lot reference, test,
// sample and time — the fact key without the replicate. Memory grows with the distinct keys of
// one file (a few dozen bytes each), never beyond that file.

import type { MappedRecord } from '../model/types.js';

const KEY_FIELDS = ['lotNumber', 'materialId', 'poNumber', 'poItem', 'testCode', 'sampleId', 'testedAt'] as const;

export function sequenceKey(rec: MappedRecord): string {
  const parts: string[] = [rec.kind];
  for (const id of [...rec.ids].sort((a, b) => (a.scheme + a.value < b.scheme + b.value ? -1 : 1))) parts.push(`${id.scheme}=${id.value}`);
  for (const k of KEY_FIELDS) {
    const v = rec.fields[k];
    parts.push(v === undefined || v === null ? '' : String(v));
  }
  return JSON.stringify(parts);
}

/** Per-file counters; `next` returns 1 for a key's first record, then 2, 3 … */
export class SequenceCounter {
  private readonly seen = new Map<string, number>();

  next(rec: MappedRecord): number {
    const key = sequenceKey(rec);
    const n = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, n);
    return n;
  }

  clear(): void {
    this.seen.clear();
  }
}
