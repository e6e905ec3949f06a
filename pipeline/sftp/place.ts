// Moving a finished temp file to its final name without ever overwriting anything.
//
// Collision policy: a name already present in inbound/ is never replaced. The new file gets
// ` (2)`, ` (3)`, … inserted before the last extension (`lots.csv` → `lots (2).csv`,
// `batch.tar.gz` → `batch.tar (2).gz`, `README` → `README (2)`). The final name is what
// onUploaded and the audit trail report.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { MAX_NAME_BYTES } from './jail.js';

const MAX_COPIES = 10_000;

/** `name` with ` (n)` before its extension, within `maxBytes`; n = 1 is the name itself. Pure. */
export function numberedName(name: string, n: number, maxBytes = MAX_NAME_BYTES): string {
  if (n <= 1) return name;
  const dot = name.lastIndexOf('.');
  const hasExt = dot > 0 && dot < name.length - 1;
  let stem = hasExt ? name.slice(0, dot) : name;
  const ext = hasExt ? name.slice(dot) : '';
  const suffix = ` (${n})`;
  // Keep within the limit by shortening the stem (by code points, so UTF-8 stays valid).
  while (Buffer.byteLength(stem + suffix + ext, 'utf8') > maxBytes && stem.length > 1) {
    stem = Array.from(stem).slice(0, -1).join('');
  }
  return stem + suffix + ext;
}

export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself still happened.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS']);

/**
 * Move `tempPath` into `dir` under `name` or the first free numbered variant; returns the name
 * used. link(2) fails atomically when the target exists, so two uploads finishing at the same
 * moment cannot overwrite each other. Where hard links are unsupported (some network shares)
 * it falls back to check-then-rename.
 */
export async function placeNoClobber(
  tempPath: string,
  dir: string,
  name: string,
  isTaken: (candidate: string) => boolean = () => false,
  maxBytes = MAX_NAME_BYTES,
): Promise<string> {
  let useLink = true;
  for (let n = 1; n <= MAX_COPIES; n++) {
    const candidate = numberedName(name, n, maxBytes);
    if (isTaken(candidate)) continue;
    const target = join(dir, candidate);
    if (useLink) {
      try {
        await fsp.link(tempPath, target);
        await fsp.unlink(tempPath);
        await fsyncDir(dir);
        return candidate;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') continue;
        if (!LINK_UNSUPPORTED.has(code)) throw err;
        useLink = false;
      }
    }
    try {
      await fsp.lstat(target);
      continue; // taken
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fsp.rename(tempPath, target);
    await fsyncDir(dir);
    return candidate;
  }
  throw Object.assign(new Error(`E_NAME_EXHAUSTED: more than ${MAX_COPIES} files named like ${name}`), { code: 'E_NAME_EXHAUSTED' });
}
