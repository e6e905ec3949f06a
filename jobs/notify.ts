// notify: finds what happened since its last run — lots that became BLOCKED or late, files
// rejected or quarantined (from the audit trail), partners silent longer than their expected
// cadence (from the ledger) — and sends each event to the channels its rules route it to
// (`notifications:` in config.yaml), with a link under `publicUrl`. One event sends one message
// per channel: the (event, channel) keys that went out are stored, and the cursor only moves past
// an event once its sends are done or given up on.

import { buildNotifier, dispatch, type Notifier } from '../pipeline/outbound/notify/channels.js';
import type { NotifyEvent } from '../pipeline/outbound/notify/rules.js';
import { checkAborted, defineJob, type JobContext } from '../pipeline/scheduler/job.js';
import { links as linksFor, publicUrlProblem } from '../pipeline/outbound/notify/links.js';
import type { SubmissionRow } from '../pipeline/store/types.js';
import { eventsFromAudit, NOTIFY_AUDIT_ACTIONS, silentPartners, submissionRefOf } from './notify-events.js';

export interface NotifyOptions {
  /** Sends to a channel that keep failing are given up after this many attempts. */
  maxAttempts: number;
  /** On the very first run, look back this far in the audit trail (not the whole history). */
  firstRunLookbackHours: number;
  /** Audit events read per run at most (the rest next run). */
  maxEvents: number;
}

export const NOTIFY_CURSOR = 'notify:audit-seq';
const GAVE_UP = 'gave up: ';

export const notifyJob = defineJob<NotifyOptions>({
  name: 'notify',
  description: 'Send notifications: lot BLOCKED or late, file rejected or quarantined, partner silent.',
  defaultSchedule: '* * * * *',
  optionsSchema: {
    maxAttempts: { type: 'integer', minimum: 1 },
    firstRunLookbackHours: { type: 'integer', minimum: 0 },
    maxEvents: { type: 'integer', minimum: 1 },
  },
  defaults: { maxAttempts: 10, firstRunLookbackHours: 24, maxEvents: 5000 },
  async run(ctx) {
    const { lg } = ctx;
    const { store } = lg;
    const notifier = buildNotifier(lg.config.notifications, ctx.env, { fetch: ctx.services.fetch, mailTransport: ctx.services.mailTransport });
    const counts = { auditEvents: 0, events: 0, sent: 0, alreadySent: 0, failed: 0, gaveUp: 0 };
    const problems: string[] = [];
    const urlProblem = publicUrlProblem(lg.config.publicUrl);
    if (urlProblem) problems.push(urlProblem);
    try {
      const cursor = await store.jobs.getJobCursor(NOTIFY_CURSOR);
      const from = cursor !== undefined ? Number(cursor) : await store.audit.auditSeqAt(new Date(ctx.now().getTime() - ctx.options.firstRunLookbackHours * 3_600_000));
      // Everything up to the head as it is now is covered by this run, unless the read was cut short.
      const head = (await store.audit.auditHead()).seq;
      const rows = await store.audit.listAuditAfter(from, { actions: NOTIFY_AUDIT_ACTIONS, limit: ctx.options.maxEvents });
      counts.auditEvents = rows.length;
      // eventsFromAudit is pure: the submission a row refers to is read before it is looked at.
      const submissions = new Map<number, SubmissionRow | undefined>();
      const look = { links: linksFor(lg.config.publicUrl), partners: lg.partners(), submission: (id: number) => submissions.get(id) };
      let next = from;
      let held = false;
      for (const row of rows) {
        checkAborted(ctx.signal);
        let pending = false;
        const ref = submissionRefOf(row);
        if (ref !== null && !submissions.has(ref)) submissions.set(ref, await store.ledger.getSubmission(ref));
        for (const event of eventsFromAudit(row, look)) {
          if ((await send(ctx, notifier, event, counts, problems)).pending) pending = true;
        }
        // The cursor stops before the first event that still has a send to retry; later events
        // are sent now all the same, and their keys keep them from going out twice.
        if (pending) held = true;
        if (!held) next = row.seq;
      }
      if (!held && rows.length < ctx.options.maxEvents) next = Math.max(next, head);
      await store.jobs.setJobCursor(NOTIFY_CURSOR, String(next));
      for (const event of silentPartners(lg.partners().values(), await store.ledger.lastReceivedByPartner(), ctx.now(), look.links)) {
        checkAborted(ctx.signal);
        await send(ctx, notifier, event, counts, problems);
      }
    } finally {
      for (const ch of notifier.channels) await ch.close?.().catch(() => undefined);
    }
    return { counts, problems };
  },
});

/** Sends one event; `pending` when a send failed and will be tried again. */
async function send(
  ctx: JobContext<NotifyOptions>,
  notifier: Notifier,
  event: NotifyEvent,
  counts: { events: number; sent: number; alreadySent: number; failed: number; gaveUp: number },
  problems: string[],
): Promise<{ pending: boolean }> {
  const { store } = ctx.lg;
  counts.events++;
  const done = async (key: string): Promise<boolean> => {
    const row = await store.notifications.getNotificationSent(key);
    return row !== undefined && (row.state === 'sent' || row.attempts >= ctx.options.maxAttempts || (row.lastError ?? '').startsWith(GAVE_UP));
  };
  let pending = false;
  for (const o of await dispatch(event, notifier, done)) {
    if (o.result === 'already_sent') {
      counts.alreadySent++;
      continue;
    }
    const ok = o.result.ok;
    const retryable = !o.result.ok && o.result.retryable;
    // A channel that refuses the message (not retryable) will not take it later either.
    const error = o.result.ok ? null : retryable ? o.result.error : `${GAVE_UP}${o.result.error}`;
    const attempts = await store.notifications.recordNotification({ key: o.key, channel: o.channel, eventType: event.type, subject: event.subject, eventAt: event.at, ok, error }, ctx.now());
    if (ok) {
      counts.sent++;
      continue;
    }
    if (retryable && attempts < ctx.options.maxAttempts) {
      counts.failed++;
      pending = true;
    } else {
      counts.gaveUp++;
    }
    problems.push(`${event.type} ${event.subject} → ${o.channel}: ${error}`);
  }
  return { pending };
}
