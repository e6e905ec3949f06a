// Guided forms of the partner portal (for partners with no export): per feed, the form its
// mapping implies, with the lot picked from the partner's own open lots; and which of those lots
// wait on what. The server builds the file and sends it through the same intake as uploads.

import { api, ApiFailure } from '../api.js';
import { clear, h, section, table } from '../dom.js';
import { ackWhenDone } from './portal.js';
import { ackView } from './submissions.js';

const EMITS = { stage_event: 'stage milestone', deviation: 'deviation', document: 'document upload', lot: 'lot data', test_result: 'test result' };

function inputFor(form, i, lots, id) {
  const common = { id, name: i.name, required: i.required || null, 'aria-describedby': `${id}-hint` };
  if (i.kind === 'lot') {
    return h('select', common, h('option', { value: '' }, '— choose one of your lots —'), lots.flatMap((l) => l.batches.map((b) => h('option', { value: b.value }, `${b.value} — lot ${l.lotNumber} (${l.materialId})`))));
  }
  if (i.kind === 'select') return h('select', common, h('option', { value: '' }, '—'), (i.options ?? []).map((o) => h('option', { value: o }, o)));
  const type = { datetime: 'datetime-local', date: 'date', integer: 'number' }[i.kind] ?? 'text';
  return h('input', { ...common, type, inputmode: i.kind === 'decimal' ? 'decimal' : null });
}

function hintOf(form, i) {
  const parts = [];
  if (i.fields.length) parts.push(`lotgate field ${i.fields.join(', ')}`);
  if (i.kind === 'datetime' || i.kind === 'date') parts.push(`your local time in ${i.tz}`);
  if (i.kind === 'decimal') parts.push('a number, "." for decimals');
  if (i.kind === 'list') parts.push('several separated by ","');
  if (form.file && i.kind !== 'lot') parts.push('may be left empty when the others give it');
  if (i.required) parts.push('required');
  return parts.join(' · ');
}

function formCard(form, lots, results) {
  const id = (n) => `f-${form.feed}-${n}`.replace(/[^\w-]/g, '_');
  const err = h('div.form-problems', { role: 'alert' });
  const el = h(
    'form.guided',
    { dataset: { feed: form.feed }, 'aria-labelledby': id('title') },
    h('h3', { id: id('title') }, `${form.emits.map((e) => EMITS[e] ?? e).join(' + ')} (${form.feed})`),
    form.description ? h('p.muted', form.description) : null,
    form.inputs.map((i, n) =>
      h('div.field', h('label', { for: id(n) }, i.label, i.required ? ' *' : ''), inputFor(form, i, lots, id(n)), h('small.muted', { id: `${id(n)}-hint` }, hintOf(form, i))),
    ),
    form.file ? h('div.field', h('label', { for: id('file') }, 'Document (PDF)'), h('input', { id: id('file'), name: 'file', type: 'file', accept: '.pdf,application/pdf', required: true })) : null,
    err,
    h('div.actions', h('button.primary', { type: 'submit' }, 'Send')),
  );
  el.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(err);
    for (const x of el.querySelectorAll('[aria-invalid]')) x.removeAttribute('aria-invalid');
    const body = new FormData(el);
    const box = h('section.card.form-result', h('h2', `Form: ${form.feed}`), h('p.muted', 'Sending…'));
    try {
      const r = await api(`/api/v1/portal/forms/${encodeURIComponent(form.feed)}`, { method: 'POST', body });
      results.prepend(box);
      clear(box, h('h2', `Form: ${form.feed}`), h('p.muted', `Sent as ${r.file}, submission ${r.submissionId}; checking…`));
      const ack = await ackWhenDone(r.submissionId);
      clear(box, h('h2', `Form: ${form.feed} — ${r.file}`), ackView(ack), h('p', h('a', { href: `/submissions/${r.submissionId}` }, 'Details')));
      el.reset();
      document.dispatchEvent(new CustomEvent('lotgate:submitted', { detail: r.submissionId }));
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e;
      const problems = e.body?.problems ?? [{ input: '', code: e.code, message: e.message }];
      clear(err, h('p.error', 'Not sent — please correct:'), h('ul', problems.map((p) => h('li', h('code', p.code), ' ', p.message))));
      for (const p of problems) {
        const n = form.inputs.findIndex((i) => i.name === p.input);
        const input = n >= 0 ? el.querySelector(`#${id(n)}`) : p.input === 'file' ? el.querySelector(`#${id('file')}`) : null;
        input?.setAttribute('aria-invalid', 'true');
      }
    }
  });
  return el;
}

export async function guidedForms(results) {
  const data = await api('/api/v1/portal/forms');
  const usable = data.forms.filter((f) => !f.none);
  const waiting = data.lots.filter((l) => l.waiting.length);
  const lotsCard = section(
    'Your lots waiting on you',
    table(
      ['Lot', 'Material', 'Your batch', 'Waiting on'],
      waiting.map((l) => h('tr', { dataset: { lot: l.lotNumber } }, h('td', l.lotNumber), h('td', l.materialId), h('td', l.batches.map((b) => b.value).join(', ')), h('td', h('ul.plain', l.waiting.map((x) => h('li', { dataset: { kind: x.kind } }, x.message)))))),
      { cls: 'waiting', empty: 'Nothing: every open lot of yours has what lotgate needs from you.' },
    ),
  );
  const formsCard = section(
    'Fill in a form instead of a file',
    h('p', 'No export? Fill in a form: lotgate turns it into a file of your feed and checks it with your mapping, exactly like an upload. You get the same acknowledgment.'),
    usable.length ? usable.map((f) => formCard(f, data.lots, results)) : h('p.muted', 'Your feeds have no forms.'),
  );
  return [lotsCard, formsCard];
}
