// The board: lots in the user's scope, filters kept in the URL (shareable, back button works),
// counts per state, role-default views, polling for live updates, CSV/XLSX export of the view.

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { badge, clear, day, h, recomputingBadge, whenShort } from '../dom.js';

const STATES = ['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED'];
/** URL parameter → API filter (the same names). */
export const FILTER_KEYS = ['readiness', 'late', 'partner', 'site', 'material', 'po', 'expiryFrom', 'expiryTo', 'openDeviation', 'missingDoc', 'oos', 'q'];
const PAGE = 100;
const COLUMNS = ['Lot / material', 'Site', 'Partner', 'PO', 'State and first reason', 'Late / due', 'Expiry', 'Last evidence', 'Deviations', 'Documents', 'Pushed to', 'Signed'];

/** The views each role starts with (the first preset of the user's first matching role). */
export const VIEWS = [
  { id: 'ops-blocked', label: 'Blocked and not ready', roles: ['ops'], params: { readiness: 'BLOCKED,NOT_READY' } },
  { id: 'ops-late', label: 'Late', roles: ['ops'], params: { late: 'true' } },
  { id: 'qa-disposition', label: 'Awaiting disposition (ready / conditional)', roles: ['qa'], params: { readiness: 'READY,CONDITIONAL' } },
  { id: 'qa-oos', label: 'Out of specification', roles: ['qa'], params: { oos: 'true' } },
  { id: 'recv-coa', label: 'CoA missing', roles: ['receiving'], params: { missingDoc: 'coa' } },
  { id: 'all', label: 'All lots', roles: null, params: {} },
];

function filtersFromUrl() {
  const u = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTER_KEYS) if (u.get(k)) f[k] = u.get(k);
  return f;
}

function defaultView() {
  const roles = app.session.principal.roles.map((r) => r.role);
  return VIEWS.find((v) => v.roles && v.roles.some((r) => roles.includes(r))) ?? null;
}

const select = (id, label, options, value) =>
  h('div.field', h('label', { for: id }, label), h('select', { id, name: id }, options.map(([v, t]) => h('option', { value: v, selected: v === (value ?? '') }, t))));
const input = (id, label, value, attrs = {}) => h('div.field', h('label', { for: id }, label), h('input', { id, name: id, value: value ?? '', ...attrs }));
const yesNo = [['', 'any'], ['true', 'yes'], ['false', 'no']];

export async function boardPage(main) {
  document.title = 'Board · lotgate';
  const u = new URLSearchParams(location.search);
  if (![...u.keys()].length) {
    const v = defaultView();
    if (v && Object.keys(v.params).length) return app.navigate(`/lots${qs({ ...v.params, view: v.id })}`, true);
  }
  const f = filtersFromUrl();
  const partners = app.can('partners:read') ? (await api('/api/v1/partners')).items : [];
  const readinessSet = new Set((f.readiness ?? '').split(',').filter(Boolean));

  const form = h(
    'form.filters#filters',
    { role: 'search', 'aria-label': 'Filter lots' },
    h('div.field.grow', h('label', { for: 'q' }, 'Search'), h('div.search', h('input', { id: 'q', name: 'q', type: 'search', value: f.q ?? '', placeholder: 'lot, material, PO' }), h('button', { type: 'submit' }, 'Search'))),
    h(
      'fieldset.states',
      h('legend', 'State'),
      STATES.map((s) => h('label.check', h('input', { type: 'checkbox', name: 'readiness', value: s, checked: readinessSet.has(s) }), s.replace('_', ' '))),
    ),
    select('late', 'Late', yesNo, f.late),
    partners.length
      ? select('partner', 'Partner', [['', 'any'], ...partners.map((p) => [p.id, p.name ?? p.id])], f.partner)
      : input('partner', 'Partner', f.partner, { size: 10 }),
    input('site', 'Site', f.site, { size: 6 }),
    input('material', 'Material', f.material, { size: 12 }),
    input('po', 'PO', f.po, { size: 10 }),
    input('expiryFrom', 'Expiry from', f.expiryFrom, { type: 'date' }),
    input('expiryTo', 'Expiry to', f.expiryTo, { type: 'date' }),
    select('openDeviation', 'Open deviation', yesNo, f.openDeviation),
    select('missingDoc', 'Missing document', [['', 'any'], ['coa', 'CoA'], ['batch_record', 'batch record'], ['packaging_record', 'packaging record'], ['test_report', 'test report'], ['label_approval', 'label approval']], f.missingDoc),
    select('oos', 'OOS', yesNo, f.oos),
    h('div.field', h('span.label', '\u00a0'), h('a.button#clear-filters', { href: '/lots?view=all' }, 'Clear')),
  );
  const apply = () => {
    const fd = new FormData(form);
    const next = {};
    for (const k of FILTER_KEYS) {
      if (k === 'readiness') next.readiness = fd.getAll('readiness').join(',');
      else next[k] = String(fd.get(k) ?? '').trim();
    }
    app.navigate(`/lots${qs(next) || '?view=all'}`);
  };
  form.addEventListener('change', (ev) => {
    if (ev.target.name !== 'q') apply();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });

  const views = h(
    'nav.views',
    { 'aria-label': 'Views' },
    VIEWS.filter((v) => !v.roles || v.roles.some((r) => app.session.principal.roles.some((b) => b.role === r))).map((v) =>
      h('a.chip', { href: `/lots${qs({ ...v.params, view: v.id })}`, 'aria-current': u.get('view') === v.id ? 'true' : null }, v.label),
    ),
  );
  const counts = h('div.counts#counts', { 'aria-live': 'polite' });
  const exports = h('div.exports');
  if (app.can('lots:export')) {
    exports.append(
      h('a.button#export-csv', { href: `/api/v1/lots${qs({ ...f, format: 'csv' })}`, download: 'lots.csv' }, 'Export CSV'),
      h('a.button#export-xlsx', { href: `/api/v1/lots/export.xlsx${qs(f)}`, download: 'lots.xlsx' }, 'Export XLSX'),
    );
  }
  const tbody = h('tbody#lot-rows');
  const more = h('div.more');
  const lotTable = h(
    'table.lots#lots',
    h('caption.sr-only', 'Lots'),
    h('thead', h('tr', COLUMNS.map((x) => h('th', { scope: 'col' }, x)))),
    tbody,
  );
  clear(main, h('div.board-head', h('h1', 'Lots'), views, exports), form, counts, h('div.scroll', lotTable), more);

  let last = '';
  async function load(cursor) {
    const page = await api(`/api/v1/lots${qs({ ...f, limit: PAGE, cursor })}`);
    const extras = page.items.length ? (await api(`/api/v1/lots/extras?ids=${page.items.map((l) => l.lotId).join(',')}`)).items : [];
    const byId = new Map(extras.map((x) => [x.lotId, x]));
    const rows = page.items.map((l) => lotRow(l, byId.get(l.lotId)));
    if (cursor) tbody.append(...rows);
    else {
      const sig = JSON.stringify([page, extras]);
      if (sig === last) return;
      last = sig;
      clear(tbody, rows.length ? rows : h('tr', h('td.muted', { colspan: COLUMNS.length }, 'No lots match these filters.')));
    }
    clear(more, page.nextCursor ? h('button', { type: 'button', onclick: () => load(page.nextCursor) }, `Show more (${page.total - tbody.children.length} left)`) : null);
  }
  async function loadCounts() {
    const others = { ...f };
    delete others.readiness;
    const [total, ...per] = await Promise.all([
      api(`/api/v1/lots${qs({ ...f, limit: 1 })}`),
      ...STATES.map((s) => api(`/api/v1/lots${qs({ ...others, readiness: s, limit: 1 })}`)),
    ]);
    clear(
      counts,
      h('strong#total', `${total.total} lot${total.total === 1 ? '' : 's'}`),
      STATES.map((s, i) => h('a.chip', { href: `/lots${qs({ ...others, readiness: s })}`, dataset: { state: s } }, badge(s), ' ', h('span.n', String(per[i].total)))),
    );
  }
  await Promise.all([load(), loadCounts()]);

  // Live update: poll the API while the page is open (no reload, the filters stay).
  const every = window.__lotgatePollMs ?? 20_000;
  const timer = setInterval(() => {
    if (document.visibilityState !== 'visible' || tbody.children.length > PAGE) return;
    Promise.all([load(), loadCounts()]).catch(() => {});
  }, every);
  app.cleanup.push(() => clearInterval(timer));
}

const PUSH_STATE = { sent: '✔', pending: '…', dead: '✘', held: '⏸' };

function pushCell(x) {
  if (!x?.pushes.length) return h('span.muted', '—');
  return x.pushes.map((p) =>
    h(
      'div.push',
      { title: `${p.topic}: message ${p.state}` },
      p.connectors.length
        ? p.connectors.map((c) => h(`span.p-${c.state}`, { title: c.lastError ?? c.sentAt ?? '' }, `${PUSH_STATE[c.state] ?? c.state}\u00a0${c.connector} `))
        : h(`span.p-${p.state}`, `${PUSH_STATE[p.state] ?? p.state} ${p.topic.split('.')[0]}`),
    ),
  );
}

function lotRow(l, x) {
  const r = l.readiness;
  const first = r?.reasons?.[0];
  const missing = x ? x.documents.need.filter((t) => !x.documents.have.includes(t)) : [];
  return h(
    'tr',
    { dataset: { lot: l.lotNumber, state: r?.state ?? '' } },
    h('th', { scope: 'row' }, h('a', { href: `/lots/${l.lotId}` }, l.lotNumber), h('div', h('small', l.materialId)), h('small.muted', l.materialDescription ?? '')),
    h('td', l.site ?? ''),
    h('td', l.vendor ?? ''),
    h('td', l.poNumber ?? (x?.po ? [h('div', x.po.poNumber), h('small.muted', `item ${x.po.poItem}`)] : '')),
    h('td', h('span', { title: r?.computedAt ? `evaluated ${new Date(r.computedAt).toLocaleString()}` : '' }, badge(r?.state)), recomputingBadge(l), first ? h('div.reason', { title: first.message }, h('code', first.code), ' ', first.message) : null, r?.reasons?.length > 1 ? h('small.muted', `+${r.reasons.length - 1} more`) : null),
    h('td', r?.late ? h('div.late', 'late') : null, x?.po?.dueDate ? h('small', 'due ', day(x.po.dueDate)) : ''),
    h('td', day(l.expiryDate)),
    h('td', x ? whenShort(x.lastEvidenceAt) : ''),
    h('td.dev', x ? (x.deviations.open ? h('span.late', `${x.deviations.open} open`) : '') : '', x?.deviations.total ? h('div.muted', `${x.deviations.total} total`) : ''),
    h('td.docs', x ? h('span', { title: `have: ${x.documents.have.join(', ') || 'none'}; need: ${x.documents.need.join(', ') || 'none'}` }, `${x.documents.need.length - missing.length}/${x.documents.need.length}`) : '', missing.length ? h('div.late', `missing ${missing.join(', ')}`) : ''),
    h('td', pushCell(x)),
    h('td', x?.signature ? [h('div', x.signature.decision, x.signature.valid ? '' : ' (invalidated)'), h('small.muted', x.signature.printedName)] : ''),
  );
}
