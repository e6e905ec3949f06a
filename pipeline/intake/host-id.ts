// The id of this machine among those sharing one drop folder: 8 random hex digits kept in
// <dataDir>/host-id, made on first use. Each machine has a data dir of its own (docs/operations.md,
// "Several machines"), so the id is the machine's; processes sharing a data dir share it. The drop
// zone writes it into the names of its upload temp files, and the reconciler's start-up rule
// answers only temp files of its own machine (pipeline/intake/reconciler.ts).

import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HOST_ID_PATTERN } from './names.js';

export const HOST_ID_FILE = 'host-id';

const known = new Map<string, string>();

function readId(file: string): string | null {
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (HOST_ID_PATTERN.test(id)) return id;
    throw new Error(`${file} does not hold a host id (4 to 16 characters, 0-9 a-z); remove it and start again`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** This machine's host id (read from, or first written to, `<dataDir>/host-id`). */
export function localHostId(dataDir: string): string {
  const dir = path.resolve(dataDir);
  const cached = known.get(dir);
  if (cached) return cached;
  const file = path.join(dir, HOST_ID_FILE);
  let id = readId(file);
  if (!id) {
    mkdirSync(dir, { recursive: true });
    // Written whole under a name of our own, then linked into place: a process of the same data
    // dir starting at the same moment either wins or reads the winner's id, never a half file.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${randomBytes(4).toString('hex')}\n`);
    try {
      linkSync(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        // No hard links here: an exclusive create does the same, minus the half-file guarantee.
        try {
          writeFileSync(file, readFileSync(tmp), { flag: 'wx' });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
    } finally {
      rmSync(tmp, { force: true });
    }
    id = readId(file);
    if (!id) throw new Error(`${file} could not be created`);
  }
  known.set(dir, id);
  return id;
}
