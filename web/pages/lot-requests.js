// "Request a missing document" on the lot page: the open requests to partners for this lot and,
// for Ops and QA, a form that asks the partner (its contacts are notified by e-mail / Teams).

import { api, ApiFailure } from '../api.js';
import { app } from '../app.js';
import { clear, h, section, table, toast, when } from '../dom.js';

export async function requestsSection(lotId, missing, partners) {
  let items;
  try {
    items = (await api(`/api/v1/lots/${lotId}/requests?all=true`)).items;
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 404) return null;
    throw e;
  }
  const rows = h('tbody');
  const render = (list) => clear(rows, list.length ? list.map((r) => h('tr', { dataset: { request: r.id, state: r.state } }, h('td', r.documentType), h('td', r.partner), h('td', r.message), h('td', r.requestedBy, ' ', when(r.requestedAt)), h('td', r.state))) : h('tr', h('td.muted', { colspan: 5 }, 'No document requested.')));
  render(items);
  let form = null;
  if (app.can('documents:request')) {
    const types = [...new Set([...missing, 'coa', 'batch_record'])];
    form = h('form.filters.noprint#request-doc', { 'aria-label': 'Request a missing document' },
      h('div.field', h('label', { for: 'rq-type' }, 'Document'), h('select', { id: 'rq-type', name: 'documentType' }, types.map((t) => h('option', { value: t }, `${t}${missing.includes(t) ? ' (missing)' : ''}`)))),
      h('div.field', h('label', { for: 'rq-partner' }, 'Partner'), h('select', { id: 'rq-partner', name: 'partner' }, h('option', { value: '' }, 'the one that reported on the lot'), partners.map((p) => h('option', { value: p }, p)))),
      h('div.field', h('label', { for: 'rq-message' }, 'Message to the partner'), h('input', { id: 'rq-message', name: 'message', required: true, maxlength: 2000, size: 40 })),
      h('div.actions', h('button.primary', { type: 'submit' }, 'Request document')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const e = form.elements;
      try {
        const r = await api(`/api/v1/lots/${lotId}/requests`, { method: 'POST', body: { documentType: e.documentType.value, message: e.message.value.trim(), ...(e.partner.value ? { partner: e.partner.value } : {}) } });
        toast(`Requested ${r.documentType} from ${r.partner}`);
        form.reset();
        render((await api(`/api/v1/lots/${lotId}/requests?all=true`)).items);
      } catch (err) {
        toast(`${err.code ?? ''} ${err.message}`, true);
      }
    });
  }
  return section('Documents requested from partners', form, h('div.scroll', h('table.requests', h('thead', h('tr', ['Document', 'Partner', 'Message', 'Requested', 'State'].map((x) => h('th', { scope: 'col' }, x)))), rows)));
}
