// readiness-sweep: recomputes open lots (no final disposition yet) against the clock, so
// the time-based rules — remaining shelf life, `late` against planned dates and stage lead
// times — change state without any new file. Only lots whose stored clock-due instant has
// passed (or whose rules changed) are recomputed; option `all` recomputes every open lot. Batches of lots, one transaction each: a sweep
// over many lots never holds the write lock for long, and a crash loses one batch at most.
// Changes are audited and put in the outbox by recompute, like changes from a file.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { recomputeDirtyLots, recomputeReadiness } from '../pipeline/readiness/recompute.js';
import { rulesHashOf } from '../pipeline/readiness/clock.js';
import { checkAborted, defineJob } from '../pipeline/scheduler/job.js';

export interface SweepOptions {
  batchSize: number;
  /** Recompute every open lot, not only those the clock may have changed. */
  all: boolean;
}

export const readinessSweepJob = defineJob<SweepOptions>({
  name: 'readiness-sweep',
  description: 'Recompute the readiness of open lots the clock may have changed (shelf life, late milestones); all: every open lot.',
  defaultSchedule: '5 * * * *',
  optionsSchema: { batchSize: { type: 'integer', minimum: 1, maximum: 10000 }, all: { type: 'boolean' } },
  defaults: { batchSize: 200, all: false },
  async run(ctx) {
    const { lg } = ctx;
    // One clock reading for the whole sweep: every lot is judged at the same instant.
    const at = ctx.now();
    // First the lots whose facts changed but whose readiness was never recomputed (a process
    // died between a file's commit and its recompute): each with its submission as the cause.
    const dirty = recomputeDirtyLots(lg, at, { actor: 'job:readiness-sweep', batchSize: ctx.options.batchSize });
    // Between submissions only the clock changes a lot's readiness, and each stored readiness
    // says when it next can (readiness/clock.ts): only lots whose instant has passed, computed
    // with other rules, or never computed are due. `all` recomputes every open lot.
    const open = lg.store.listOpenLotIds();
    const ids = ctx.options.all ? open : lg.store.listClockDueLotIds(at, rulesHashOf(lg.config.readiness));
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
    return {
      counts: { lots: open.length, recomputed: ids.length, changed: changed + dirty.changed, batches: Math.ceil(ids.length / ctx.options.batchSize), dirtyLots: dirty.lots },
    };
  },
});
