// Content-addressed archive of every original file: <dataDir>/archive/<sha[0:2]>/<sha256>.
// Originals are never altered (mode 0444); the same bytes are stored once.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, link as hardLink, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';

export interface FileDigest {
  sha256: string;
  size: number;
}

export async function hashFile(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

export function archivePathFor(dataDir: string, sha256: string): string {
  return path.join(dataDir, 'archive', sha256.slice(0, 2), sha256);
}

/**
 * Puts a copy of `src` into the archive and returns its path. `link` (for files the caller will
 * remove, e.g. taken from inbound/) hard-links instead of copying when on the same file system;
 * a file the user keeps is always copied, so the archived original can never change with it.
 * The caller removes `src` only once the ledger knows the file, so a crash in between leaves the
 * file where the reconciler finds it.
 */
export async function archiveFile(dataDir: string, src: string, sha256: string, link = false): Promise<string> {
  const dest = archivePathFor(dataDir, sha256);
  if (await stat(dest).then(() => true, () => false)) return dest;
  await mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.tmp`;
  const linked = link && (await hardLink(src, tmp).then(() => true, () => false));
  if (!linked) await copyFile(src, tmp);
  await chmod(tmp, 0o444);
  await rename(tmp, dest);
  return dest;
}
