// The scheduler as a role of `lotgate start` (pipeline/runtime/server.ts RoleModule): register
// it as `scheduler: schedulerRole` in pipeline/cli/server-commands.ts's EXTRA_ROLES.

import type { RoleModule, ServerContext } from '../runtime/server.js';
import { startScheduler } from './scheduler.js';

export const schedulerRole: RoleModule = {
  name: 'scheduler',
  async start(ctx: ServerContext) {
    const s = startScheduler({
      config: ctx.config,
      log: ctx.log,
      now: ctx.lg.now,
      // Pulled files go on the partner queues, like uploads; the workers apply them.
      enqueue: (partner, submissionId) => ctx.queues.enqueue(partner, submissionId),
    });
    return { stop: () => s.stop(), banner: s.banner };
  },
};
