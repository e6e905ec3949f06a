// The partner portal: upload files in the browser (the same intake as SFTP and the API), see the
// acknowledgment and the row errors at once, and the partner's own submissions.

import { api } from '../api.js';
import { app } from '../app.js';
import { clear, h, section, table } from '../dom.js';
import { guidedForms } from './portal-forms.js';
import { ackView, stateBadge, SUBMISSION_HEADERS, submissionRow } from './submissions.js';

const FINAL = new Set(['applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined', 'pending_review']);

/** Waits for intake to finish the submission (polls its acknowledgment). */
export async function ackWhenDone(id, deadlineMs = 60_000) {
  const until = Date.now() + deadlineMs;
  let ack = await api(`/api/v1/submissions/${id}/ack`);
  while (!FINAL.has(ack.state) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 700));
    ack = await api(`/api/v1/submissions/${id}/ack`);
  }
  return ack;
}

export async function portalPage(main) {
  document.title = 'Upload · lotgate';
  const partner = app.session.principal.partner;
  const results = h('div#upload-results', { 'aria-live': 'polite' });
  const err = h('p.error', { role: 'alert' });
  const form = h(
    'form.card#upload-form',
    h('h1', 'Send files', partner ? ` for ${partner}` : ''),
    h('p', 'Choose the files you would otherwise put on the SFTP server. "Check before sending" runs your mapping on them without sending anything; "Upload" sends them, and the acknowledgment appears below.'),
    h('div.field', h('label', { for: 'files' }, 'Files'), h('input', { id: 'files', name: 'files', type: 'file', multiple: true, required: true })),
    err,
    h('div.actions', h('button#check', { type: 'button', onclick: () => check() }, 'Check before sending'), h('button.primary', { type: 'submit' }, 'Upload')),
  );
  // Check before submit: the partner's mapping runs on each file as a dry run; nothing is stored.
  async function check() {
    err.textContent = '';
    const files = [...form.elements.files.files];
    if (!files.length) {
      err.textContent = 'Choose at least one file.';
      return;
    }
    for (const file of files) {
      const box = h('section.card.file-check', h('h2', `Check: ${file.name}`), h('p.muted', 'Checking…'));
      results.prepend(box);
      try {
        const body = new FormData();
        body.append('file', file, file.name);
        const r = await api('/api/v1/submissions/check', { method: 'POST', body });
        clear(
          box,
          h('h2', `Check: ${file.name}`),
          h(
            'div.check-result',
            { dataset: { errors: r.counts.errors } },
            h('p', r.counts.errors ? h('strong.late', `${r.counts.errors} row problem${r.counts.errors === 1 ? '' : 's'}`) : h('strong.r-pass', 'No problems found'), ` — ${r.counts.rows} rows, checked with your mapping ${r.mapping.name}. Nothing was sent yet.`),
            r.errors.length
              ? table(['Line', 'Column', 'Field', 'Code', 'What is wrong'], r.errors.map((e) => h('tr', h('td.num', e.line ?? ''), h('td', e.column ?? ''), h('td', e.field ?? ''), h('td', h('code', e.code)), h('td', e.message))), { cls: 'errors', caption: 'Fix these rows, then check again or upload' })
              : h('p', 'Upload when ready. Checks that need lotgate\'s data (for example an unknown lot) come with the acknowledgment.'),
          ),
        );
      } catch (e) {
        clear(box, h('h2', `Check: ${file.name}`), h('p.error', `${e.code ?? ''} ${e.message}`));
      }
    }
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const files = [...form.elements.files.files];
    if (!files.length) {
      err.textContent = 'Choose at least one file.';
      return;
    }
    for (const file of files) {
      const box = h('section.card.upload', h('h2', file.name), h('p.muted', 'Uploading…'));
      results.prepend(box);
      try {
        const body = new FormData();
        body.append('file', file, file.name);
        const r = await api('/api/v1/submissions', { method: 'POST', body });
        clear(box, h('h2', file.name), h('p.muted', `Received as submission ${r.submissionId}; checking…`));
        const ack = await ackWhenDone(r.submissionId);
        clear(box, h('h2', file.name), ackView(ack), h('p', h('a', { href: `/submissions/${r.submissionId}` }, 'Details')));
      } catch (e) {
        clear(box, h('h2', file.name), h('p.error', `${e.code ?? ''} ${e.message}`));
      }
    }
    form.reset();
    loadOwn();
  });
  const own = h('tbody');
  async function loadOwn() {
    const page = await api('/api/v1/submissions?limit=20');
    clear(own, page.items.length ? page.items.map(submissionRow) : h('tr', h('td.muted', { colspan: 9 }, 'Nothing sent yet.')));
  }
  const onSubmitted = () => loadOwn();
  document.addEventListener('lotgate:submitted', onSubmitted);
  app.cleanup.push(() => document.removeEventListener('lotgate:submitted', onSubmitted));
  clear(main, form, results, ...(await guidedForms(results)), section('Your latest submissions', h('div.scroll', h('table#own-submissions', h('thead', h('tr', SUBMISSION_HEADERS.map((x) => h('th', { scope: 'col' }, x)))), own))));
  await loadOwn();
}
