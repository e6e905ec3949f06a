// Fault 1: SIGKILL of `lotgate start` while files are being applied (a quarter of them done,
// one in a write transaction), then a restart. Uploads cut off by the kill are sent again.

import { sleep } from '../../bench/lib/net.js';
import { Run, type ChaosContext } from '../lib/harness.js';
import type { FaultOutcome } from './types.js';

export async function sigkillMidRun(ctx: ChaosContext): Promise<FaultOutcome> {
  const run = new Run(ctx, 'fault-1-sigkill');
  try {
    await run.start();
    run.log(`uploading ${ctx.fx.files.standard.length} files`);
    const uploading = run.upload(ctx.fx.files.standard);
    const where = await run.waitForTrigger((x) => x.terminal >= Math.ceil(x.total / 4) && x.processing > 0, 'a quarter of the files terminal, one processing');
    run.log(`SIGKILL lotgate (pid ${run.lotgate!.pid}) at ${where}`);
    run.notes.push(`SIGKILL at ${where}`);
    await run.lotgate!.signal('SIGKILL', 10_000);
    run.lotgate = null;
    await uploading;
    await sleep(1_000);
    await run.restartLotgate('after SIGKILL');
    await run.resendFailed();
    await run.settle();
    return { sent: run.sent, snap: run.snapshot(), notes: run.notes, findings: run.faultFindings };
  } finally {
    await run.stop();
  }
}
