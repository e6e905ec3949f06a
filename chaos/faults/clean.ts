// The clean run: the same files, no fault. Its outcome per file is what every fault run must
// reproduce; it is itself checked against what each kind of file must become.

import { spawnSync } from 'node:child_process';
import { Run, type ChaosContext } from '../lib/harness.js';
import type { FaultOutcome } from './types.js';

export async function cleanRun(ctx: ChaosContext): Promise<FaultOutcome> {
  const run = new Run(ctx, 'clean');
  try {
    await run.start();
    run.log(`uploading ${ctx.fx.files.standard.length} files, then the large one (${ctx.fx.files.large.name})`);
    await run.upload(ctx.fx.files.standard);
    await run.upload([ctx.fx.files.large], { timeoutMs: 300_000 });
    await run.settle();
    run.checkAlive('during the clean run');
    const snap = run.snapshot();
    const du = spawnSync('du', ['-sb', run.dataDir], { encoding: 'utf8' });
    return { sent: run.sent, snap, notes: run.notes, findings: run.faultFindings, dataBytes: Number.parseInt(du.stdout, 10) || undefined };
  } finally {
    await run.stop();
  }
}
