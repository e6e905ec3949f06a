// Fault 4: disk full, on two small tmpfs mounts — the data dir (store, archive) and, inside it,
// the drop zone (inbound/, outbound/ acknowledgments). While files are being applied the drop
// zone is filled to the last byte: the store still has room, so files commit and then fail when
// their acknowledgment is written; uploads fail. Then the data dir is filled too: the files still
// queued fail at apply. After a while both are freed, lotgate is restarted (SIGTERM, start) and
// the failed uploads are sent again.

import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../bench/lib/net.js';
import { Run, type ChaosContext } from '../lib/harness.js';
import { fillDisk, freeDisk, mountTmpfs, type MountResult } from '../lib/tmpfs.js';
import { SHUTDOWN_BOUND_MS } from './sigterm-large.js';
import type { FaultOutcome } from './types.js';

export async function diskFull(ctx: ChaosContext, clean: FaultOutcome): Promise<FaultOutcome | string> {
  const run = new Run(ctx, 'fault-4-disk-full');
  // Room for everything a clean run stores, twice over: the filler takes whatever is left.
  const dataMb = Math.max(64, Math.ceil((2 * (clean.dataBytes ?? 0)) / 2 ** 20) + 32);
  const dropMb = 32;
  const mounts: MountResult[] = [];
  const fills: string[][] = [];
  try {
    let refused: string | null = null;
    await run.prepare((dataDir) => {
      for (const [dir, mb] of [[dataDir, dataMb], [path.join(dataDir, 'drop'), dropMb]] as const) {
        if (refused) return;
        mkdirSync(dir, { recursive: true });
        const m = mountTmpfs(dir, mb);
        if (m.ok) mounts.push(m);
        else refused = m.reason;
      }
    });
    if (refused) return refused;
    run.log(`data dir on a ${dataMb} MB tmpfs, its drop zone on a ${dropMb} MB tmpfs`);
    await run.startRedis();
    await run.startLotgate();
    const files = ctx.fx.files.standard;
    const first = files.filter((f, i) => f.kind !== 'duplicate' && i % 2 === 0);
    const second = files.filter((f) => !first.includes(f));
    run.log(`uploading ${first.length} files`);
    const uploading = run.upload(first);
    const where = await run.waitForTrigger((x) => x.terminal >= 1 && x.processing > 0, 'a file terminal, one processing');
    const dropFill = fillDisk(run.dropDir);
    fills.push(dropFill.files);
    run.log(`drop zone full (filler took ${(dropFill.bytes / 2 ** 20).toFixed(0)} MB) at ${where}: acknowledgments and uploads fail, the store has room`);
    run.notes.push(`drop zone filled at ${where}`);
    await uploading;
    run.log(`uploading ${second.length} more files into the full drop zone`);
    await run.upload(second);
    const p = run.progress();
    const dataFill = fillDisk(run.dataDir);
    fills.push(dataFill.files);
    const at = p ? `${p.terminal}/${p.total} files terminal, ${p.processing} processing` : 'store not readable';
    run.log(`data dir full too (filler took ${(dataFill.bytes / 2 ** 20).toFixed(0)} MB) at ${at}: applying fails`);
    run.notes.push(`data dir filled at ${at}`);
    // Longer than lotgate's own retries of a failed file (queue.attempts 3, backoff 2 s doubling),
    // as a real full disk lasts: what lotgate decides while it is full is part of the result.
    const holdMs = 15_000;
    await sleep(holdMs);
    run.checkAlive('while the disk was full');
    for (const f of fills.splice(0)) freeDisk(f);
    run.log(`space freed after ${holdMs / 1000} s; restarting lotgate`);
    if (run.lotgate) {
      const ms = await run.lotgate.signal('SIGTERM', SHUTDOWN_BOUND_MS);
      if (ms === null) {
        run.faultFindings.push(`lotgate did not exit within ${SHUTDOWN_BOUND_MS / 1000} s of SIGTERM after the disk was freed`);
        await run.lotgate.signal('SIGKILL', 10_000);
      }
      run.lotgate = null;
    }
    await run.restartLotgate('after freeing the disk');
    await run.resendFailed();
    await run.settle();
    return { sent: run.sent, snap: run.snapshot(), notes: run.notes, findings: run.faultFindings };
  } finally {
    await run.stop();
    for (const f of fills) freeDisk(f);
    if (ctx.keep && mounts.length && run.rw && existsSync(run.dataDir)) cpSync(run.dataDir, path.join(run.dir, 'data-from-tmpfs'), { recursive: true });
    // The drop zone's mount first: it lies inside the data dir's.
    for (const m of mounts.reverse()) if (m.ok) m.unmount();
  }
}
