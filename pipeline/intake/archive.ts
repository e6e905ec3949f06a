// Content-addressed archive of every original file: <archiveDir>/<sha[0:2]>/<sha256>
// (archiveDir defaults to <dataDir>/archive). Originals are never altered (mode 0444); the same
// bytes are stored once.
//
// The archive sits behind the small Archive interface so that where the originals live is one
// decision of the composition root. The file-system implementation below serves one machine and
// several machines alike when archiveDir is a shared folder (NFS, SMB, a cluster file system):
// writes are a temp file renamed into place, and the same name always holds the same bytes, so
// two machines archiving the same file at once both end with one correct copy.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, link as hardLink, mkdir, rename, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
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

export interface Archive {
  /** The folder (or other location) the originals are kept in. */
  readonly location: string;
  /** Where the original with this digest is (or would be): the path the ledger records. */
  pathOf(sha256: string): string;
  /**
   * Keeps a copy of `src` and returns its path. `link` (for files the caller will remove, e.g.
   * taken from inbound/) hard-links instead of copying when on the same file system; a file the
   * user keeps is always copied, so the archived original can never change with it. The caller
   * removes `src` only once the ledger knows the file, so a crash in between leaves the file where
   * the reconciler finds it.
   */
  put(src: string, sha256: string, opts?: { link?: boolean }): Promise<string>;
}

/** The archive as a folder: one machine's data dir, or a folder several machines share. */
export function fsArchive(dir: string): Archive {
  const pathOf = (sha256: string) => path.join(dir, sha256.slice(0, 2), sha256);
  return {
    location: dir,
    pathOf,
    async put(src, sha256, opts = {}) {
      const dest = pathOf(sha256);
      if (await stat(dest).then(() => true, () => false)) return dest;
      await mkdir(path.dirname(dest), { recursive: true });
      // Unique per writer: two machines, or two intakes of one process, may archive the same bytes at once.
      const tmp = `${dest}.${hostname()}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      const linked = opts.link === true && (await hardLink(src, tmp).then(() => true, () => false));
      if (!linked) await copyFile(src, tmp);
      await chmod(tmp, 0o444);
      await rename(tmp, dest);
      return dest;
    },
  };
}

