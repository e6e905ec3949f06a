// readiness-sweep: recomputes every open lot (no final disposition yet) against the clock, so
// the time-based rules — remaining shelf life, `late` against planned dates and stage lead
// times — change state without any new file. Batches of lots, one transaction each: a sweep
// over many lots never holds the write lock for long, and a crash loses one batch at most.
// Changes are audited and put in the outbox by recompute, like changes from a file.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { recomputeReadiness } from '../pipeline/readiness/recompute.js';
import { checkAborted, defineJob } from '../pipeline/scheduler/job.js';

export interface SweepOptions {
  batchSize: number;
}

export const readinessSweepJob = defineJob<SweepOptions>({
  name: 'readiness-sweep',
  description: 'Recompute the readiness of every open lot against the clock (shelf life, late milestones).',
  defaultSchedule: '5 * * * *',
  optionsSchema: { batchSize: { type: 'integer', minimum: 1, maximum: 10000 } },
  defaults: { batchSize: 200 },
  async run(ctx) {
    const { lg } = ctx;
    const ids = lg.store.listOpenLotIds();
    // One clock reading for the whole sweep: every lot is judged at the same instant.
    const at = ctx.now();
    let changed = 0;
    let done = 0;
    ctx.progress?.(0, ids.length);
    for (let i = 0; i < ids.length; i += ctx.options.batchSize) {
      checkAborted(ctx.signal);
      const batch = ids.slice(i, i + ctx.options.batchSize);
      const r = lg.store.transaction(() => recomputeReadiness(lg, batch, at, 'job:readiness-sweep'));
      changed += r.changed;
      done += batch.length;
      ctx.progress?.(done, ids.length);
      // Let lease renewals, uploads and other jobs in this process get a turn between batches.
      await yieldToLoop();
    }
    return { counts: { lots: ids.length, changed, batches: Math.ceil(ids.length / ctx.options.batchSize) } };
  },
});
