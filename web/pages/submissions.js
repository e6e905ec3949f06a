// The ledger: submissions in scope with counts, one submission with its rejected rows and its
// acknowledgment; the original file and replay by permission.

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { clear, h, section, table, toast, when } from '../dom.js';
import { reviewDialog } from './sign.js';

const STATES = ['received', 'processing', 'pending_review', 'applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined'];
const KEYS = ['partner', 'state', 'q'];

export function stateBadge(s) {
  return h(`span.badge.sub-${s}`, s.replace(/_/g, ' '));
}

/** Rows not applied and not rejected: filtered out by the mapping (e.g. other products). */
export function filtered(s) {
  const n = (s.rows ?? 0) - (s.applied ?? 0) - (s.rejected ?? 0);
  return n > 0 ? n : 0;
}

export function submissionRow(s) {
  return h(
    'tr',
    { dataset: { submission: s.id, state: s.state } },
    h('th', { scope: 'row' }, h('a', { href: `/submissions/${s.id}` }, String(s.id))),
    h('td', s.partner),
    h('td', s.originalName),
    h('td', stateBadge(s.state)),
    h('td.num', s.rows ?? ''),
    h('td.num', s.applied ?? ''),
    h('td.num', s.rejected ?? ''),
    h('td.num', filtered(s)),
    h('td', when(s.receivedAt)),
  );
}

export const SUBMISSION_HEADERS = ['#', 'Partner', 'File', 'State', 'Rows', 'Applied', 'Rejected', 'Filtered', 'Received'];

export async function submissionsPage(main) {
  document.title = 'Submissions · lotgate';
  const u = new URLSearchParams(location.search);
  const f = {};
  for (const k of KEYS) if (u.get(k)) f[k] = u.get(k);
  const form = h(
    'form.filters#sub-filters',
    { role: 'search', 'aria-label': 'Filter submissions' },
    h('div.field.grow', h('label', { for: 'sq' }, 'File name'), h('input', { id: 'sq', name: 'q', type: 'search', value: f.q ?? '' })),
    h('div.field', h('label', { for: 'spartner' }, 'Partner'), h('input', { id: 'spartner', name: 'partner', value: f.partner ?? '', size: 12 })),
    h('div.field', h('label', { for: 'sstate' }, 'State'), h('select', { id: 'sstate', name: 'state' }, [['', 'any'], ...STATES.map((s) => [s, s.replace(/_/g, ' ')])].map(([v, t]) => h('option', { value: v, selected: v === (f.state ?? '') }, t)))),
    h('div.field', h('span.label', '\u00a0'), h('button', { type: 'submit' }, 'Filter')),
  );
  const apply = () => {
    const fd = new FormData(form);
    app.navigate(`/submissions${qs(Object.fromEntries(KEYS.map((k) => [k, String(fd.get(k) ?? '').trim()])))}`);
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });
  form.addEventListener('change', (ev) => {
    if (ev.target.name === 'state') apply();
  });
  const tbody = h('tbody');
  const more = h('div.more');
  async function load(before) {
    const page = await api(`/api/v1/submissions${qs({ ...f, before, limit: 100 })}`);
    tbody.append(...page.items.map(submissionRow));
    if (!before && !page.items.length) tbody.append(h('tr', h('td.muted', { colspan: 9 }, 'No submissions match.')));
    clear(more, page.nextBefore ? h('button', { type: 'button', onclick: () => load(page.nextBefore) }, 'Show older') : null);
  }
  clear(
    main,
    h('h1', 'Submissions'),
    form,
    h('div.scroll', h('table#submissions', h('caption.sr-only', 'Submissions'), h('thead', h('tr', SUBMISSION_HEADERS.map((x) => h('th', { scope: 'col' }, x)))), tbody)),
    more,
  );
  await load();
}

/** The acknowledgment as the partner reads it: state, counts, message, rejected rows. */
export function ackView(ack) {
  return h(
    'div.ack#ack',
    h('p', stateBadge(ack.state), ' ', h('strong', ack.file), ' ', h('span.muted', `submission ${ack.submissionId}`)),
    ack.message ? h('p#ack-message', ack.message) : null,
    ack.counts ? h('p.counts', `${ack.counts.rows} rows · ${ack.counts.applied} applied · ${ack.counts.rejected} rejected`) : null,
    ack.errors?.length
      ? table(
          ['Line', 'Column', 'Field', 'Code', 'What is wrong'],
          ack.errors.map((e) => h('tr', h('td.num', e.line ?? ''), h('td', e.column ?? ''), h('td', e.field ?? ''), h('td', h('code', e.code)), h('td', e.message))),
          { caption: `Rejected rows${ack.totalErrors > ack.errors.length ? ` (first ${ack.errors.length} of ${ack.totalErrors})` : ''}`, cls: 'errors' },
        )
      : null,
  );
}

export async function submissionPage(main, id) {
  const [s, ack] = await Promise.all([api(`/api/v1/submissions/${id}`), api(`/api/v1/submissions/${id}/ack`).catch(() => null)]);
  document.title = `Submission ${id} · lotgate`;
  const actions = h('div.actions');
  if (app.can('submissions:raw')) actions.append(h('a.button', { href: `/api/v1/submissions/${id}/raw`, download: s.originalName }, 'Download original'));
  if (app.can('submissions:replay')) {
    actions.append(
      h('button#replay', {
        type: 'button',
        onclick: async () => {
          try {
            const r = await api(`/api/v1/submissions/${id}/replay`, { method: 'POST' });
            toast(`Replay queued as submission ${r.submissionId}`);
            app.navigate(`/submissions/${r.submissionId}`);
          } catch (e) {
            toast(e.message, true);
          }
        },
      }, 'Replay'),
    );
  }
  if (s.state === 'pending_review' && app.can('submissions:review')) {
    actions.append(h('button.primary#review', { type: 'button', onclick: () => reviewDialog(s, () => submissionPage(main, id)) }, 'Approve or reject (signed)…'));
  }
  clear(
    main,
    h('p.crumbs', h('a', { href: '/submissions' }, '← Submissions')),
    h('h1', `Submission ${id}: `, s.originalName),
    actions,
    h(
      'dl.facts.wide',
      h('dt', 'Partner'), h('dd', s.partner),
      h('dt', 'State'), h('dd', stateBadge(s.state)),
      h('dt', 'Feed'), h('dd', s.feed ?? '—'),
      h('dt', 'Received'), h('dd', when(s.receivedAt), ` via ${s.source}`),
      h('dt', 'sha256'), h('dd', h('code.hash', s.sha256)),
      h('dt', 'Size'), h('dd', `${s.size} bytes`),
      h('dt', 'Mapping'), h('dd', s.mappingName ?? '—'),
      h('dt', 'Counts'), h('dd', `${s.rows ?? 0} rows · ${s.applied ?? 0} applied · ${s.rejected ?? 0} rejected · ${filtered(s)} filtered`),
      s.errorCode ? [h('dt', 'Error'), h('dd', h('code', s.errorCode), ' ', s.errorMessage ?? '')] : null,
      s.replayOf ? [h('dt', 'Replay of'), h('dd', h('a', { href: `/submissions/${s.replayOf}` }, String(s.replayOf)))] : null,
      s.duplicateOf ? [h('dt', 'Duplicate of'), h('dd', h('a', { href: `/submissions/${s.duplicateOf}` }, String(s.duplicateOf)))] : null,
    ),
    section(
      'Rejected rows',
      table(
        ['Line', 'Column', 'Field', 'Code', 'What is wrong'],
        s.errors.map((e) => h('tr', h('td.num', e.line ?? ''), h('td', e.column ?? ''), h('td', e.field ?? ''), h('td', h('code', e.code)), h('td', e.message))),
        { empty: 'No rejected rows.' },
      ),
      s.errorCount > s.errors.length ? h('p.muted', `${s.errorCount - s.errors.length} more not shown`) : null,
    ),
    ack ? section('Acknowledgment sent to the partner', ackView(ack)) : null,
  );
}
