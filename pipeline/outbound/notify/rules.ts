// Which notification goes where (pure). Events come from the readiness sweep (blocked, late),
// the intake (rejected, quarantined) and the partner watch (silent); config rules route each
// event type to named channels.

import { canonicalJson, sha256Hex } from '../canonical.js';
import type { ConfigProblem } from '../errors.js';

export type NotifyEventType = 'lot_blocked' | 'lot_late' | 'file_rejected' | 'file_quarantined' | 'partner_silent' | 'signature_invalidated' | 'account_locked' | 'document_requested';
export const NOTIFY_EVENT_TYPES: readonly NotifyEventType[] = ['lot_blocked', 'lot_late', 'file_rejected', 'file_quarantined', 'partner_silent', 'signature_invalidated', 'account_locked', 'document_requested'];

export type DetailValue = string | number | boolean | null | undefined;

export interface NotifyEvent {
  type: NotifyEventType;
  /** What it is about, as people name it: `100234 / L2026-001`, `acme-cmo: batch_0412.csv`, `acme-lab`. */
  subject: string;
  /**
   * When the thing itself happened — the lot became BLOCKED, the file was received, the partner's
   * last file arrived — not when a sweep noticed it. It makes the event's identity: a sweep that
   * finds the same blocked lot again builds the same event and so the same dedup key.
   */
  at: string;
  /** Shown as facts (name → value). A `message` entry, when present, is the summary line. */
  details: Record<string, DetailValue>;
  /** The lot / submission / partner page. */
  link?: string | null;
  /**
   * People outside the configured channel lists this event is addressed to (a document request:
   * the partner's `contacts`). E-mail channels send to them with their own recipients in copy;
   * chat channels post as usual.
   */
  recipients?: string[];
}

export interface NotifyRule {
  /** Event types, or `*` for all. */
  on: (NotifyEventType | '*')[];
  /** Channel names. */
  to: string[];
}

/** The channels an event goes to, each once, in rule order. */
export function route(event: Pick<NotifyEvent, 'type'>, rules: NotifyRule[]): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    if (!rule.on.includes(event.type) && !rule.on.includes('*')) continue;
    for (const ch of rule.to) if (!out.includes(ch)) out.push(ch);
  }
  return out;
}

/** One key per event (type, subject, time it happened): the caller stores sent keys. */
export function dedupKey(event: Pick<NotifyEvent, 'type' | 'subject' | 'at'>): string {
  return `${event.type}:${sha256Hex(canonicalJson([event.type, event.subject, event.at])).slice(0, 32)}`;
}

/**
 * The sends an event needs, one key per (event, channel): a Teams post that went out is not
 * repeated when only the e-mail failed and is retried.
 */
export function plannedSends(event: NotifyEvent, rules: NotifyRule[]): { channel: string; key: string }[] {
  const key = dedupKey(event);
  return route(event, rules).map((channel) => ({ channel, key: `${key}@${channel}` }));
}

/** Rules that name unknown event types or channels. */
export function validateNotifyRules(rules: unknown, channelNames: string[], where = 'notifications.rules'): ConfigProblem[] {
  if (rules === undefined) return [];
  if (!Array.isArray(rules)) return [{ code: 'E_CONFIG_INVALID', path: where, message: 'must be a list of { on: [event types], to: [channel names] }' }];
  const problems: ConfigProblem[] = [];
  rules.forEach((r, i) => {
    const at = `${where}[${i}]`;
    const rule = r as { on?: unknown; to?: unknown };
    if (r === null || typeof r !== 'object') {
      problems.push({ code: 'E_CONFIG_INVALID', path: at, message: 'must be { on: [...], to: [...] }' });
      return;
    }
    for (const k of Object.keys(r)) {
      if (k !== 'on' && k !== 'to') problems.push({ code: 'E_CONFIG_INVALID', path: `${at}.${k}`, message: `unknown key "${k}"` });
    }
    if (!Array.isArray(rule.on) || rule.on.length === 0) {
      problems.push({ code: 'E_CONFIG_INVALID', path: `${at}.on`, message: `must list event types: ${NOTIFY_EVENT_TYPES.join(', ')} or *` });
    } else {
      rule.on.forEach((t, j) => {
        if (t !== '*' && !NOTIFY_EVENT_TYPES.includes(t as NotifyEventType)) {
          problems.push({ code: 'E_CONFIG_INVALID', path: `${at}.on[${j}]`, message: `unknown event type ${JSON.stringify(t)}; known: ${NOTIFY_EVENT_TYPES.join(', ')}` });
        }
      });
    }
    if (!Array.isArray(rule.to) || rule.to.length === 0) {
      problems.push({ code: 'E_CONFIG_INVALID', path: `${at}.to`, message: 'must list channel names' });
    } else {
      rule.to.forEach((c, j) => {
        if (typeof c !== 'string' || !channelNames.includes(c)) {
          problems.push({
            code: 'E_CONFIG_INVALID',
            path: `${at}.to[${j}]`,
            message: `no channel named ${JSON.stringify(c)}; defined: ${channelNames.length ? channelNames.join(', ') : '(none)'}`,
          });
        }
      });
    }
  });
  return problems;
}
