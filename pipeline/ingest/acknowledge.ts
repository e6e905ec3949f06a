// The acknowledgment step, after a submission is decided. It is separate from the decision on
// purpose: the decision (state, facts, audit) is committed first and is final; writing the ack
// can fail on its own (disk full, outbound/ unwritable) and is then retried on its own — by the
// next run of the same job and by the reconciler (`ack_pending` in the ledger) — never by
// deciding the submission again.

import type { AckError, Acknowledgment, RowError, SubmissionRef, SubmissionState } from '../model/types.js';
import type { SubmissionRow } from '../store/types.js';
import { ackPaths, buildAck, writeAck } from './ack.js';
import { ackLinks, ackTimeZone, ackWriteOptions } from './ack-context.js';
import type { IngestDeps } from './deps.js';

export const MAX_ACK_ERRORS_KEPT = 500;

/** What the file's run already knows, so the ack does not read it back from the ledger. */
export interface AckSource {
  errors: AckError[];
  errorCount: number;
}

export interface AckOutcome {
  ack: Acknowledgment;
  /** Where the acknowledgment is (or will be, once it could be written). */
  ackPath: string;
  /** Set when the acknowledgment could not be written; the ledger keeps it owed. */
  ackError?: string;
}

export function toAckError(e: RowError): AckError {
  const out: AckError = { code: e.code, message: e.message };
  if (e.line !== undefined) out.line = e.line;
  if (e.column !== undefined) out.column = e.column;
  if (e.field !== undefined) out.field = e.field;
  return out;
}

/** What an acknowledgment says beyond its own ledger row: the submissions it points to, the time zone. */
export interface AckExtras {
  links: { duplicateOf?: SubmissionRef; resendOf?: SubmissionRef };
  timeZone?: string;
}

/** Pure: the acknowledgment of a ledger row as it stands. */
export function ackOf(sub: SubmissionRow, errors: AckError[], totalErrors: number, note: string | null, extras: AckExtras = { links: {} }): Acknowledgment {
  return buildAck({
    submissionId: sub.id,
    partner: sub.partner,
    file: sub.originalName,
    sha256: sub.sha256,
    receivedAt: sub.receivedAt,
    state: sub.state as SubmissionState,
    feed: sub.feed ?? null,
    mapping: sub.mappingName && sub.mappingHash ? { name: sub.mappingName, hash: sub.mappingHash } : null,
    counts: { rows: sub.rows ?? 0, applied: sub.applied ?? 0, rejected: sub.rejected ?? 0, filtered: sub.filtered ?? 0, superseded: sub.superseded ?? 0 },
    errors,
    totalErrors,
    ...extras.links,
    note: note ?? undefined,
    timeZone: extras.timeZone,
  });
}

/** The note an acknowledgment carries that can be told from the ledger alone (for a re-driven ack). */
export function ledgerNote(deps: Pick<IngestDeps, 'store'>, sub: SubmissionRow): string | null {
  if (sub.state === 'pending_review') {
    return `Nothing counts yet: ${sub.applied} row(s) would be applied${sub.rejected ? ` and ${sub.rejected} rejected` : ''} once the sponsor approves this file.`;
  }
  return null;
}

export interface AcknowledgeOptions {
  note?: string | null;
  known?: AckSource;
  /**
   * 'decision': right after the decision (a failure is recorded in the audit trail once);
   * 'redrive': the reconciler writing an owed ack (failures are only logged, success is audited).
   */
  mode?: 'decision' | 'redrive';
}

/**
 * Builds the acknowledgment from the ledger (the source of truth) and writes it. Never throws
 * for a failed write: the submission stays decided and `ack_pending` says the ack is owed.
 */
export async function acknowledge(deps: IngestDeps, submissionId: number, opts: AcknowledgeOptions = {}): Promise<AckOutcome> {
  const { store } = deps;
  const sub = await store.ledger.getSubmission(submissionId);
  if (!sub) throw new Error(`submission ${submissionId} is not in the ledger`);
  const errors = opts.known?.errors ?? (await store.ledger.listRejectedRows(submissionId, MAX_ACK_ERRORS_KEPT)).map(toAckError);
  const totalErrors = opts.known?.errorCount ?? (await store.ledger.countRejectedRows(submissionId));
  const extras = { links: await ackLinks(deps, sub), timeZone: ackTimeZone(deps, sub) };
  const ack = ackOf(sub, errors, totalErrors, opts.note === undefined ? ledgerNote(deps, sub) : opts.note, extras);
  const intended = ackPaths(deps.config.dropDir, ack.partner ?? 'unknown', ack.file, sub.id).json;
  let ackPath: string;
  try {
    ackPath = await writeAck(deps.config.dropDir, ack, await ackWriteOptions(deps, sub));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`;
    deps.log.warn({ submissionId, partner: sub.partner, file: sub.originalName, err: reason }, 'acknowledgment could not be written; the submission stays decided and the ack is written again later');
    try {
      await store.transaction(async (tx) => {
        await tx.ledger.updateSubmission(submissionId, { ackPending: true });
        if ((opts.mode ?? 'decision') === 'decision') {
          await tx.audit.appendAudit({
            actor: 'lotgate',
            action: 'submission.ack_failed',
            subject: `submission:${submissionId}`,
            details: { state: sub.state, path: intended, error: reason },
          });
        }
      });
    } catch (recordErr) {
      // The decision transaction already set ack_pending; nothing is lost if this fails too.
      deps.log.warn({ submissionId, err: (recordErr as Error).message }, 'the failed acknowledgment could not be recorded');
    }
    return { ack, ackPath: intended, ackError: reason };
  }
  const writtenAt = deps.now().toISOString();
  const wasPending = sub.ackPending;
  try {
    await store.transaction(async (tx) => {
      await tx.ledger.updateSubmission(submissionId, { ackPath, ackPending: false, ackWrittenAt: writtenAt });
      if (opts.mode === 'redrive') {
        await tx.audit.appendAudit({ actor: 'lotgate', action: 'submission.ack_written', subject: `submission:${submissionId}`, details: { state: sub.state, path: ackPath, late: wasPending } });
      }
    });
  } catch (err) {
    // The ack is on disk; the reconciler writes it again (same content) and clears the mark.
    deps.log.warn({ submissionId, err: (err as Error).message }, 'acknowledgment written but not yet recorded in the ledger');
  }
  return { ack, ackPath };
}

/**
 * The reconciler's step: writes every acknowledgment the ledger still owes. Idempotent — an ack
 * written twice has the same content. Returns how many were written and how many still fail.
 */
export async function redriveAcks(deps: IngestDeps, opts: { minAgeMs?: number; limit?: number } = {}): Promise<{ written: number; failed: number }> {
  let written = 0;
  let failed = 0;
  const now = deps.now().getTime();
  for (const sub of await deps.store.ledger.listAckPending(opts.limit ?? 200)) {
    // A row still being processed gets its ack from its own run.
    if (sub.state === 'received' || sub.state === 'processing') continue;
    // Decided a moment ago: its own run is writing the ack right now.
    const decidedAt = Date.parse(sub.finishedAt ?? sub.startedAt ?? sub.receivedAt);
    if (Number.isFinite(decidedAt) && now - decidedAt < (opts.minAgeMs ?? 0)) continue;
    const r = await acknowledge(deps, sub.id, { mode: 'redrive' });
    if (r.ackError) failed++;
    else written++;
  }
  return { written, failed };
}
