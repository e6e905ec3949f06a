// Audit (auditors): the hash-chained audit trail — verify the chain and the signatures, the head
// to keep elsewhere, and a search by subject, actor, action and time (GET /api/v1/audit).

import { api, ApiFailure, qs } from '../api.js';
import { app } from '../app.js';
import { clear, h, section, table, when } from '../dom.js';

const FILTERS = [
  ['subject', 'Subject (e.g. lot:000000000010012345/NW26-0411, submission:12)'],
  ['actor', 'Actor (e.g. principal:3, system)'],
  ['action', 'Action or its prefix (e.g. outbox.hold, auth.)'],
  ['from', 'From (your local time)'],
  ['to', 'Until (your local time)'],
];

const cut = (s) => (s.length > 160 ? `${s.slice(0, 157)}…` : s);

export async function auditPage(main) {
  document.title = 'Audit · lotgate';
  const u = new URLSearchParams(location.search);
  const [verify, head] = await Promise.all([api('/api/v1/audit/verify'), api('/api/v1/audit/head')]);
  const form = h('form.filters#audit-search',
    FILTERS.map(([k, label]) => h('div.field', h('label', { for: `a-${k}` }, label), h('input', { id: `a-${k}`, name: k, value: u.get(k) ?? '', type: k === 'from' || k === 'to' ? 'datetime-local' : 'search' }))),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = {};
    for (const [k] of FILTERS) q[k] = form.elements[k].value.trim();
    app.navigate(`/audit${qs(q)}`);
  });
  let results;
  const filters = Object.fromEntries(FILTERS.map(([k]) => [k, u.get(k) ?? '']));
  try {
    const iso = (v) => (v ? new Date(v).toISOString() : '');
    const page = await api(`/api/v1/audit${qs({ ...filters, from: iso(filters.from), to: iso(filters.to), limit: 200 })}`);
    results = table(['#', 'Time', 'Actor', 'Action', 'Subject', 'Details'],
      page.items.map((e) => h('tr', { dataset: { seq: e.seq, action: e.action } }, h('td.num', e.seq), h('td', when(e.at)), h('td', e.actor), h('td', h('code', e.action)), h('td', e.subject ?? ''), h('td', h('code.details', { title: JSON.stringify(e.details ?? {}) }, cut(JSON.stringify(e.details ?? {})))))),
      { cls: 'audit', empty: 'No audit events match.', label: 'Audit events' });
  } catch (e) {
    if (!(e instanceof ApiFailure) || e.status !== 404) throw e;
    results = h('p.muted', 'Search is not available on this server version; use `lotgate audit` on the server.');
  }
  clear(main,
    h('h1', 'Audit trail'),
    section('Chain',
      h('p#audit-verify', { dataset: { ok: String(verify.ok) } },
        verify.ok ? h('strong.r-pass', `Audit chain verified: ${verify.count} events`) : h('strong.late', `Audit chain BROKEN at event ${verify.brokenAt}: ${verify.reason}`),
        verify.signatures ? ` · ${verify.signatures.checked} signatures checked${verify.signatures.bad?.length ? `, ${verify.signatures.bad.length} bad` : ', all intact'}` : ''),
      h('p#audit-head', 'Head: event ', h('strong', String(head.seq)), ', hash ', h('code', head.hash ?? ''), h('br'), h('small.muted', 'Keep this pair outside lotgate (e.g. in a ticket) to detect a truncated trail later.'))),
    section('Search', form, results));
}
