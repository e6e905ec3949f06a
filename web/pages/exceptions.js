// Exceptions: what needs someone's action now — files rejected or quarantined, files applied
// with rejected rows, late lots, blocked lots — each linking to where it is resolved.

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { badge, clear, day, h, section, table } from '../dom.js';
import { SUBMISSION_HEADERS, submissionRow } from './submissions.js';

function lotsTable(items, empty) {
  return table(
    ['Lot', 'Material', 'Site', 'Partner', 'State and first reason', 'Expiry'],
    items.map((l) =>
      h(
        'tr',
        { dataset: { lot: l.lotNumber } },
        h('th', { scope: 'row' }, h('a', { href: `/lots/${l.lotId}` }, l.lotNumber)),
        h('td', l.materialId),
        h('td', l.site ?? ''),
        h('td', l.vendor ?? ''),
        h('td', badge(l.readiness?.state), l.readiness?.reasons[0] ? h('div.reason', h('code', l.readiness.reasons[0].code), ' ', l.readiness.reasons[0].message) : null),
        h('td', day(l.expiryDate)),
      ),
    ),
    { empty },
  );
}

export async function exceptionsPage(main) {
  document.title = 'Exceptions · lotgate';
  const subs = app.can('submissions:read');
  const [late, blocked, bad, partial] = await Promise.all([
    api(`/api/v1/lots${qs({ late: true, limit: 50 })}`),
    api(`/api/v1/lots${qs({ readiness: 'BLOCKED', limit: 50 })}`),
    subs ? api(`/api/v1/submissions${qs({ state: 'rejected,quarantined', limit: 50 })}`) : null,
    subs ? api(`/api/v1/submissions${qs({ state: 'applied_with_errors', limit: 50 })}`) : null,
  ]);
  const more = (page, href) => (page.nextCursor ? h('p', h('a', { href }, `All ${page.total} on the board`)) : null);
  const subTable = (page, empty) => table(SUBMISSION_HEADERS, page.items.map(submissionRow), { empty });
  clear(
    main,
    h('h1', 'Exceptions'),
    h('p.muted', 'What needs action. A rejected file is fixed by the partner sending it again (or by a mapping fix and a replay); a late lot by chasing the partner; a blocked lot by QA.'),
    section(`Late lots (${late.total})`, lotsTable(late.items, 'No late lots.'), more(late, '/lots?late=true')),
    section(`Blocked lots (${blocked.total})`, lotsTable(blocked.items, 'No blocked lots.'), more(blocked, '/lots?readiness=BLOCKED')),
    bad ? section('Rejected and quarantined files', subTable(bad, 'None.')) : null,
    partial ? section('Files applied with rejected rows', subTable(partial, 'None.')) : null,
  );
}
