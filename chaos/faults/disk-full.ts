// Fault 4: the data dir (store, archive, drop zone, acknowledgments) on a small tmpfs that is
// filled up while files are being applied — so files fail at apply or at the acknowledgment —
// and stays full while the second half of the files is uploaded (fails at upload). Then the
// space is freed, lotgate restarted and the failed uploads sent again.

import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../bench/lib/net.js';
import { Run, type ChaosContext } from '../lib/harness.js';
import { fillDisk, freeDisk, mountTmpfs, type MountResult } from '../lib/tmpfs.js';
import { SHUTDOWN_BOUND_MS } from './sigterm-large.js';
import type { FaultOutcome } from './types.js';

export async function diskFull(ctx: ChaosContext, clean: FaultOutcome): Promise<FaultOutcome | string> {
  const run = new Run(ctx, 'fault-4-disk-full');
  // Room for everything a clean run stores, twice over: the filler takes whatever is left.
  const sizeMb = Math.max(64, Math.ceil((2 * (clean.dataBytes ?? 0)) / 2 ** 20) + 32);
  let mount: MountResult = { ok: false, reason: 'not mounted' };
  try {
    await run.prepare((dataDir) => (mount = mountTmpfs(dataDir, sizeMb)));
    const m = mount as MountResult;
    if (!m.ok) return m.reason;
    run.log(`data dir on a ${sizeMb} MB tmpfs`);
    await run.startRedis();
    await run.startLotgate();
    const files = ctx.fx.files.standard;
    const first = files.filter((f, i) => f.kind !== 'duplicate' && i % 2 === 0);
    const second = files.filter((f) => !first.includes(f));
    run.log(`uploading ${first.length} files`);
    const uploading = run.upload(first);
    const where = await run.waitForTrigger((x) => x.terminal >= 2 && x.processing > 0, 'two files terminal, one processing');
    const fill = fillDisk(run.dataDir);
    run.log(`disk full (filler took ${(fill.bytes / 2 ** 20).toFixed(0)} MB) at ${where}`);
    run.notes.push(`data dir filled at ${where}`);
    await uploading;
    run.log(`uploading ${second.length} more files while the disk is full`);
    await run.upload(second);
    const holdMs = ctx.quick ? 8_000 : 15_000;
    await sleep(holdMs);
    run.checkAlive('while the disk was full');
    freeDisk(fill.files);
    run.log(`space freed after ${holdMs / 1000} s full; restarting lotgate`);
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
    const m = mount as MountResult;
    if (m.ok) {
      if (ctx.keep && run.rw && existsSync(run.dataDir)) cpSync(run.dataDir, path.join(run.dir, 'data-from-tmpfs'), { recursive: true });
      m.unmount();
    }
  }
}
