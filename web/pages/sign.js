// The signing dialog (21 CFR Part 11): the user picks the decision and its meaning, sees exactly
// the record the server will sign (lot, readiness with every reason, the evidence with each
// file's sha256, and the record hash), then signs with password — and TOTP on the first
// signature of the session — through the API's challenge/sign pair.

import { api } from '../api.js';
import { clear, h, toast } from '../dom.js';

const DECISIONS = [
  ['released', 'Release', 'release'],
  ['rejected', 'Reject', 'rejection'],
  ['quarantine', 'Quarantine', 'quarantine'],
];
const MEANINGS = ['release', 'rejection', 'quarantine', 'approval', 'review', 'responsibility'];

function evidenceRow(e) {
  const what =
    e.kind === 'test_result' ? `${e.testCode} ${e.resultRaw ?? ''} ${e.unit ?? ''} (${e.resultStatus})`
    : e.kind === 'stage_event' ? `${e.stage} ${e.status}`
    : e.kind === 'document' ? `${e.type} ${e.docId} v${e.version}`
    : e.kind === 'deviation' ? `${e.partnerRef} ${e.classification} ${e.status}`
    : e.kind === 'identifier' ? `${e.scheme} ${e.value}`
    : e.kind === 'lot' ? `${e.lotNumber} exp. ${e.expiryDate ?? '—'}`
    : e.kind === 'material' ? `${e.materialId}`
    : e.kind === 'planned_receipt' ? `PO ${e.poNumber}/${e.poItem}`
    : e.kind === 'disposition' ? `${e.decision}`
    : '';
  return h('tr', h('td', e.kind), h('td', what), h('td', e.submissionId ?? '—', e.line ? `:${e.line}` : ''), h('td', e.sha256 ? h('code.hash', e.sha256) : h('span.muted', 'entered in lotgate')));
}

/**
 * A signing dialog: `step1` (a form) asks what to decide; `challenge(form)` asks the API for the
 * record; `summary(ch)` shows it; then password (+ TOTP) → POST `signUrl`; `done(result)` after.
 */
function signFlow({ title, step1, challenge, summary, signUrl, done }) {
  const dlg = h('dialog#sign-dialog', { 'aria-labelledby': 'sign-title' });
  const err = h('p.error', { role: 'alert' });
  const body = h('div');
  const close = () => dlg.close();
  // Escape closes a modal dialog too: the dialog leaves the page however it is closed.
  dlg.addEventListener('close', () => dlg.remove());
  step1.append(h('div.actions', h('button.primary', { type: 'submit' }, 'Show what I sign'), h('button', { type: 'button', onclick: close }, 'Cancel')));
  step1.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      showRecord(await challenge(step1));
    } catch (e) {
      err.textContent = e.message;
    }
  });

  function showRecord(ch) {
    const step2 = h(
      'form#sign-step2',
      h('h3', 'You are signing'),
      summary(ch),
      h('dl.facts', h('dt', 'Record hash'), h('dd', h('code.hash#sign-hash', ch.recordHash)), h('dt', 'Valid until'), h('dd', new Date(ch.expiresAt).toLocaleTimeString())),
      h('div.field', h('label', { for: 'sign-password' }, 'Your password'), h('input', { id: 'sign-password', type: 'password', autocomplete: 'current-password', required: true })),
      h('div.field', h('label', { for: 'sign-totp' }, 'Authentication code'), h('input', { id: 'sign-totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6 }), h('small.muted', 'Needed for your first signature in this session.')),
      h('p', 'By signing you confirm this decision under your name; the signature is recorded with date, time and meaning and is bound to the record hash above.'),
      h('div.actions', h('button.primary', { type: 'submit' }, 'Sign'), h('button', { type: 'button', onclick: close }, 'Cancel')),
    );
    step2.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      const payload = { challengeId: ch.challengeId, password: step2.querySelector('#sign-password').value };
      const totp = step2.querySelector('#sign-totp').value.trim();
      if (totp) payload.totp = totp;
      try {
        const r = await api(signUrl, { method: 'POST', body: payload });
        close();
        done?.(r);
      } catch (e) {
        err.textContent = e.message;
        if (e.code === 'E_AUTH_TOTP_REQUIRED') step2.querySelector('#sign-totp').focus();
        if (e.code === 'E_SIGN_CHALLENGE') clear(body, step1);
      }
    });
    clear(body, step2);
    step2.querySelector('#sign-password').focus();
  }

  clear(body, step1);
  dlg.append(h('h2#sign-title', title), body, err);
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

/** QA signs a lot disposition (release / reject / quarantine). */
export function signDialog(lot, done) {
  const step1 = h(
    'form#sign-step1',
    h('div.field', h('label', { for: 'decision' }, 'Decision'), h('select', { id: 'decision', name: 'decision' }, DECISIONS.map(([v, t]) => h('option', { value: v }, t)))),
    h('div.field', h('label', { for: 'meaning' }, 'Meaning of your signature'), h('select', { id: 'meaning', name: 'meaning' }, MEANINGS.map((m) => h('option', { value: m }, m)))),
  );
  step1.elements.decision.addEventListener('change', () => {
    step1.elements.meaning.value = DECISIONS.find((d) => d[0] === step1.elements.decision.value)[2];
  });
  return signFlow({
    title: `Sign a disposition for lot ${lot.lotNumber}`,
    step1,
    challenge: (f) => api(`/api/v1/lots/${lot.lotId}/disposition/challenge`, { method: 'POST', body: { decision: f.elements.decision.value, meaning: f.elements.meaning.value } }),
    summary: (ch) => {
      const r = ch.record;
      return h(
        'div',
        h(
          'dl.facts',
          h('dt', 'Decision'), h('dd#sign-decision', r.decision),
          h('dt', 'Meaning'), h('dd', r.meaning),
          h('dt', 'Lot'), h('dd', `${r.lot.lotNumber} (material ${r.lot.materialId})`),
          h('dt', 'Readiness'), h('dd', r.readiness ? `${r.readiness.state}${r.readiness.late ? ', late' : ''}; ${r.readiness.reasons.length} reason(s)` : 'not evaluated'),
        ),
        r.readiness?.reasons.length ? h('ul', r.readiness.reasons.map((x) => h('li', h('code', x.code), ' ', x.message))) : null,
        h('details', h('summary', `Evidence: ${r.evidence.length} facts with the sha256 of their source file`), h('div.scroll', h('table', h('thead', h('tr', ['Fact', 'Value', 'Submission:line', 'File sha256'].map((x) => h('th', { scope: 'col' }, x)))), h('tbody', r.evidence.map(evidenceRow))))),
      );
    },
    signUrl: `/api/v1/lots/${lot.lotId}/disposition`,
    done: (sig) => {
      toast(`Signed: ${sig.decision} (${sig.meaning}) by ${sig.signer.printedName} at ${sig.localTime}`);
      done?.();
    },
  });
}

/** QA approves or rejects a file held for review (partners in review mode). */
export function reviewDialog(sub, done) {
  const step1 = h(
    'form#sign-step1',
    h('div.field', h('label', { for: 'review-decision' }, 'Decision'), h('select', { id: 'review-decision', name: 'decision' }, h('option', { value: 'approve' }, 'Approve: apply the file'), h('option', { value: 'reject' }, 'Reject: turn the file down'))),
    h('div.field', h('label', { for: 'review-reason' }, 'Reason'), h('textarea', { id: 'review-reason', name: 'reason', required: true, maxlength: 2000, rows: 3 })),
  );
  return signFlow({
    title: `Review submission ${sub.id}: ${sub.originalName}`,
    step1,
    challenge: (f) => api(`/api/v1/submissions/${sub.id}/review/challenge`, { method: 'POST', body: { decision: f.elements.decision.value, reason: f.elements.reason.value.trim() } }),
    summary: (ch) => {
      const r = ch.record;
      return h(
        'dl.facts',
        h('dt', 'Decision'), h('dd#sign-decision', `${r.decision} (${r.meaning})`),
        h('dt', 'Reason'), h('dd', r.reason),
        h('dt', 'File'), h('dd', `${r.submission.originalName} from ${r.submission.partner}`),
        h('dt', 'File sha256'), h('dd', h('code.hash', r.submission.sha256)),
        h('dt', 'Mapping'), h('dd', `${r.submission.mappingName ?? '—'} ${r.submission.mappingHash ? r.submission.mappingHash.slice(0, 12) + '…' : ''}`),
        h('dt', 'Rows'), h('dd', `${r.submission.rows ?? 0} rows, ${r.submission.rejected ?? 0} rejected`),
      );
    },
    signUrl: `/api/v1/submissions/${sub.id}/review`,
    done: (r) => {
      toast(`Signed ${r.signature?.decision ?? ''}: submission ${r.submissionId} is now ${r.state}`);
      done?.(r);
    },
  });
}
