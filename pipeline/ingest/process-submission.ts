// Applies one submission from the ledger: the one code path behind `lotgate ingest`, the queue
// workers and `lotgate replay`. Exactly once: the facts, the rejected rows, readiness, audit,
// outbox and the submission's terminal state are written in ONE transaction; a submission
// already in a terminal state is not applied again (its acknowledgment is rewritten).

import type { Acknowledgment, AckError, MappedRecord, RowError, SubmissionState } from '../model/types.js';
import { FileError, TERMINAL_STATES } from '../model/types.js';
import { mapFile } from '../mapping/map-file.js';
import { enqueueDeviationUpdates, recomputeReadiness } from '../readiness/recompute.js';
import { buildAck, notRowsNote, writeAck } from './ack.js';
import { InFileFacts } from './in-file-facts.js';
import type { IngestDeps } from './deps.js';

export interface ProcessResult {
  submissionId: number;
  state: SubmissionState;
  ack: Acknowledgment;
  ackPath: string;
  touchedLots: number;
  /** True when this call applied a submission held for review (opts.approval). */
  approved?: boolean;
}

interface Tally {
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
  superseded: number;
  errors: AckError[];
  /** The first row errors as recorded (a review preview records them again after its rollback). */
  rowErrors: RowError[];
  errorCount: number;
}

const MAX_ACK_ERRORS_KEPT = 500;

export interface ProcessOptions {
  onProgress?: (rows: number) => void;
  /**
   * Applies a submission held for review (its partner is in `review` mode), exactly once: the
   * state is checked again under the write lock, so a second approval finds it applied.
   */
  approval?: { by: string; reason: string };
}

export async function processSubmission(deps: IngestDeps, submissionId: number, opts: ProcessOptions = {}): Promise<ProcessResult> {
  const { store } = deps;
  const sub = store.getSubmission(submissionId);
  if (!sub) throw new Error(`submission ${submissionId} is not in the ledger`);

  // Exactly once: a terminal submission is only re-acknowledged.
  if (TERMINAL_STATES.includes(sub.state as SubmissionState)) {
    return finish(deps, submissionId, null);
  }
  // Held for review: only an approval applies it; a queue retry only re-acknowledges.
  if (sub.state === 'pending_review' && !opts.approval) return finish(deps, submissionId, null);
  if (opts.approval && sub.state !== 'pending_review') throw new Error(`submission ${submissionId} is ${sub.state}; only a submission pending review can be approved`);
  const approval = opts.approval;

  const partner = deps.partners().get(sub.partner);
  if (!partner) return reject(deps, submissionId, 'E_UNKNOWN_PARTNER', `No partner "${sub.partner}" is configured (partners/${sub.partner}.yaml).`);

  if (sub.source !== 'replay' && !approval) {
    const first = store.findAppliedBySha(sub.partner, sub.sha256);
    if (first && first.id < submissionId) {
      store.transaction(() => {
        store.updateSubmission(submissionId, { state: 'duplicate', duplicateOf: first.id, finishedAt: deps.now().toISOString() });
        store.appendAudit({ actor: `partner:${sub.partner}`, action: 'submission.duplicate', subject: `submission:${submissionId}`, details: { duplicateOf: first.id, sha256: sub.sha256 } });
      });
      return finish(deps, submissionId, `Same content as "${first.originalName}" (submission ${first.id}, ${first.state}).`);
    }
  }

  const feed = deps.mappings.select(partner, sub.originalName);
  if (!feed) {
    const known = deps.mappings.describe(partner);
    return reject(deps, submissionId, 'E_NO_FEED', `No feed of partner "${partner.id}" accepts a file named "${sub.originalName}". Accepted names: ${known || '(no feeds configured)'}.`);
  }
  if ('diagnostics' in feed) {
    return reject(deps, submissionId, 'E_MAPPING_INVALID', `Mapping ${feed.name} has errors and cannot be used: ${feed.diagnostics.slice(0, 3).join('; ')}`);
  }

  // Review mode: parsed, mapped and validated in full, then rolled back — the facts do not count
  // until `lotgate submission approve` applies the file.
  const review = !approval && partner.mode === 'review';
  const startedAt = deps.now().toISOString();
  const started = {
    feed: feed.spec.feed,
    mappingName: feed.name,
    mappingHash: feed.hash,
    startedAt,
    attempts: (sub.attempts ?? 0) + 1,
  };
  // An approval keeps `pending_review` until its commit, so a racing approval can tell. The mark
  // is only set on a submission nobody has finished meanwhile: overwriting another process's
  // `applied` (or `pending_review`) with `processing` would defeat the check under the lock below.
  if (!approval) {
    const mine = store.transaction(() => {
      const cur = store.getSubmission(submissionId);
      if (!cur || TERMINAL_STATES.includes(cur.state as SubmissionState) || cur.state === 'pending_review') return false;
      store.updateSubmission(submissionId, { state: 'processing', ...started });
      return true;
    });
    if (!mine) return finish(deps, submissionId, null);
  }

  const tally: Tally = { rows: 0, applied: 0, rejected: 0, filtered: 0, superseded: 0, errors: [], rowErrors: [], errorCount: 0 };
  const touched = new Set<number>();
  const inFile = new InFileFacts();
  let notRows: Map<string, number> | undefined;
  const deviationRefs = new Set<string>();
  const prov = { submissionId, mappingHash: feed.hash, partner: partner.id };
  const recordError = (e: RowError) => {
    store.insertRejectedRow(submissionId, e);
    tally.errorCount++;
    if (tally.errors.length < MAX_ACK_ERRORS_KEPT) {
      tally.errors.push(toAckError(e));
      tally.rowErrors.push(e);
    }
  };

  let outcome: 'committed' | 'already_decided' | { review: SubmissionState } = 'committed';
  store.begin();
  try {
    // Under the write lock: another process may have applied this submission while we waited
    // (a job re-queued after Redis lost it); then there is nothing left to do.
    const current = store.getSubmission(submissionId);
    if (!approval && current && (TERMINAL_STATES.includes(current.state as SubmissionState) || current.state === 'pending_review')) {
      outcome = 'already_decided';
      throw new AlreadyDecided();
    }
    if (approval) {
      if (current?.state !== 'pending_review') {
        outcome = 'already_decided';
        throw new AlreadyDecided();
      }
      // The preview's rejected rows are recorded again by the real apply below.
      store.clearRejectedRows(submissionId);
      store.updateSubmission(submissionId, started);
    }
    for await (const unit of mapFile(feed.compiled, feed.spec, sub.archivePath, sub.originalName, { now: deps.now(), onXmlUnmatched: (m) => (notRows = m) })) {
      tally.rows++;
      if (unit.records.length === 0 && unit.errors.length === 0) {
        tally.filtered++;
        continue;
      }
      let rowFailed = unit.errors.length > 0;
      for (const e of unit.errors) recordError(e);
      inFile.beginRow(unit.line ?? unit.records[0]?.line ?? tally.rows);
      for (const rec of unit.records) {
        if (rec.kind === 'document') attachDocumentFile(rec, sub.sha256, sub.archivePath);
        const res = store.applyRecord(partner, rec, { ...prov, line: rec.line });
        if ('error' in res) {
          rowFailed = true;
          recordError({ line: rec.line, ...res.error });
        } else {
          for (const id of res.lotIds) touched.add(id);
          for (const w of inFile.wrote(res.fact)) recordError(w);
          if (rec.kind === 'deviation' && typeof rec.fields.partnerRef === 'string') deviationRefs.add(rec.fields.partnerRef);
        }
      }
      tally[inFile.endRow(rowFailed)]++;
      const lost = inFile.takeSuperseded();
      tally.applied -= lost;
      tally.superseded += lost;
      if (opts.onProgress && tally.rows % 50_000 === 0) opts.onProgress(tally.rows);
    }

    const nothingToApply = tally.rows === tally.filtered;
    if (nothingToApply) {
      recordError({ code: 'E_NO_ROWS', message: tally.rows === 0 ? 'The file has no data rows.' : `All ${tally.rows} rows were filtered out by the mapping; nothing to apply.` });
    }
    const finalState: SubmissionState = nothingToApply || tally.applied === 0 ? 'rejected' : tally.rejected === 0 ? 'applied' : 'applied_with_errors';
    if (review) {
      outcome = { review: finalState };
      throw new AlreadyDecided();
    }
    const now = deps.now();
    const cause = { submissionId, partner: partner.id };
    recomputeReadiness(deps, [...touched], now, `submission:${submissionId}`, cause);
    enqueueDeviationUpdates(deps, partner.id, deviationRefs, now, cause);
    if (approval) {
      store.appendAudit({
        actor: `operator:${approval.by}`,
        action: 'submission.approved',
        subject: `submission:${submissionId}`,
        details: { by: approval.by, reason: approval.reason, at: now.toISOString(), partner: partner.id, file: sub.originalName },
      });
    }
    store.updateSubmission(submissionId, {
      state: finalState,
      rows: tally.rows,
      applied: tally.applied,
      rejected: tally.rejected,
      filtered: tally.filtered,
      superseded: tally.superseded,
      finishedAt: now.toISOString(),
      errorCode: finalState === 'rejected' ? tally.errors[0]?.code ?? null : null,
      errorMessage: finalState === 'rejected' ? tally.errors[0]?.message ?? null : null,
    });
    store.appendAudit({
      actor: `partner:${partner.id}`,
      action: `submission.${finalState}`,
      subject: `submission:${submissionId}`,
      details: { file: sub.originalName, sha256: sub.sha256, mapping: feed.name, mappingHash: feed.hash, rows: tally.rows, applied: tally.applied, rejected: tally.rejected, filtered: tally.filtered, superseded: tally.superseded, lots: touched.size },
    });
    store.commit();
  } catch (err) {
    store.rollback();
    if (err instanceof AlreadyDecided) {
      if (outcome === 'already_decided') return finish(deps, submissionId, null);
      if (typeof outcome === 'object') return holdForReview(deps, submissionId, partner.id, outcome.review, tally);
    }
    if (err instanceof FileError) {
      return reject(deps, submissionId, err.code, err.message, err.line, err.column, tally.rows, tally.filtered);
    }
    // A failed approval leaves the submission pending review, to be approved again.
    if (!approval) store.updateSubmission(submissionId, { state: 'received', errorMessage: String((err as Error)?.message ?? err) });
    throw err;
  }
  const notes = [approval ? `Approved by ${approval.by}: ${approval.reason}` : null, notRowsNote(notRows)].filter((n): n is string => n !== null);
  const res = await finish(deps, submissionId, notes.length > 0 ? notes.join(' ') : null, tally);
  return { ...res, touchedLots: touched.size, ...(approval ? { approved: true } : {}) };
}

/** Unwinds the file's transaction without applying it (review preview, or an approval that lost the race). */
class AlreadyDecided extends Error {}

/**
 * Records the outcome of a review preview after its rollback: `pending_review` with the counts
 * the file would have, or `rejected` when nothing in it could be applied anyway.
 */
async function holdForReview(deps: IngestDeps, submissionId: number, partnerId: string, wouldBe: SubmissionState, tally: Tally): Promise<ProcessResult> {
  const { store } = deps;
  const now = deps.now().toISOString();
  const rejected = wouldBe === 'rejected';
  store.transaction(() => {
    for (const e of tally.rowErrors) store.insertRejectedRow(submissionId, e);
    store.updateSubmission(submissionId, {
      state: rejected ? 'rejected' : 'pending_review',
      rows: tally.rows,
      applied: rejected ? 0 : tally.applied,
      rejected: tally.rejected,
      filtered: tally.filtered,
      superseded: tally.superseded,
      finishedAt: rejected ? now : undefined,
      errorCode: rejected ? tally.rowErrors[0]?.code ?? null : null,
      errorMessage: rejected ? tally.rowErrors[0]?.message ?? null : null,
    });
    store.appendAudit({
      actor: `partner:${partnerId}`,
      action: rejected ? 'submission.rejected' : 'submission.pending_review',
      subject: `submission:${submissionId}`,
      details: { rows: tally.rows, wouldApply: tally.applied, rejected: tally.rejected, filtered: tally.filtered, superseded: tally.superseded, mode: 'review' },
    });
  });
  const note = rejected
    ? null
    : `Nothing counts yet: ${tally.applied} row(s) would be applied${tally.rejected ? ` and ${tally.rejected} rejected` : ''} once the sponsor approves this file.`;
  return finish(deps, submissionId, note, tally);
}

/**
 * A reviewer turns a held submission down: terminal `rejected`, with who and why in the audit
 * trail and the acknowledgment. Returns false (and changes nothing) unless it was pending review.
 */
export async function rejectReview(deps: IngestDeps, submissionId: number, by: string, reason: string): Promise<{ changed: boolean; result: ProcessResult }> {
  const { store } = deps;
  const message = `Rejected in review by ${by}: ${reason}`;
  const changed = store.transaction(() => {
    const sub = store.getSubmission(submissionId);
    if (sub?.state !== 'pending_review') return false;
    const now = deps.now().toISOString();
    store.insertRejectedRow(submissionId, { code: 'E_REVIEW_REJECTED', message });
    // Nothing applied: every row the mapping selected counts as rejected (counts still add up).
    store.updateSubmission(submissionId, { state: 'rejected', applied: 0, rejected: sub.rows - sub.filtered, superseded: 0, errorCode: 'E_REVIEW_REJECTED', errorMessage: message, finishedAt: now });
    store.appendAudit({
      actor: `operator:${by}`,
      action: 'submission.review_rejected',
      subject: `submission:${submissionId}`,
      details: { by, reason, at: now, partner: sub.partner, file: sub.originalName },
    });
    return true;
  });
  return { changed, result: await finish(deps, submissionId, null) };
}

function attachDocumentFile(rec: MappedRecord, sha256: string, storedPath: string): void {
  rec.fields.sha256 = sha256;
  rec.fields.storedPath = storedPath;
}

function toAckError(e: RowError): AckError {
  const out: AckError = { code: e.code, message: e.message };
  if (e.line !== undefined) out.line = e.line;
  if (e.column !== undefined) out.column = e.column;
  if (e.field !== undefined) out.field = e.field;
  return out;
}

/** Marks the submission rejected as a whole (nothing applied) with one coded error. */
export async function reject(
  deps: IngestDeps,
  submissionId: number,
  code: string,
  message: string,
  line?: number,
  column?: number,
  rows = 0,
  filtered = 0,
): Promise<ProcessResult> {
  const { store } = deps;
  store.transaction(() => {
    store.insertRejectedRow(submissionId, { code, message, line, column });
    // The file as a whole is refused: every row read that the mapping selected counts as rejected.
    store.updateSubmission(submissionId, { state: 'rejected', rows, applied: 0, rejected: rows - filtered, filtered, superseded: 0, errorCode: code, errorMessage: message, finishedAt: deps.now().toISOString() });
    store.appendAudit({ actor: 'lotgate', action: 'submission.rejected', subject: `submission:${submissionId}`, details: { code, message, line, column } });
  });
  return finish(deps, submissionId, null);
}

/** Marks a submission quarantined (partial upload, or failed after its last attempt). */
export async function quarantine(deps: IngestDeps, submissionId: number, code: string, message: string): Promise<ProcessResult> {
  const { store } = deps;
  store.transaction(() => {
    store.insertRejectedRow(submissionId, { code, message });
    store.updateSubmission(submissionId, { state: 'quarantined', errorCode: code, errorMessage: message, finishedAt: deps.now().toISOString() });
    store.appendAudit({ actor: 'lotgate', action: 'submission.quarantined', subject: `submission:${submissionId}`, details: { code, message } });
  });
  return finish(deps, submissionId, null);
}

/** Builds the acknowledgment from the ledger (the source of truth) and writes it. */
async function finish(deps: IngestDeps, submissionId: number, note: string | null, tally?: Tally): Promise<ProcessResult> {
  const sub = deps.store.getSubmission(submissionId)!;
  const errors = tally?.errors ?? deps.store.listRejectedRows(submissionId, MAX_ACK_ERRORS_KEPT).map(toAckError);
  const totalErrors = tally?.errorCount ?? deps.store.countRejectedRows(submissionId);
  const ack = buildAck({
    submissionId,
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
    duplicateOf: sub.duplicateOf ?? undefined,
    note: note ?? undefined,
  });
  const ackPath = await writeAck(deps.config.dropDir, ack, deps.config.intake.ackCsv);
  if (sub.ackPath !== ackPath) deps.store.updateSubmission(submissionId, { ackPath });
  return { submissionId, state: ack.state, ack, ackPath, touchedLots: 0 };
}
