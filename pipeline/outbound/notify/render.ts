// An event as a channel-neutral notification (pure): a title, one summary line, facts and a link.
// Teams turns it into an adaptive card, e-mail into text + HTML.

import type { DeliveryResult } from '../delivery.js';
import type { NotifyEvent, NotifyEventType } from './rules.js';

export type Severity = 'info' | 'warning' | 'critical';

export interface Notification {
  title: string;
  summary: string;
  facts: { name: string; value: string }[];
  link: string | null;
  linkLabel: string;
  severity: Severity;
  /** Addressees beyond the channel's own (e-mail: they get it in `to`, the channel's list in cc). */
  recipients?: string[];
  /** Full bodies for e-mail when the content is more than facts (the daily digest). */
  text?: string;
  html?: string;
}

export interface NotifyChannel {
  name: string;
  type: string;
  send(n: Notification): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

const WORDING: Record<NotifyEventType, { title: (s: string) => string; summary: (s: string) => string; link: string; severity: Severity }> = {
  lot_blocked: {
    title: (s) => `Lot BLOCKED: ${s}`,
    summary: (s) => `Lot ${s} is blocked and cannot be released until the reasons are cleared.`,
    link: 'Open lot',
    severity: 'critical',
  },
  lot_late: {
    title: (s) => `Lot late: ${s}`,
    summary: (s) => `Lot ${s} has a stage past its planned date.`,
    link: 'Open lot',
    severity: 'warning',
  },
  file_rejected: {
    title: (s) => `File rejected: ${s}`,
    summary: (s) => `The file ${s} was rejected; nothing from it was applied. The partner has the reasons in its acknowledgment.`,
    link: 'Open submission',
    severity: 'warning',
  },
  file_quarantined: {
    title: (s) => `File quarantined: ${s}`,
    summary: (s) => `The file ${s} could not be processed and was quarantined; it needs a look before it can be replayed.`,
    link: 'Open submission',
    severity: 'critical',
  },
  signature_invalidated: {
    title: (s) => `Signature invalidated: ${s}`,
    summary: (s) => `A fact of lot ${s} changed after its disposition was signed; the signature no longer holds and the lot is back in QA's queue.`,
    link: 'Open lot',
    severity: 'critical',
  },
  account_locked: {
    title: (s) => `Account locked: ${s}`,
    summary: (s) => `${s} was locked after repeated failed logins or signing attempts. If it was not the user, someone is guessing passwords.`,
    link: 'Open access review',
    severity: 'critical',
  },
  document_requested: {
    title: (s) => `Document requested: ${s}`,
    summary: (s) => `A document is missing for ${s}; please send it through the drop zone.`,
    link: 'Open lot',
    severity: 'info',
  },
  partner_silent: {
    title: (s) => `No files from ${s}`,
    summary: (s) => `${s} has not delivered a file within its expected cadence.`,
    link: 'Open partner',
    severity: 'warning',
  },
};

export function eventNotification(event: NotifyEvent): Notification {
  const w = WORDING[event.type];
  const message = typeof event.details.message === 'string' && event.details.message.trim() ? event.details.message.trim() : null;
  const facts = Object.entries(event.details)
    .filter(([k, v]) => k !== 'message' && v !== undefined && v !== null && v !== '')
    .map(([k, v]) => ({ name: label(k), value: String(v) }));
  facts.push({ name: 'When', value: event.at });
  return {
    title: w.title(event.subject),
    summary: message ?? w.summary(event.subject),
    facts,
    link: safeLink(event.link),
    linkLabel: w.link,
    severity: w.severity,
    ...(event.recipients?.length ? { recipients: [...event.recipients] } : {}),
  };
}

/** Only absolute http(s) links are offered: a card or mail must not carry javascript: or file: links. */
export function safeLink(link: string | null | undefined): string | null {
  if (!link) return null;
  try {
    const u = new URL(link);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** `lateStages` → `Late stages`, `partner_id` → `Partner id`. */
export function label(key: string): string {
  const words = key
    .replace(/_/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function notificationText(n: Notification): string {
  if (n.text) return n.text;
  const lines = [n.title, '', n.summary, ''];
  for (const f of n.facts) lines.push(`${f.name}: ${f.value}`);
  if (n.link) lines.push('', `${n.linkLabel}: ${n.link}`);
  return `${lines.join('\n')}\n`;
}

export function notificationHtml(n: Notification): string {
  if (n.html) return n.html;
  const rows = n.facts.map((f) => `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(f.name)}</th><td>${escapeHtml(f.value)}</td></tr>`).join('');
  const link = n.link ? `<p><a href="${escapeHtml(n.link)}">${escapeHtml(n.linkLabel)}</a></p>` : '';
  return (
    `<!doctype html><html><body style="font-family:sans-serif">` +
    `<h2 style="margin:0 0 8px">${escapeHtml(n.title)}</h2><p>${escapeHtml(n.summary)}</p>` +
    (rows ? `<table>${rows}</table>` : '') +
    link +
    `</body></html>`
  );
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
