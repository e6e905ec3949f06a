// A file handed to lotgate as `lotgate ingest` does: written to disk, registered in the ledger
// (archive copy included), then applied by processSubmission.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { processSubmission } from '../../../pipeline/ingest/process-submission.js';
import { registerFile } from '../../../pipeline/intake/register-file.js';
import type { Lotgate } from '../../../pipeline/lotgate.js';

/** Registers `text` as partner's file `name` (written into `dir`); returns the submission id. */
export async function registerText(lg: Lotgate, dir: string, partner: string, name: string, text: string, source: 'cli' | 'replay' = 'cli'): Promise<number> {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return registerFile(lg, { partner, path: file, name, source, removeSource: false });
}

/** Registers and applies it; the test fails unless the file ends `applied`. */
export async function ingestText(lg: Lotgate, dir: string, partner: string, name: string, text: string): Promise<number> {
  const id = await registerText(lg, dir, partner, name, text);
  expect((await processSubmission(lg, id)).state).toBe('applied');
  return id;
}
