// Operations: lots per state, the outbox (unscoped readers), recent job runs, the partners and
// their modes — the morning check before trucks are booked.

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { badge, clear, h, section, table, toast, when } from '../dom.js';

export async function opsPage(main) {
  document.title = 'Operations · lotgate';
  const u = new URLSearchParams(location.search);
  const outboxState = u.get('outbox') ?? '';
  const [status, jobs, partners, outboxList] = await Promise.all([
    api('/api/v1/status'),
    app.can('jobs:read') ? api('/api/v1/jobs?limit=30') : null,
    app.can('partners:read') ? api('/api/v1/partners') : null,
    // The outbox covers every site: only unscoped Ops and auditors read it.
    app.can('outbox:read') ? api(`/api/v1/outbox${qs({ state: outboxState, limit: 50 })}`).catch(() => null) : null,
  ]);
  const outboxSection = outboxList
    ? section(
        'Outbox to ERP / QMS',
        h(
          'nav.views',
          { 'aria-label': 'Outbox state' },
          [['', 'all'], ['pending', 'pending'], ['dead', 'dead'], ['held', 'held'], ['sent', 'sent']].map(([v, t]) =>
            h('a.chip', { href: `/ops${qs({ outbox: v })}`, 'aria-current': outboxState === v ? 'true' : null }, `${t}${v && outboxList.counts?.[v] !== undefined ? ` (${outboxList.counts[v]})` : ''}`),
          ),
        ),
        table(
          ['Message', 'Topic', 'Key', 'State', 'Deliveries', 'Created', 'Action'],
          outboxList.items.map((m) =>
            h(
              'tr',
              { dataset: { message: m.id, state: m.state } },
              h('th', { scope: 'row' }, h('code', `${m.id.slice(0, 12)}…`)),
              h('td', m.topic),
              h('td', m.key),
              h('td', m.state, m.lastError ? h('div.late', m.lastError) : null),
              h('td', m.deliveries.length ? m.deliveries.map((d) => h(`div.p-${d.state}`, `${d.connector}: ${d.state}${d.attempts ? ` (${d.attempts} tries)` : ''}`)) : h('span.muted', 'not tried yet')),
              h('td', when(m.createdAt)),
              h('td', m.state === 'dead' && app.can('outbox:manage')
                ? h('button', { type: 'button', onclick: async () => {
                    try {
                      await api(`/api/v1/outbox/${encodeURIComponent(m.id)}/retry`, { method: 'POST' });
                      toast('Message queued again');
                      app.navigate(location.pathname + location.search, true);
                    } catch (e) {
                      toast(e.message, true);
                    }
                  } }, 'Retry')
                : ''),
            ),
          ),
          { empty: 'No messages.' },
        ),
      )
    : null;
  const states = Object.entries(status.lots).map(([s, n]) => h('a.chip', { href: `/lots?readiness=${s}`, dataset: { state: s } }, badge(s), ' ', h('span.n', String(n))));
  const outbox = status.outboxPending !== undefined
    ? h('p#outbox', `Outbox: ${status.outboxPending} message(s) waiting, `, status.outboxDead ? h('strong.late', `${status.outboxDead} dead`) : '0 dead', ` · ${status.submissions} submissions · ${status.auditEvents} audit events`)
    : null;
  clear(
    main,
    h('h1', 'Operations'),
    section('Lots', h('div.counts', h('strong', `${status.lotsTotal} lots`), states), outbox, h('p', h('a', { href: '/lots?late=true' }, 'Late lots'), ' · ', h('a', { href: '/exceptions' }, 'Exceptions'))),
    outboxSection,
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
