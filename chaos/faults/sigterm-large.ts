// Fault 3: SIGTERM while a large LIMS export is being applied, with the other files queued
// behind it or on other partners' queues. lotgate must stop taking work at once, finish or
// release the running file within its shutdown grace, and exit; after a restart every file must
// end as in the clean run.

import { sleep } from '../../bench/lib/net.js';
import { Run, type ChaosContext } from '../lib/harness.js';
import type { FaultOutcome } from './types.js';

/** lotgate's default queue.shutdownGraceMs (30 s) plus a margin for closing the rest. */
export const SHUTDOWN_BOUND_MS = 45_000;

export async function sigtermDuringLargeFile(ctx: ChaosContext): Promise<FaultOutcome> {
  const run = new Run(ctx, 'fault-3-sigterm-large');
  const large = ctx.fx.files.large;
  try {
    await run.start();
    run.log(`uploading ${large.name}, then ${ctx.fx.files.standard.length} files`);
    await run.upload([large], { timeoutMs: 300_000 });
    const uploading = run.upload(ctx.fx.files.standard);
    const p = await run.waitFor((x) => x.ledger.some((r) => r.partner === large.partner && r.name === large.name && r.state === 'processing'), 60_000, 50);
    if (!p) run.notes.push(`${large.name} was not seen processing; SIGTERM sent anyway`);
    await sleep(ctx.quick ? 500 : 1_500);
    const at = run.progress();
    const sentAt = new Date().toISOString();
    const where = at ? `${at.terminal}/${at.total} files terminal, ${at.processing} processing (${large.name} among them: ${at.ledger.some((r) => r.name === large.name && r.state === 'processing') ? 'yes' : 'no'})` : 'store not readable';
    run.log(`SIGTERM lotgate (pid ${run.lotgate!.pid}) at ${where}`);
    const ms = await run.lotgate!.signal('SIGTERM', SHUTDOWN_BOUND_MS);
    if (ms === null) {
      run.faultFindings.push(`lotgate did not exit within ${SHUTDOWN_BOUND_MS / 1000} s of SIGTERM (killed with SIGKILL)`);
      run.log(`still running ${SHUTDOWN_BOUND_MS / 1000} s after SIGTERM: SIGKILL`);
      await run.lotgate!.signal('SIGKILL', 10_000);
    } else {
      run.log(`lotgate exited ${(ms / 1000).toFixed(1)} s after SIGTERM (${run.lotgate!.exitStatus()})`);
    }
    run.notes.push(`SIGTERM at ${where}; ${ms === null ? `not exited after ${SHUTDOWN_BOUND_MS / 1000} s` : `exited after ${(ms / 1000).toFixed(1)} s`}`);
    run.lotgate = null;
    const after = (run.progress()?.ledger ?? []).filter((r) => r.startedAt !== null && r.startedAt > sentAt);
    if (after.length) run.faultFindings.push(`${after.length} file(s) started after SIGTERM: ${after.slice(0, 5).map((r) => r.name).join(', ')}${after.length > 5 ? ', …' : ''}`);
    await uploading;
    await run.restartLotgate('after SIGTERM');
    await run.resendFailed();
    await run.settle();
    return { sent: run.sent, snap: run.snapshot(), notes: run.notes, findings: run.faultFindings };
  } finally {
    await run.stop();
  }
}
