// The partner portal: upload files in the browser (the same intake as SFTP and the API), see the
// acknowledgment and the row errors at once, and the partner's own submissions.

import { api } from '../api.js';
import { app } from '../app.js';
import { clear, h, section } from '../dom.js';
import { ackView, stateBadge, SUBMISSION_HEADERS, submissionRow } from './submissions.js';

const FINAL = new Set(['applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined', 'pending_review']);

/** Waits for intake to finish the submission (polls its acknowledgment). */
async function ackWhenDone(id, deadlineMs = 60_000) {
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
    h('p', 'Choose the files you would otherwise put on the SFTP server. Each one is checked with your mapping as soon as it arrives; the result appears below.'),
    h('div.field', h('label', { for: 'files' }, 'Files'), h('input', { id: 'files', name: 'files', type: 'file', multiple: true, required: true })),
    err,
    h('button.primary', { type: 'submit' }, 'Upload'),
  );
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
  clear(main, form, results, section('Your latest submissions', h('div.scroll', h('table#own-submissions', h('thead', h('tr', SUBMISSION_HEADERS.map((x) => h('th', { scope: 'col' }, x)))), own))));
  await loadOwn();
}
