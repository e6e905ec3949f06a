// Operations: lots per state, the outbox (unscoped readers), recent job runs, the partners and
// their modes — the morning check before trucks are booked.

import { api } from '../api.js';
import { app } from '../app.js';
import { badge, clear, h, section, table, when } from '../dom.js';

export async function opsPage(main) {
  document.title = 'Operations · lotgate';
  const [status, jobs, partners] = await Promise.all([
    api('/api/v1/status'),
    app.can('jobs:read') ? api('/api/v1/jobs?limit=30') : null,
    app.can('partners:read') ? api('/api/v1/partners') : null,
  ]);
  const states = Object.entries(status.lots).map(([s, n]) => h('a.chip', { href: `/lots?readiness=${s}`, dataset: { state: s } }, badge(s), ' ', h('span.n', String(n))));
  const outbox = status.outboxPending !== undefined
    ? h('p#outbox', `Outbox: ${status.outboxPending} message(s) waiting, `, status.outboxDead ? h('strong.late', `${status.outboxDead} dead`) : '0 dead', ` · ${status.submissions} submissions · ${status.auditEvents} audit events`)
    : null;
  clear(
    main,
    h('h1', 'Operations'),
    section('Lots', h('div.counts', h('strong', `${status.lotsTotal} lots`), states), outbox, h('p', h('a', { href: '/lots?late=true' }, 'Late lots'), ' · ', h('a', { href: '/exceptions' }, 'Exceptions'))),
    jobs
      ? section(
          'Recent job runs',
          table(
            ['Job', 'Started', 'Finished', 'Status', 'Error'],
            jobs.items.map((j) => h('tr', { dataset: { job: j.name } }, h('th', { scope: 'row' }, j.name), h('td', when(j.startedAt)), h('td', when(j.finishedAt)), h('td', j.status), h('td', j.error ?? ''))),
            { empty: 'No job has run yet.' },
          ),
        )
      : null,
    partners
      ? section(
          'Partners',
          table(
            ['Partner', 'Name', 'Role', 'Mode', 'Feeds', 'Files'],
            partners.items.map((p) => h('tr', h('th', { scope: 'row' }, p.id), h('td', p.name ?? ''), h('td', p.role), h('td', p.mode), h('td', (p.feeds ?? []).join(', ')), h('td', app.can('submissions:read') ? h('a', { href: `/submissions?partner=${encodeURIComponent(p.id)}` }, 'submissions') : ''))),
          ),
        )
      : null,
  );
}
