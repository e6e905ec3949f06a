// Operations: lots per state, the outbox (unscoped readers), recent job runs, the partners and
// their modes — the morning check before trucks are booked.

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { badge, clear, h, section, table, toast, when } from '../dom.js';

export async function opsPage(main) {
  document.title = 'Operations · lotgate';
  const u = new URLSearchParams(location.search);
  const outboxState = u.get('outbox') ?? '';
  const onHold = outboxState === 'on-hold';
  const [status, jobs, partners, outboxList] = await Promise.all([
    api('/api/v1/status'),
    app.can('jobs:read') ? api('/api/v1/jobs?limit=30') : null,
    app.can('partners:read') ? api('/api/v1/partners') : null,
    // The outbox covers every site: only unscoped Ops and auditors read it.
    app.can('outbox:read') ? api(`/api/v1/outbox${qs(onHold ? { onHold: true, limit: 50 } : { state: outboxState, limit: 50 })}`).catch(() => null) : null,
  ]);
  const outboxSection = outboxList
    ? section(
        'Outbox to ERP / QMS',
        h(
          'nav.views',
          { 'aria-label': 'Outbox state' },
          [['', 'all'], ['pending', 'pending'], ['dead', 'dead'], ['held', 'held'], ['sent', 'sent'], ['on-hold', 'on hold by an operator']].map(([v, t]) =>
            h('a.chip', { href: `/ops${qs({ outbox: v })}`, 'aria-current': outboxState === v ? 'true' : null }, `${t}${v && outboxList.counts?.[v] !== undefined ? ` (${outboxList.counts[v]})` : v === 'on-hold' && outboxList.onHold !== undefined ? ` (${outboxList.onHold})` : ''}`),
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
              h('td', m.state, m.hold ? h('div.late', `on hold by ${m.hold.by}: ${m.hold.reason}`) : null, m.lastError ? h('div.late', m.lastError) : null),
              h('td', m.deliveries.length ? m.deliveries.map((d) => h(`div.p-${d.state}`, `${d.connector}: ${d.state}${d.attempts ? ` (${d.attempts} tries)` : ''}`)) : h('span.muted', 'not tried yet')),
              h('td', when(m.createdAt)),
              h('td', app.can('outbox:manage') ? outboxActions(m) : ''),
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

/** Retry a dead message; hold a message not yet sent, or release an operator's hold (with a reason, audited). */
function outboxActions(m) {
  const reload = () => app.navigate(location.pathname + location.search, true);
  const out = [];
  if (m.state === 'dead') {
    out.push(h('button', { type: 'button', onclick: async () => {
      try {
        await api(`/api/v1/outbox/${encodeURIComponent(m.id)}/retry`, { method: 'POST' });
        toast('Message queued again');
        reload();
      } catch (e) {
        toast(e.message, true);
      }
    } }, 'Retry'));
  }
  if (m.state !== 'sent' || m.hold) {
    const action = m.hold ? 'release' : 'hold';
    const rid = `reason-${action}-${m.id}`.replace(/[^\w-]/g, '_');
    const form = h('form.hold', { dataset: { action } },
      h('label', { for: rid }, 'Reason'), ' ', h('input', { id: rid, name: 'reason', required: true, maxlength: 1000 }), ' ',
      h('button', { type: 'submit' }, m.hold ? 'Release' : 'Hold'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api(`/api/v1/outbox/${encodeURIComponent(m.id)}/${action}`, { method: 'POST', body: { reason: form.elements.reason.value } });
        toast(m.hold ? 'Released: the next push sends it' : 'Held: the push job leaves it alone until released');
        reload();
      } catch (e) {
        toast(e.message, true);
      }
    });
    out.push(h('details', h('summary', m.hold ? 'Release…' : 'Hold…'), form));
  }
  return out;
}
