// The scheduler as a role of `lotgate start` (pipeline/runtime/server.ts RoleModule). The
// composition root (pipeline/cli/server-commands.ts) registers `scheduler: schedulerRole(JOBS)`
// with the job list from jobs/index.ts: the scheduler runs jobs, it does not know them.

import type { RoleModule, ServerContext } from '../runtime/server.js';
import type { AnyJob } from './job.js';
import { startScheduler } from './scheduler.js';

export function schedulerRole(jobs: readonly AnyJob[]): RoleModule {
  return {
    name: 'scheduler',
    async start(ctx: ServerContext) {
      const s = startScheduler(
        {
          config: ctx.config,
          log: ctx.log,
          now: ctx.lg.now,
          // Pulled files go on the partner queues, like uploads; the workers apply them.
          enqueue: (partner, submissionId) => ctx.queues.enqueue(partner, submissionId),
        },
        { jobs },
      );
      return { stop: () => s.stop(), banner: s.banner };
    },
  };
}
