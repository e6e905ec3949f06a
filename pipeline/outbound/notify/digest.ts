// The daily summary (pure): per recipient group, the lots that are BLOCKED, the lots running
// late and the lots whose readiness changed since the last digest — as plain text and HTML.

import type { ReadinessState } from '../../model/types.js';
import type { Notification } from './render.js';
import { escapeHtml, safeLink } from './render.js';

export interface LotSummary {
  materialId: string;
  lotNumber: string;
  description?: string | null;
  vendor?: string | null;
  state: ReadinessState;
  /** State before the last change; null for a lot first seen in the period. */
  previousState?: ReadinessState | null;
  /** When readiness last changed (ISO). */
  changedAt?: string | null;
  late: boolean;
  lateStages?: { stage: string; dueDate: string }[];
  reasons?: { code: string; message: string }[];
  link?: string | null;
  /** Recipient groups that follow this lot (by vendor, product family, site — the caller decides). */
  groups: string[];
}

export interface DigestOptions {
  /** The day the digest is for (YYYY-MM-DD), shown in the subject. */
  date: string;
  /** Changes at or after this instant (ISO) count as "changed". */
  since: string;
  /** Link to the lot board. */
  boardLink?: string | null;
}

export interface Digest {
  group: string;
  subject: string;
  text: string;
  html: string;
  counts: { blocked: number; late: number; changed: number };
  /** Nothing to report: the caller may skip sending. */
  empty: boolean;
}

export function renderDigest(group: string, lots: LotSummary[], opts: DigestOptions): Digest {
  const sorted = [...lots].sort((a, b) => a.materialId.localeCompare(b.materialId) || a.lotNumber.localeCompare(b.lotNumber));
  const since = Date.parse(opts.since);
  const blocked = sorted.filter((l) => l.state === 'BLOCKED');
  const late = sorted.filter((l) => l.late);
  const changed = sorted.filter((l) => l.changedAt && Date.parse(l.changedAt) >= since && l.previousState !== l.state);
  const counts = { blocked: blocked.length, late: late.length, changed: changed.length };
  const empty = counts.blocked + counts.late + counts.changed === 0;
  const subject = `lotgate daily summary ${opts.date} (${group}): ${counts.blocked} blocked, ${counts.late} late, ${counts.changed} changed`;

  const sections: Section[] = [
    { title: 'BLOCKED', lots: blocked, line: (l) => reasonsLine(l) },
    { title: 'Late', lots: late, line: (l) => lateLine(l) },
    { title: `Changed since ${opts.since}`, lots: changed, line: (l) => `${l.previousState ?? 'new'} → ${l.state}${l.changedAt ? ` at ${l.changedAt}` : ''}` },
  ];
  return { group, subject, text: toText(subject, sections, opts, empty), html: toHtml(subject, sections, opts, empty), counts, empty };
}

/** One digest per recipient group named by any lot, groups in name order. */
export function digestsByGroup(lots: LotSummary[], opts: DigestOptions): Digest[] {
  const groups = [...new Set(lots.flatMap((l) => l.groups))].sort();
  return groups.map((g) => renderDigest(g, lots.filter((l) => l.groups.includes(g)), opts));
}

/** A digest as a notification: full bodies for e-mail, counts as facts for Teams. */
export function digestNotification(d: Digest, boardLink?: string | null): Notification {
  return {
    title: d.subject,
    summary: d.empty ? 'Nothing needs attention today.' : `${d.counts.blocked} blocked, ${d.counts.late} late, ${d.counts.changed} changed.`,
    facts: [
      { name: 'Blocked', value: String(d.counts.blocked) },
      { name: 'Late', value: String(d.counts.late) },
      { name: 'Changed', value: String(d.counts.changed) },
    ],
    link: safeLink(boardLink),
    linkLabel: 'Open lot board',
    severity: d.counts.blocked > 0 ? 'warning' : 'info',
    text: d.text,
    html: d.html,
  };
}

// ---------------------------------------------------------------------------

interface Section {
  title: string;
  lots: LotSummary[];
  line: (l: LotSummary) => string;
}

function lotName(l: LotSummary): string {
  return `${l.materialId} / ${l.lotNumber}${l.description ? ` (${l.description})` : ''}${l.vendor ? ` — ${l.vendor}` : ''}`;
}

function reasonsLine(l: LotSummary): string {
  return (l.reasons ?? []).map((r) => `${r.code}: ${r.message}`).join('; ') || 'no reason recorded';
}

function lateLine(l: LotSummary): string {
  const stages = (l.lateStages ?? []).map((s) => `${s.stage} due ${s.dueDate}`).join(', ');
  return `${l.state}${stages ? `; ${stages}` : ''}`;
}

function toText(subject: string, sections: Section[], opts: DigestOptions, empty: boolean): string {
  const out = [subject, ''];
  if (empty) out.push('Nothing needs attention: no lot is blocked, late or changed.', '');
  for (const s of sections) {
    if (!s.lots.length) continue;
    out.push(`${s.title} (${s.lots.length})`, '-'.repeat(s.title.length + String(s.lots.length).length + 3));
    for (const l of s.lots) {
      out.push(`* ${lotName(l)}`, `  ${s.line(l).replace(/\s*\n\s*/g, ' ')}`);
      const link = safeLink(l.link);
      if (link) out.push(`  ${link}`);
    }
    out.push('');
  }
  const board = safeLink(opts.boardLink);
  if (board) out.push(`Lot board: ${board}`, '');
  return out.join('\n');
}

function toHtml(subject: string, sections: Section[], opts: DigestOptions, empty: boolean): string {
  let body = `<h2 style="margin:0 0 12px">${escapeHtml(subject)}</h2>`;
  if (empty) body += '<p>Nothing needs attention: no lot is blocked, late or changed.</p>';
  for (const s of sections) {
    if (!s.lots.length) continue;
    body += `<h3>${escapeHtml(s.title)} (${s.lots.length})</h3><table cellpadding="4" style="border-collapse:collapse">`;
    body += '<tr><th align="left">Lot</th><th align="left">State</th><th align="left">Detail</th></tr>';
    for (const l of s.lots) {
      const link = safeLink(l.link);
      const name = escapeHtml(lotName(l));
      body +=
        `<tr><td>${link ? `<a href="${escapeHtml(link)}">${name}</a>` : name}</td>` +
        `<td>${escapeHtml(l.state)}${l.late ? ' (late)' : ''}</td><td>${escapeHtml(s.line(l))}</td></tr>`;
    }
    body += '</table>';
  }
  const board = safeLink(opts.boardLink);
  if (board) body += `<p><a href="${escapeHtml(board)}">Open the lot board</a></p>`;
  return `<!doctype html><html><body style="font-family:sans-serif">${body}</body></html>`;
}
