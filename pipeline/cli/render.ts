// Plain-text rendering for people; --json output never goes through here. Instants (UTC in the
// store and in --json) are shown in the sponsor's time zone (config.yaml `timezone:`), ISO 8601
// with offset, to the second.

import { toLocalIso } from '../model/local-time.js';

export interface RenderOptions {
  /** IANA zone for instants; without it they are shown as stored. */
  timeZone?: string;
}

/** `v` for people: an instant in the zone, anything else unchanged. */
export function humanTime(v: string, opts: RenderOptions = {}): string {
  return opts.timeZone ? toLocalIso(v, opts.timeZone) : v;
}

export function renderTable(headers: string[], rawRows: string[][], opts: RenderOptions = {}): string {
  return renderTableIn(headers, rawRows, opts);
}

function renderTableIn(headers: string[], rawRows: string[][], opts: RenderOptions): string {
  const rows = opts.timeZone ? rawRows.map((r) => r.map((c) => humanTime(c ?? '', opts))) : rawRows;
  const widths = headers.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const v = c ?? '';
        const cut = v.length > widths[i] && i < cells.length - 1 ? v.slice(0, widths[i] - 1) + '…' : v;
        return i === cells.length - 1 ? cut : cut.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

type Any = Record<string, any>;

function section(title: string, body: string): string {
  return `\n${title}\n${body}`;
}

/** One lot for people: header, readiness with reasons and evidence, then the facts. */
export function renderLot(lot: Any, opts: RenderOptions = {}): string {
  const renderTable = (headers: string[], rows: string[][]) => renderTableIn(headers, rows, opts);
  const r = lot.readiness as Any | null | undefined;
  let out = `Lot ${lot.lotNumber}  material ${lot.materialId}${lot.vendor ? `  vendor ${lot.vendor}` : ''}\n`;
  if (lot.expiryDate || lot.manufactureDate) out += `  manufactured ${lot.manufactureDate ?? '?'}  expires ${lot.expiryDate ?? '?'}\n`;
  if (lot.quantity !== undefined && lot.quantity !== null) out += `  quantity ${lot.quantity} ${lot.uom ?? ''}\n`;
  out += `\nREADINESS: ${r?.state ?? 'not computed'}${r?.late ? '  (LATE)' : ''}${lot.recomputing ? '  (RECOMPUTING: new facts arrived, this is the previous readiness)' : ''}\n`;
  for (const reason of r?.reasons ?? []) {
    out += `  - [${reason.severity ?? ''}] ${reason.code}: ${reason.message}\n`;
    for (const ev of reason.evidence ?? []) out += `      ${ev.kind} ${ev.ref}${ev.detail ? ` — ${ev.detail}` : ''}\n`;
  }
  for (const ls of r?.lateStages ?? []) out += `  late: ${ls.stage} was due ${humanTime(String(ls.dueDate), opts)}\n`;
  const ids = (lot.identifiers ?? []) as Any[];
  if (ids.length) out += section('IDENTIFIERS', renderTable(['SCHEME', 'VALUE', 'ISSUER'], ids.map((i) => [i.scheme, i.value, i.issuer])));
  const stages = (lot.stages ?? []) as Any[];
  if (stages.length) out += section('STAGES', renderTable(['STAGE', 'STATUS', 'AT', 'SITE'], stages.map((s) => [s.stage, s.status, s.eventTime ?? '', s.site ?? ''])));
  const tests = (lot.tests ?? lot.testResults ?? []) as Any[];
  if (tests.length)
    out += section(
      'TESTS',
      renderTable(
        ['TEST', 'SAMPLE', 'RESULT', 'UNIT', 'SPEC', 'STATUS', 'EVAL', 'TESTED'],
        tests.map((t) => [
          t.testCode,
          t.sampleId ?? '',
          t.resultRaw ?? String(t.resultValue ?? ''),
          t.unit ?? '',
          `${t.specLow ?? ''}..${t.specHigh ?? ''}`,
          t.resultStatus ?? '',
          t.evaluation ?? '',
          t.testedAt ?? '',
        ]),
      ),
    );
  const docs = (lot.documents ?? []) as Any[];
  if (docs.length) out += section('DOCUMENTS', renderTable(['TYPE', 'DOC', 'VERSION', 'SHA256'], docs.map((d) => [d.type, d.docId, String(d.version ?? ''), String(d.sha256 ?? '').slice(0, 12)])));
  const devs = (lot.deviations ?? []) as Any[];
  if (devs.length)
    out += section('DEVIATIONS', renderTable(['REF', 'CLASS', 'STATUS', 'OPENED', 'CAPA', 'TITLE'], devs.map((d) => [d.partnerRef, d.classification, d.status, d.openedAt ?? '', (d.capaRefs ?? []).join(','), d.title ?? ''])));
  const disp = (lot.dispositions ?? []) as Any[];
  if (disp.length) out += section('DISPOSITIONS', renderTable(['DECISION', 'BY', 'AT'], disp.map((d) => [d.decision, d.decidedBy ?? '', d.decidedAt])));
  // Part 11 manifestation: printed name, date and time, meaning; and whether it still holds.
  const sigs = (lot.signatures ?? []) as Any[];
  if (sigs.length)
    out += section(
      'SIGNATURES',
      renderTable(
        ['DECISION', 'SIGNED BY', 'AT (UTC)', 'LOCAL', 'MEANING', 'RECORD SHA256', 'STATUS'],
        sigs.map((g) => [g.decision, g.signer?.printedName ?? '', g.signedAt, `${g.localTime} ${g.timeZone}`, g.meaning, String(g.recordHash).slice(0, 16), g.valid ? 'valid' : `INVALIDATED (submission ${g.invalidatedBySubmission ?? '-'})`]),
      ),
    );
  if (lot.awaitingSignature) out += '\nA fact changed after the last signed decision: the lot is back in QA\'s queue.\n';
  return out;
}
