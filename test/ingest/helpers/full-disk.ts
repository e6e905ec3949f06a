// A really full disk for one folder: a tiny tmpfs mounted over it and filled to the last byte.
// Needs root (CAP_SYS_ADMIN); where mounting is not allowed (unprivileged CI) `fullDisk` returns
// null and the test injects ENOSPC at the same call instead.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';

export interface FullDisk {
  dir: string;
  /** Frees the space (the filler file is removed); the mount stays until unmount(). */
  free(): void;
  unmount(): void;
}

export function fullDisk(dir: string, sizeKb = 64): FullDisk | null {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const filler = path.join(dir, '.filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x61);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // Proof that it is full: even a tiny file cannot get a data block.
  try {
    writeFileSync(path.join(dir, '.probe'), 'x'.repeat(4096));
    throw new Error(`${dir} is not full`);
  } catch (err) {
    rmSync(path.join(dir, '.probe'), { force: true });
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return {
    dir,
    free: () => rmSync(filler, { force: true }),
    unmount: () => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    },
  };
}
