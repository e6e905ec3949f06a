// Fault 2: Redis lost mid-run and restarted empty (SIGKILL of redis-server, a fresh one without
// persistence on the same port a second later). Every queued job is gone; the ledger is not.

import { sleep } from '../../bench/lib/net.js';
import { Run, type ChaosContext } from '../lib/harness.js';
import type { FaultOutcome } from './types.js';

export async function redisLost(ctx: ChaosContext): Promise<FaultOutcome> {
  const run = new Run(ctx, 'fault-2-redis-lost');
  try {
    await run.start();
    run.log(`uploading ${ctx.fx.files.standard.length} files`);
    const uploading = run.upload(ctx.fx.files.standard);
    const where = await run.waitForTrigger((x) => x.terminal >= Math.ceil(x.total / 4) && x.terminal < x.total, 'a quarter of the files terminal, the rest not');
    run.log(`SIGKILL redis-server (pid ${run.redis!.pid}) at ${where}`);
    await run.redis!.signal('SIGKILL', 10_000);
    await sleep(1_000);
    await run.startRedis();
    run.log(`fresh, empty redis-server on the same port (pid ${run.redis!.pid})`);
    run.notes.push(`Redis killed at ${where}; an empty one started on the same port 1 s later`);
    await uploading;
    run.checkAlive('after Redis was lost');
    if (!run.lotgate) await run.restartLotgate('it had exited');
    await run.resendFailed();
    await run.settle();
    run.checkAlive('after Redis was lost');
    return { sent: run.sent, snap: run.snapshot(), notes: run.notes, findings: run.faultFindings };
  } finally {
    await run.stop();
  }
}
