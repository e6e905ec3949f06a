// One lot: readiness rule by rule with the evidence behind each result, stages, tests,
// documents, deviations, the provenance of any fact (down to the partner file's raw row), the
// timeline from the audit trail, actions by permission, and a print stylesheet (evidence pack).

import { api, qs } from '../api.js';
import { app } from '../app.js';
import { badge, clear, day, h, recomputingBadge, section, table, when } from '../dom.js';
import { requestsSection } from './lot-requests.js';
import { signDialog } from './sign.js';

/** The readiness rules, each with the reason codes it produces (a rule without reasons passes). */
export const RULES = [
  ['Stages completed', /^R_STAGE_/],
  ['Tests final and within specification', /^R_TEST_/],
  ['Required documents present', /^R_(COA|DOC)_/],
  ['Label approval', /^R_LABEL_/],
  ['No open deviations', /^R_DEVIATION_/],
  ['Shelf life', /^R_(EXPIR|SHELF)/],
  ['Quantity matches the PO', /^R_QTY_/],
  ['Lot identity unambiguous', /^R_ID_/],
  ['QA disposition', /^R_DISPOSITION_/],
];

const RESULT = { BLOCKED: 'fail', NOT_READY: 'fail', CONDITIONAL: 'condition' };

/** Where an evidence record came from: { submission, line } when the lot detail says. */
export function sourceOf(lot, ev) {
  const m = /submission (\d+)(?: line (\d+))?/.exec(ev.detail ?? '');
  if (m) return { submission: Number(m[1]), line: m[2] ? Number(m[2]) : undefined };
  const pick = (rows) => rows.filter((r) => r.submissionId != null).at(-1);
  let row;
  if (ev.kind === 'deviation') row = pick(lot.deviations.filter((d) => d.partnerRef === ev.ref));
  else if (ev.kind === 'stage_event' || ev.kind === 'stage') row = pick(lot.stageEvents.filter((s) => s.stage === ev.ref));
  else if (ev.kind === 'document') row = pick(lot.documents.filter((d) => d.type === ev.ref));
  else if (ev.kind === 'test_result' || ev.kind === 'test') row = pick(lot.tests.filter((t) => t.testCode === ev.ref || `${t.sampleId}/${t.testCode}` === ev.ref));
  return row ? { submission: row.submissionId, line: row.line ?? undefined } : null;
}

function sourceButton(lot, src, label = 'source') {
  if (!src) return null;
  return h('button.link.source', { type: 'button', dataset: { submission: src.submission, line: src.line ?? '' }, onclick: () => showProvenance(lot, src) }, `${label}: submission ${src.submission}${src.line ? ` line ${src.line}` : ''}`);
}

let provenancePanel;

async function showProvenance(lot, src) {
  clear(provenancePanel, h('p.muted', 'Loading…'));
  provenancePanel.hidden = false;
  try {
    const p = await api(`/api/v1/lots/${lot.lotId}/provenance${qs({ submission: src.submission, line: src.line })}`);
    clear(
      provenancePanel,
      h('h2#provenance-title', 'Where this fact came from'),
      h(
        'dl.facts',
        h('dt', 'Partner'), h('dd', p.partner),
        h('dt', 'File'), h('dd', h('a', { href: `/submissions/${p.submissionId}` }, p.originalName), ` (submission ${p.submissionId}, via ${p.source})`),
        h('dt', 'sha256'), h('dd', h('code.hash', p.sha256)),
        h('dt', 'Received'), h('dd', when(p.receivedAt)),
        h('dt', 'Mapping'), h('dd', p.mappingName ?? '—', p.mappingHash ? h('small.muted', ` ${p.mappingHash.slice(0, 12)}…`) : null),
        h('dt', 'Line'), h('dd', p.line ?? '—'),
      ),
      h('h3', 'Raw row as the partner sent it'),
      p.rawRow !== null ? h('pre.raw#raw-row', p.rawRow) : h('p.muted', p.rawRowNote ?? 'not available'),
      h('button', { type: 'button', onclick: () => (provenancePanel.hidden = true) }, 'Close'),
    );
    provenancePanel.focus();
  } catch (e) {
    clear(provenancePanel, h('p.error', e.message));
  }
}

export async function lotByNumberPage(main, materialId, lotNumber) {
  const page = await api(`/api/v1/lots${qs({ material: materialId, lotPrefix: lotNumber, limit: 50 })}`);
  const hit = page.items.find((l) => l.lotNumber === lotNumber && l.materialId === materialId);
  if (!hit) {
    clear(main, h('h1', 'Lot not found'), h('p', `Lot ${lotNumber} of material ${materialId} does not exist, or it is outside your access.`));
    return;
  }
  return lotPage(main, hit.lotId);
}

export async function lotPage(main, lotId) {
  const [lot, timeline, extras] = await Promise.all([api(`/api/v1/lots/${lotId}`), api(`/api/v1/lots/${lotId}/timeline?limit=200`), api(`/api/v1/lots/extras?ids=${lotId}`)]);
  const pushes = extras.items[0]?.pushes ?? [];
  document.title = `Lot ${lot.lotNumber} · lotgate`;
  const r = lot.readiness;
  provenancePanel = h('aside.card.provenance#provenance', { tabindex: '-1', hidden: true, 'aria-labelledby': 'provenance-title' });

  const actions = h('div.actions.noprint');
  actions.append(h('button#print', { type: 'button', onclick: () => window.print() }, 'Print evidence pack'));
  if (app.can('lots:dispose')) actions.append(h('button.primary#sign', { type: 'button', onclick: () => signDialog(lot, () => lotPage(main, lotId)) }, 'Sign disposition…'));

  const head = h(
    'div.lot-head',
    h('div', h('h1', 'Lot ', h('span#lot-number', lot.lotNumber)), h('p.muted', `${lot.materialId} · ${lot.material?.description ?? ''}`)),
    h('div.state', badge(r?.state), recomputingBadge(lot), r?.late ? h('span.late', ' late') : null, h('div.muted', 'evaluated ', when(r?.computedAt))),
    actions,
  );
  const facts = h(
    'dl.facts.wide',
    h('dt', 'Site'), h('dd', lot.site ?? '—'),
    h('dt', 'Partner'), h('dd', lot.vendor ?? '—'),
    h('dt', 'PO'), h('dd', lot.plannedReceipt ? `${lot.plannedReceipt.poNumber} / ${lot.plannedReceipt.poItem}` : '—'),
    h('dt', 'Expected'), h('dd', lot.plannedReceipt ? day(lot.plannedReceipt.confirmedDate ?? lot.plannedReceipt.plannedDate) : '—'),
    h('dt', 'Quantity'), h('dd', lot.quantity != null ? `${lot.quantity} ${lot.uom ?? ''}` : '—'),
    h('dt', 'Manufactured'), h('dd', day(lot.manufactureDate) || '—'),
    h('dt', 'Expiry'), h('dd', day(lot.expiryDate) || '—'),
    h('dt', 'Quality state'), h('dd', lot.qualityState ?? '—'),
  );

  const reasons = r?.reasons ?? [];
  const ruleRows = RULES.map(([name, re]) => {
    const mine = reasons.filter((x) => re.test(x.code));
    const worst = mine.find((x) => x.severity !== 'CONDITIONAL') ?? mine[0];
    const result = worst ? RESULT[worst.severity] : 'pass';
    return h(
      'tr',
      { dataset: { result } },
      h('th', { scope: 'row' }, name),
      h('td', h(`span.result.r-${result}`, result)),
      h(
        'td',
        mine.length
          ? mine.map((x) =>
              h(
                'div.reason',
                h('code', x.code), ' ', x.message,
                h('ul.evidence', x.evidence.map((ev) => h('li', h('span.muted', `${ev.kind} ${ev.ref}`), ev.detail ? ` — ${ev.detail} ` : ' ', sourceButton(lot, sourceOf(lot, ev))))),
              ),
            )
          : h('span.muted', 'no finding'),
      ),
    );
  });

  const tests = table(
    ['Test', 'Sample', 'Result as sent', 'Parsed', 'Specification', 'Status', 'Evaluation', 'Tested', 'Evidence'],
    lot.tests.map((t) =>
      h(
        'tr',
        { dataset: { test: t.testCode, evaluation: t.evaluation } },
        h('th', { scope: 'row' }, t.testCode, h('div.muted', t.testName ?? '')),
        h('td', t.sampleId ?? '', t.replicate != null ? h('div.muted', `replicate ${t.replicate}`) : ''),
        h('td', h('code', t.resultRaw ?? ''), t.unit ? ` ${t.unit}` : ''),
        h('td', t.resultValue != null && String(t.resultValue) !== t.resultRaw ? `${t.qualifier ?? ''}${t.resultValue}` : ''),
        h('td', t.specText ?? [t.specLow != null ? `≥ ${t.specLow}` : '', t.specHigh != null ? `≤ ${t.specHigh}` : ''].filter(Boolean).join(' ')),
        h('td', t.resultStatus),
        h('td', h(`span.result.r-${t.evaluation === 'pass' ? 'pass' : t.evaluation === 'fail' ? 'fail' : 'condition'}`, t.evaluation)),
        h('td', when(t.testedAt)),
        h('td', sourceButton(lot, t.submissionId != null ? { submission: t.submissionId, line: t.line ?? undefined } : null, 'row')),
      ),
    ),
    { empty: 'No test results yet.' },
  );
  const stages = table(
    ['Stage', 'Status', 'When', 'Site', 'Evidence'],
    lot.stageEvents.map((s) => h('tr', h('th', { scope: 'row' }, s.stage), h('td', s.status), h('td', when(s.eventTime)), h('td', s.site ?? ''), h('td', sourceButton(lot, s.submissionId != null ? { submission: s.submissionId, line: s.line ?? undefined } : null, 'row')))),
    { empty: 'No stage events yet.' },
  );
  const docs = table(
    ['Type', 'Document', 'Version', 'sha256', 'Evidence'],
    lot.documents.map((d) => h('tr', h('th', { scope: 'row' }, d.type), h('td', d.docId), h('td', d.version), h('td', h('code.hash', d.sha256)), h('td', sourceButton(lot, d.submissionId != null ? { submission: d.submissionId } : null)))),
    { empty: 'No documents received.' },
  );
  const devs = table(
    ['Deviation', 'Title', 'Class', 'Status', 'CAPA', 'Opened', 'Closed', 'Evidence'],
    lot.deviations.map((d) =>
      h('tr', h('th', { scope: 'row' }, d.partnerRef, d.qmsRef ? h('div.muted', d.qmsRef) : null), h('td', d.title ?? ''), h('td', d.classification), h('td', d.status), h('td', (d.capaRefs ?? []).join(', ')), h('td', when(d.openedAt)), h('td', when(d.closedAt)), h('td', sourceButton(lot, d.submissionId != null ? { submission: d.submissionId } : null))),
    ),
    { empty: 'No deviations.' },
  );
  const dispositions = table(
    ['Decision', 'Meaning', 'Signed by', 'When (UTC)', 'Local time', 'Record hash', 'Status'],
    (lot.signatures ?? []).map((x) =>
      h(
        'tr',
        { dataset: { signature: x.id, valid: String(x.valid) } },
        h('th', { scope: 'row' }, x.decision),
        h('td', x.meaning),
        h('td', x.signer.printedName, x.signer.username ? h('div.muted', x.signer.username) : null),
        h('td', x.signedAt),
        h('td', `${x.localTime} ${x.timeZone}`),
        h('td', h('code.hash', x.recordHash)),
        h('td', x.valid ? h('span.result.r-pass', 'valid') : h('span.result.r-fail', 'invalidated', h('div.muted', `${x.invalidatedReason ?? ''}${x.invalidatedBySubmission ? ` (submission ${x.invalidatedBySubmission})` : ''}`))),
      ),
    ),
    { empty: 'No signature yet.' },
  );
  const partnerDecisions = (lot.dispositions ?? []).filter((d) => !(lot.signatures ?? []).some((x) => x.signedAt === d.decidedAt));
  const decisions = partnerDecisions.length
    ? table(['Decision (from QMS/ERP)', 'By', 'When'], partnerDecisions.map((d) => h('tr', h('th', { scope: 'row' }, d.decision), h('td', d.decidedBy ?? ''), h('td', when(d.decidedAt)))))
    : null;

  // The files behind the lot's facts, with their sha256 (the evidence list of the evidence pack).
  const subIds = [...new Set([...lot.stageEvents, ...lot.tests, ...lot.documents, ...lot.deviations, ...lot.identifiers].map((x) => x.submissionId).filter((x) => x != null))].sort((a, b) => a - b);
  const files = h('tbody');
  const evidenceFiles = app.can('submissions:read')
    ? h('div.scroll', h('table#evidence-files', h('thead', h('tr', ['Submission', 'Partner', 'File', 'Received', 'sha256'].map((x) => h('th', { scope: 'col' }, x)))), files))
    : h('p.muted', `Submissions ${subIds.join(', ')} (file details need the submissions:read permission).`);
  if (app.can('submissions:read')) {
    Promise.all(subIds.map((id) => api(`/api/v1/submissions/${id}`).catch(() => null))).then((subs) =>
      clear(files, subs.filter(Boolean).map((x) => h('tr', h('th', { scope: 'row' }, h('a', { href: `/submissions/${x.id}` }, String(x.id))), h('td', x.partner), h('td', x.originalName), h('td', when(x.receivedAt)), h('td', h('code.hash', x.sha256))))),
    );
  }
  // Did the result reach the ERP and QMS: the newest message per topic, its delivery per connector.
  const pushTable = table(
    ['Message', 'State', 'Created', 'Connectors'],
    pushes.map((p) =>
      h(
        'tr',
        { dataset: { topic: p.topic } },
        h('th', { scope: 'row' }, p.topic, h('div.muted', h('code', `${p.messageId.slice(0, 12)}…`))),
        h('td', p.state),
        h('td', when(p.createdAt)),
        h('td', p.connectors.length ? p.connectors.map((c) => h(`div.p-${c.state}`, `${c.connector}: ${c.state}`, c.sentAt ? [' ', when(c.sentAt)] : '', c.lastError ? h('div.late', c.lastError) : '')) : h('span.muted', 'not tried yet')),
      ),
    ),
    { empty: 'Nothing sent to ERP or QMS for this lot yet.' },
  );
  const chain = h('span.muted#chain');
  const events = table(
    ['When', 'Event', 'By', 'Details'],
    timeline.items.map((e) => h('tr', h('td', when(e.at)), h('th', { scope: 'row' }, e.action), h('td', e.actor ?? ''), h('td', h('small', summary(e.details))))),
    { empty: 'No events.' },
  );

  const need = extras.items[0]?.documents ?? { have: [], need: [] };
  const partnerIds = app.can('partners:read') ? (await api('/api/v1/partners').catch(() => ({ items: [] }))).items.filter((p) => p.role !== 'erp' && p.role !== 'qms').map((p) => p.id) : [];
  const requests = await requestsSection(lotId, need.need.filter((t) => !need.have.includes(t)), partnerIds);
  clear(
    main,
    h('p.crumbs.noprint', h('a', { href: '/lots' }, '← Board')),
    head,
    facts,
    provenancePanel,
    section('Readiness, rule by rule', table(['Rule', 'Result', 'Finding and evidence'], ruleRows, { cls: 'rules' })),
    section('Tests', tests),
    section('Stages', stages),
    section('Documents', docs),
    section('Deviations', devs),
    section('Disposition and signatures', dispositions, decisions),
    section('Evidence files', evidenceFiles),
    requests,
    section('Sent to ERP and QMS', pushTable, app.can('outbox:read') ? h('p.noprint', h('a', { href: '/ops?outbox=dead' }, 'Dead messages in the outbox')) : null),
    section('Timeline', h('p', chain), events),
  );
  if (app.can('audit:read')) {
    api('/api/v1/audit/verify')
      .then((v) => (chain.textContent = v.ok ? `✔ audit chain verified (${v.count} events)` : `✘ audit chain broken at ${v.brokenAt}: ${v.reason}`))
      .catch(() => {});
  } else chain.textContent = 'Each event is hash-chained to the one before it; an auditor can verify the chain.';
}

function summary(d) {
  if (!d || typeof d !== 'object') return '';
  if (d.to && 'from' in d) return `${d.from?.state ?? 'new'} → ${d.to.state ?? ''}${d.to.late ? ' (late)' : ''}${d.reasons?.length ? `; ${[...new Set(d.reasons)].join(' ')}` : ''}`;
  // Scalars only, each cut short: a signature event carries the whole signed record.
  const cut = (v) => (v.length > 80 ? `${v.slice(0, 77)}…` : v);
  return Object.entries(d)
    .filter(([, v]) => v === null || typeof v !== 'object')
    .slice(0, 8)
    .map(([k, v]) => `${k}: ${cut(String(v))}`)
    .join('; ');
}
