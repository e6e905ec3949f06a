// Mappings (analysts): a partner's mapping files read-only, and `mapping test` on a sample file —
// the records it would produce and the row errors, nothing stored.

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { clear, h, section, table } from '../dom.js';

export async function mappingsPage(main, partnerId) {
  document.title = 'Mappings · lotgate';
  const partners = (await api('/api/v1/partners')).items;
  const pick = h('select#m-partner', { name: 'partner' }, partners.map((p) => h('option', { value: p.id, selected: p.id === partnerId || null }, p.id)));
  pick.addEventListener('change', () => app.navigate(`/mappings/${encodeURIComponent(pick.value)}`));
  const head = [h('h1', 'Mappings', partnerId ? ` of ${partnerId}` : ''), h('div.field.inline', h('label', { for: 'm-partner' }, 'Partner'), pick)];
  if (!partnerId) {
    clear(main, ...head, h('p', 'Choose a partner.'));
    if (partners[0]) app.navigate(`/mappings/${encodeURIComponent(partners[0].id)}`, true);
    return;
  }
  const data = await api(`/api/v1/mappings/${encodeURIComponent(partnerId)}`);
  const result = h('div#test-result', { 'aria-live': 'polite' });
  const form = h('form#mapping-test',
    h('p', 'Choose a sample file: the feed is chosen by its name, as for a real file. Nothing is stored.'),
    h('div.field', h('label', { for: 'sample' }, 'Sample file to test'), h('input', { id: 'sample', name: 'sample', type: 'file', required: true })),
    h('div.actions', h('button.primary', { type: 'submit' }, 'Test mapping')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = form.elements.sample.files[0];
    if (!file) return;
    clear(result, h('p.muted', 'Testing…'));
    try {
      const r = await api(`/api/v1/mappings/${encodeURIComponent(partnerId)}/test${qs({ limit: 20 })}`, { method: 'POST', body: await file.arrayBuffer(), headers: { 'content-type': 'application/octet-stream', 'x-file-name': file.name } });
      clear(result,
        h('div.test-counts', { dataset: { rows: r.counts.rows, errors: r.counts.errors, records: r.counts.records } },
          h('p', `${file.name}: mapping ${r.mapping.name} — ${r.counts.rows} rows, ${r.counts.applied} applied, ${r.counts.rejected} rejected, ${r.counts.filtered} filtered; ${r.counts.records} records.`)),
        r.errors.length ? table(['Line', 'Column', 'Field', 'Code', 'What is wrong'], r.errors.map((e) => h('tr', h('td.num', e.line ?? ''), h('td', e.column ?? ''), h('td', e.field ?? ''), h('td', h('code', e.code)), h('td', e.message))), { cls: 'errors', caption: 'Row errors' }) : h('p', 'No row errors.'),
        r.records.length ? h('details', h('summary', `First ${r.records.length} records`), h('pre.json', JSON.stringify(r.records, null, 2))) : null,
      );
    } catch (e) {
      clear(result, h('p.error', { role: 'alert' }, `${e.code ?? ''} ${e.message}`));
    }
  });
  clear(main, ...head,
    section('Mapping test', form, result),
    ...data.items.map((m) => h('section.card.mapping', { 'aria-labelledby': `map-${m.feed}`, dataset: { feed: m.feed } },
      h('h2', { id: `map-${m.feed}` }, `${m.feed}`, m.valid ? '' : ' — has errors'),
      h('p', m.description ?? '', ' ', h('span.muted', `format ${m.format ?? '?'} · version ${m.version ?? '?'} · accepts ${m.match.join(', ')} · emits ${m.emits.join(', ')}`)),
      h('p.muted', 'sha256 ', h('code', m.hash)),
      m.diagnostics.length ? h('ul.late', m.diagnostics.map((d) => h('li', d))) : null,
      h('details', h('summary', 'YAML'), h('pre.yaml', { tabindex: '0' }, m.source)))));
}
