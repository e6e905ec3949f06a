// Notification events from what lotgate recorded (pure apart from the lookups handed in): the
// audit trail says when a lot became BLOCKED or late and when a file was rejected or
// quarantined; the ledger says when each partner last sent a file. Every event's `at` is the
// time the thing happened, so finding it again yields the same dedup key.

import type { PartnerConfig } from '../pipeline/model/types.js';
import type { NotifyEvent } from '../pipeline/outbound/notify/rules.js';
import type { AuditRow, SubmissionRow } from '../pipeline/store/types.js';
import { parseLotSubject, parseSubmissionRef, type Links } from '../pipeline/outbound/notify/links.js';

export const NOTIFY_AUDIT_ACTIONS = ['lot.readiness_changed', 'submission.rejected', 'submission.quarantined', 'signature.invalidated', 'auth.locked', 'lot.document_requested'];

export interface EventLookups {
  links: Links;
  partners: Map<string, PartnerConfig>;
  submission: (id: number) => SubmissionRow | undefined;
}

interface ReadinessChange {
  from: { state: string; late: boolean } | null;
  to: { state: string; late: boolean };
  reasons?: string[];
}

/** The submission eventsFromAudit may look up for this audit event (look.submission), if any. */
export function submissionRefOf(row: AuditRow): number | null {
  if (row.action === 'lot.readiness_changed') return parseSubmissionRef(row.actor);
  if (row.action === 'submission.rejected' || row.action === 'submission.quarantined') return parseSubmissionRef(row.subject);
  return null;
}

/** The notification events one audit event stands for (none, one or two). */
export function eventsFromAudit(row: AuditRow, look: EventLookups): NotifyEvent[] {
  if (row.action === 'lot.readiness_changed') {
    const lot = parseLotSubject(row.subject);
    const d = row.details as ReadinessChange | null;
    if (!lot || !d?.to) return [];
    // Changes a shadow-mode partner's file caused stay on the board, like its outbound messages.
    const causedBy = parseSubmissionRef(row.actor);
    if (causedBy !== null) {
      const partner = look.submission(causedBy)?.partner;
      if (partner && look.partners.get(partner)?.mode === 'shadow') return [];
    }
    const subject = `${lot.materialId} / ${lot.lotNumber}`;
    const link = look.links.lot(lot.materialId, lot.lotNumber);
    const out: NotifyEvent[] = [];
    if (d.to.state === 'BLOCKED' && d.from?.state !== 'BLOCKED') {
      out.push({ type: 'lot_blocked', subject, at: row.at, link, details: { previous: d.from?.state ?? 'new', reasons: (d.reasons ?? []).join(', ') } });
    }
    if (d.to.late && !d.from?.late) {
      out.push({ type: 'lot_late', subject, at: row.at, link, details: { state: d.to.state, reasons: (d.reasons ?? []).join(', ') } });
    }
    return out;
  }
  if (row.action === 'lot.document_requested') {
    const lot = parseLotSubject(row.subject);
    const d = (row.details ?? {}) as { partner?: string; documentType?: string; message?: string; requestedBy?: string; request?: number };
    if (!lot || !d.partner) return [];
    const partner = look.partners.get(d.partner);
    return [
      {
        type: 'document_requested',
        subject: `${lot.materialId} / ${lot.lotNumber}`,
        at: row.at,
        link: look.links.lot(lot.materialId, lot.lotNumber),
        details: { message: d.message ?? null, documentType: d.documentType ?? null, partner: d.partner, requestedBy: d.requestedBy ?? null, request: d.request ?? null },
        recipients: partner?.contacts ?? [],
      },
    ];
  }
  if (row.action === 'auth.locked') {
    const d = (row.details ?? {}) as { username?: string; failures?: number; until?: string; ip?: string | null };
    if (!d.username) return [];
    return [{ type: 'account_locked', subject: d.username, at: row.at, link: null, details: { failures: d.failures ?? null, until: d.until ?? null, ip: d.ip ?? null } }];
  }
  if (row.action === 'signature.invalidated') {
    const lot = parseLotSubject(row.subject);
    if (!lot) return [];
    const d = (row.details ?? {}) as { signedBy?: string; decision?: string; submissionId?: number | null };
    return [
      {
        type: 'signature_invalidated',
        subject: `${lot.materialId} / ${lot.lotNumber}`,
        at: row.at,
        link: look.links.lot(lot.materialId, lot.lotNumber),
        details: { decision: d.decision ?? null, signedBy: d.signedBy ?? null, submission: d.submissionId ?? null },
      },
    ];
  }
  if (row.action === 'submission.rejected' || row.action === 'submission.quarantined') {
    const id = parseSubmissionRef(row.subject);
    const sub = id === null ? undefined : look.submission(id);
    if (id === null || !sub) return [];
    const d = (row.details ?? {}) as { code?: string; message?: string };
    return [
      {
        type: row.action === 'submission.rejected' ? 'file_rejected' : 'file_quarantined',
        subject: `${sub.partner}: ${sub.originalName}`,
        at: row.at,
        link: look.links.submission(id),
        details: { submission: id, partner: sub.partner, code: d.code ?? sub.errorCode ?? null, error: d.message ?? sub.errorMessage ?? null, received: sub.receivedAt },
      },
    ];
  }
  return [];
}

/**
 * Partners whose newest file is older than their expected cadence (`expectedCadenceHours` in the
 * partner file). The event's time is the moment the partner became overdue, so it fires once per
 * silence; a new file starts a new one. Partners that never sent anything are not reported: there
 * is no point in time their silence started from.
 */
export function silentPartners(partners: Iterable<PartnerConfig>, lastReceived: Map<string, string>, now: Date, links: Links): NotifyEvent[] {
  const out: NotifyEvent[] = [];
  for (const p of partners) {
    const hours = (p as PartnerConfig & { expectedCadenceHours?: number }).expectedCadenceHours;
    if (!hours || hours <= 0) continue;
    const last = lastReceived.get(p.id);
    if (!last) continue;
    const overdueAt = Date.parse(last) + hours * 3_600_000;
    if (overdueAt > now.getTime()) continue;
    out.push({
      type: 'partner_silent',
      subject: p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id,
      at: new Date(overdueAt).toISOString(),
      link: links.partner(p.id),
      details: { partner: p.id, lastFile: last, expectedEveryHours: hours, silentForHours: Math.floor((now.getTime() - Date.parse(last)) / 3_600_000) },
    });
  }
  return out;
}
