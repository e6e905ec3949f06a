// digest: once a day, per recipient group, the open lots that are BLOCKED, running late, or
// whose readiness changed since the last digest — rendered by outbound/notify/digest.ts and sent
// through the notification channels the group names. A group follows the lots of some vendors,
// product families, materials or sites (no filter: every lot). Sent once per group, day and
// channel, however often the job runs that day.

import { DateTime } from 'luxon';
import { buildNotifier } from '../pipeline/outbound/notify/channels.js';
import { digestNotification, digestsByGroup } from '../pipeline/outbound/notify/digest.js';
import { changesByLot, digestLots, type DigestGroup } from './digest-lots.js';
import { checkAborted, defineJob } from '../pipeline/scheduler/job.js';
import { links as linksFor, publicUrlProblem } from '../pipeline/outbound/notify/links.js';

export interface DigestOptions {
  /** Absent: one group "all" following every lot, sent to every channel. */
  groups?: DigestGroup[];
  /** Also send a digest that has nothing to report. */
  sendEmpty: boolean;
  /** The first digest covers changes this far back. */
  firstRunLookbackHours: number;
}

export const DIGEST_CURSOR = 'digest:audit-seq';

const names = { type: 'array', items: { type: 'string', minLength: 1 } } as const;

export const digestJob = defineJob<DigestOptions>({
  name: 'digest',
  description: 'Daily summary of BLOCKED, late and changed lots per recipient group.',
  defaultSchedule: '0 7 * * *',
  optionsSchema: {
    groups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'to'],
        properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }, to: { ...names, minItems: 1 }, vendors: names, families: names, materials: names, sites: names },
      },
    },
    sendEmpty: { type: 'boolean' },
    firstRunLookbackHours: { type: 'integer', minimum: 0 },
  },
  defaults: { sendEmpty: false, firstRunLookbackHours: 24 },
  async run(ctx) {
    const { lg } = ctx;
    const { store } = lg;
    const notifier = buildNotifier(lg.config.notifications, ctx.env, { fetch: ctx.services.fetch, mailTransport: ctx.services.mailTransport });
    const groups = ctx.options.groups ?? (notifier.channels.length ? [{ name: 'all', to: notifier.channels.map((c) => c.name) }] : []);
    const problems: string[] = [];
    for (const g of groups) {
      for (const ch of g.to) if (!notifier.channels.some((c) => c.name === ch)) problems.push(`jobs.digest.groups ${g.name}: no notification channel named "${ch}"`);
    }
    if (problems.length) return { counts: { groups: groups.length, sent: 0 }, problems };
    const urlProblem = publicUrlProblem(lg.config.publicUrl);
    if (urlProblem) problems.push(urlProblem);
    const counts = { groups: groups.length, lots: 0, digests: 0, empty: 0, sent: 0, alreadySent: 0, failed: 0 };
    try {
      const now = ctx.now();
      const today = DateTime.fromJSDate(now, { zone: ctx.timezone }).toISODate() ?? now.toISOString().slice(0, 10);
      const cursor = await store.jobs.getJobCursor(DIGEST_CURSOR);
      const sinceAt = new Date(now.getTime() - ctx.options.firstRunLookbackHours * 3_600_000);
      const from = cursor !== undefined ? Number(cursor) : await store.audit.auditSeqAt(sinceAt);
      const head = (await store.audit.auditHead()).seq;
      const changes = await store.audit.listAuditAfter(from, { actions: ['lot.readiness_changed'], limit: 1_000_000 });
      const since = cursor !== undefined ? ((await store.audit.listAuditAfter(from - 1, { limit: 1 }))[0]?.at ?? sinceAt.toISOString()) : sinceAt.toISOString();
      const link = linksFor(lg.config.publicUrl);
      const lots = digestLots(await store.board.listOpenBoard(), changesByLot(changes), groups, link);
      counts.lots = lots.length;
      let allDone = true;
      for (const d of digestsByGroup(lots, { date: today, since, boardLink: link.board() })) {
        checkAborted(ctx.signal);
        counts.digests++;
        if (d.empty && !ctx.options.sendEmpty) {
          counts.empty++;
          continue;
        }
        const group = groups.find((g) => g.name === d.group)!;
        const notification = digestNotification(d, link.board());
        for (const chName of group.to) {
          const key = `digest:${d.group}:${today}@${chName}`;
          if ((await store.notifications.getNotificationSent(key))?.state === 'sent') {
            counts.alreadySent++;
            continue;
          }
          const r = await notifier.channels.find((c) => c.name === chName)!.send(notification);
          await store.notifications.recordNotification({ key, channel: chName, eventType: 'digest', subject: d.group, eventAt: today, ok: r.ok, error: r.ok ? null : r.error }, now);
          if (r.ok) counts.sent++;
          else {
            counts.failed++;
            allDone = false;
            problems.push(`digest ${d.group} → ${chName}: ${r.error}`);
          }
        }
      }
      // The next digest reports changes from here on, once today's went out everywhere. A second
      // run on the same day sends nothing new and leaves the window of tomorrow's digest alone.
      if (allDone && !(counts.sent === 0 && counts.alreadySent > 0)) await store.jobs.setJobCursor(DIGEST_CURSOR, String(head));
    } finally {
      for (const ch of notifier.channels) await ch.close?.().catch(() => undefined);
    }
    return { counts, problems };
  },
});
