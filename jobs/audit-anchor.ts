// audit-anchor: writes the head of the audit hash chain (seq + hash) outside the database — one
// JSON line appended to the anchor file (config `audit.anchorFile`, default
// <dataDir>/audit-anchors.log) and an `audit.anchor` message in the outbox for the connectors —
// so `lotgate audit verify` can tell when events were removed from the end or rewritten and
// rehashed. `lotgate start` also anchors when it stops.

import { anchorAuditHead } from '../pipeline/audit/anchors.js';
import { defineJob } from '../pipeline/scheduler/job.js';

export const auditAnchorJob = defineJob<Record<string, never>>({
  name: 'audit-anchor',
  description: 'Write the head of the audit chain to the anchor file and the outbox (audit.anchor).',
  defaultSchedule: '*/15 * * * *',
  optionsSchema: {},
  defaults: {},
  async run(ctx) {
    const r = await anchorAuditHead({ store: ctx.lg.store, config: ctx.lg.config, now: ctx.now }, 'job');
    return { counts: { seq: r.head.seq, written: r.written, outbox: r.outbox } };
  },
});
