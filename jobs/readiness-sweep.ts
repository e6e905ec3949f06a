// readiness-sweep: recomputes open lots (no final disposition yet) against the clock, so
// the time-based rules — remaining shelf life, `late` against planned dates and stage lead
// times — change state without any new file. Only lots whose stored clock-due instant has
// passed (or whose rules changed) are recomputed; option `all` recomputes every open lot. Batches of lots, one transaction each: a sweep
// over many lots never holds the write lock for long, and a crash loses one batch at most.
// Changes are audited and put in the outbox by recompute, like changes from a file.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { recomputeDirtyLots, recomputeReadiness } from '../pipeline/readiness/recompute.js';
import { rulesHashOf } from '../pipeline/readiness/clock.js';
import { startJudgePool } from '../pipeline/readiness/judge-pool.js';
import { checkAborted, defineJob } from '../pipeline/scheduler/job.js';

export interface SweepOptions {
  batchSize: number;
  /** Recompute every open lot, not only those the clock may have changed. */
  all: boolean;
  /**
   * From this many lots on, every other batch is judged on a second thread (0, the default:
   * never). Off by default: on the 2-core bench VM, shared and loaded, the thread cost more CPU
   * (its own start-up and JIT warm-up) than it saved in wall time — see bench/README.md.
   */
  parallelMinLots: number;
}

export const readinessSweepJob = defineJob<SweepOptions>({
  name: 'readiness-sweep',
  description: 'Recompute the readiness of open lots the clock may have changed (shelf life, late milestones); all: every open lot.',
  defaultSchedule: '5 * * * *',
  optionsSchema: { batchSize: { type: 'integer', minimum: 1, maximum: 10000 }, all: { type: 'boolean' }, parallelMinLots: { type: 'integer', minimum: 0 } },
  defaults: { batchSize: 200, all: false, parallelMinLots: 0 },
  async run(ctx) {
    const { lg } = ctx;
    // One clock reading for the whole sweep: every lot is judged at the same instant.
    const at = ctx.now();
    // First the lots whose facts changed but whose readiness was never recomputed (a process
    // died between a file's commit and its recompute): each with its submission as the cause.
    const dirty = await recomputeDirtyLots(lg, at, { actor: 'job:readiness-sweep', batchSize: ctx.options.batchSize });
    // Between submissions only the clock changes a lot's readiness, and each stored readiness
    // says when it next can (readiness/clock.ts): only lots whose instant has passed, computed
    // with other rules, or never computed are due. `all` recomputes every open lot.
    const open = await lg.store.readiness.listOpenLotIds();
    const ids = ctx.options.all ? open : await lg.store.readiness.listClockDueLotIds(at, rulesHashOf(lg.config.readiness));
    let changed = 0;
    let done = 0;
    const size = ctx.options.batchSize;
    ctx.progress?.(0, ids.length);
    // Many lots: every other batch is judged on a second thread with its own read connection;
    // it answers which of its lots need writing, and those are recomputed here, under the lock.
    const min = ctx.options.parallelMinLots;
    const pool = min > 0 && ids.length >= min ? startJudgePool(lg.config.store.url, lg.config.readiness, lg.log) : null;
    const offloaded: Promise<number[]>[] = [];
    let judgedOnThread = 0;
    const recompute = async (lotIds: number[]) => {
      changed += (await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, lotIds, at, 'job:readiness-sweep'))).changed;
    };
    try {
      for (let i = 0, n = 0; i < ids.length; i += size, n++) {
        checkAborted(ctx.signal);
        const batch = ids.slice(i, i + size);
        if (pool && n % 2 === 1) {
          offloaded.push(
            pool.run({ lotIds: batch, at: at.toISOString() }).then(
              (stale) => {
                judgedOnThread++;
                done += batch.length - stale.length;
                return stale;
              },
              // The thread failed: this batch is judged here.
              () => batch,
            ),
          );
          continue;
        }
        await recompute(batch);
        done += batch.length;
        ctx.progress?.(done, ids.length);
        // Let lease renewals, uploads, other jobs and the judge thread's answers get a turn.
        await yieldToLoop();
      }
      for (const pending of offloaded) {
        const stale = await pending;
        for (let i = 0; i < stale.length; i += size) {
          checkAborted(ctx.signal);
          const chunk = stale.slice(i, i + size);
          await recompute(chunk);
          done += chunk.length;
          await yieldToLoop();
        }
        ctx.progress?.(done, ids.length);
      }
    } finally {
      await pool?.close();
    }
    return {
      counts: {
        lots: open.length,
        recomputed: ids.length,
        changed: changed + dirty.changed,
        batches: Math.ceil(ids.length / size),
        dirtyLots: dirty.lots,
        judgedOnThread,
      },
    };
  },
});
