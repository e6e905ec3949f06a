// Provenance of a fact: which file of which partner said it, when, through which mapping, at
// which line — and the raw line itself, read back from the content-addressed archive.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Access, Store } from '../store/store.js';

export interface Provenance {
  lotId: number;
  submissionId: number;
  partner: string;
  originalName: string;
  sha256: string;
  size: number;
  receivedAt: string;
  source: string;
  mappingName: string | null;
  mappingHash: string | null;
  line: number | null;
  /** The source line as it arrived (text files); null when not available (no line, binary or gone). */
  rawRow: string | null;
  rawRowNote: string | null;
}

const MAX_LINE = 64 * 1024;

/** Reads line `line` (1-based) of a text file; stops early, never loads the whole file. */
export async function readLine(file: string, line: number): Promise<{ text: string | null; note: string | null }> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of rl) {
      n++;
      if (n === line) {
        const t = n === 1 ? text.replace(/^\uFEFF/, '') : text;
        return t.length > MAX_LINE ? { text: t.slice(0, MAX_LINE), note: `line longer than ${MAX_LINE} characters; cut` } : { text: t, note: null };
      }
    }
    return { text: null, note: `the file has ${n} line(s)` };
  } catch (err) {
    return { text: null, note: `archived file not readable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  } finally {
    rl.close();
    stream.destroy();
  }
}

/**
 * Provenance of the fact written by submission `submissionId` (at `line`) about lot `lotId`.
 * Undefined unless the lot is within `access` and that submission really wrote a fact about it
 * at that line — so it can neither confirm another lot nor reveal an unrelated file.
 */
export async function factProvenance(store: Store, access: Access, lotId: number, submissionId: number, line?: number): Promise<Provenance | undefined> {
  if ((await store.reads.lotIdInScope(access, lotId)) === undefined) return undefined;
  if (!(await store.reads.submissionTouchedLot(lotId, submissionId, line))) return undefined;
  const s = await store.ledger.getSubmission(submissionId);
  if (!s) return undefined;
  const raw = line ? await readLine(s.archivePath, line) : { text: null, note: 'no line given' };
  return {
    lotId,
    submissionId: s.id,
    partner: s.partner,
    originalName: s.originalName,
    sha256: s.sha256,
    size: s.size,
    receivedAt: s.receivedAt,
    source: s.source,
    mappingName: s.mappingName,
    mappingHash: s.mappingHash,
    line: line ?? null,
    rawRow: raw.text,
    rawRowNote: raw.note,
  };
}
