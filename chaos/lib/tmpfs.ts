// A real "disk full": a small tmpfs mounted over the run's data dir, filled up with a filler
// file until the kernel answers ENOSPC, and freed again by deleting the filler. Needs root (or
// CAP_SYS_ADMIN); when mount is refused the caller skips the fault and says why.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { onCleanup } from './cleanup.js';

export type MountResult = { ok: true; unmount: () => void } | { ok: false; reason: string };

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.error?.message ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export function mountTmpfs(dir: string, sizeMb: number): MountResult {
  mkdirSync(dir, { recursive: true });
  const r = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
  if (!r.ok) return { ok: false, reason: `mount -t tmpfs -o size=${sizeMb}m failed: ${r.out || 'no output'}` };
  const unmount = () => {
    if (!run('mountpoint', ['-q', dir]).ok) return;
    // A process still holding a file open makes umount fail: detach lazily then.
    if (!run('umount', [dir]).ok) run('umount', ['-l', dir]);
  };
  const unregister = onCleanup(`umount ${dir}`, unmount);
  return {
    ok: true,
    unmount: () => {
      unmount();
      unregister();
    },
  };
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

/**
 * Fills the file system holding `dir` with `<dir>/.chaos-filler*` until a write fails with
 * ENOSPC (big blocks first, then smaller ones, down to single pages). Returns the bytes taken.
 */
export function fillDisk(dir: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  for (const block of [1 << 20, 64 << 10, 4 << 10, 512]) {
    const file = path.join(dir, `.chaos-filler-${block}`);
    files.push(file);
    const fd = openSync(file, 'w');
    const buf = Buffer.alloc(block, 0x5a);
    try {
      for (;;) {
        writeSync(fd, buf);
        bytes += block;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    } finally {
      closeSync(fd);
    }
  }
  return { files, bytes };
}

export function freeDisk(files: string[]): void {
  for (const f of files) rmSync(f, { force: true });
}
