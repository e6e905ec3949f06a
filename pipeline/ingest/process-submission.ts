// Applies one submission from the ledger: the one code path behind `lotgate ingest`, the queue
// workers and `lotgate replay`. Exactly once: the facts, the rejected rows, readiness, audit,
// outbox and the submission's terminal state are written in ONE transaction; a submission
// already in a terminal state is not applied again (its acknowledgment is rewritten).

import type { Acknowledgment, AckError, MappedRecord, RowError, SubmissionState } from '../model/types.js';
import { FileError, TERMINAL_STATES } from '../model/types.js';
import { mapFile } from '../mapping/map-file.js';
import { recomputeReadiness } from '../readiness/recompute.js';
import { buildAck, writeAck } from './ack.js';
import type { IngestDeps } from './deps.js';

export interface ProcessResult {
  submissionId: number;
  state: SubmissionState;
  ack: Acknowledgment;
  ackPath: string;
  touchedLots: number;
}

interface Tally {
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
  errors: AckError[];
  errorCount: number;
}

const MAX_ACK_ERRORS_KEPT = 500;

export async function processSubmission(deps: IngestDeps, submissionId: number, opts: { onProgress?: (rows: number) => void } = {}): Promise<ProcessResult> {
  const { store } = deps;
  const sub = store.getSubmission(submissionId);
  if (!sub) throw new Error(`submission ${submissionId} is not in the ledger`);

  // Exactly once: a terminal submission is only re-acknowledged.
  if (TERMINAL_STATES.includes(sub.state as SubmissionState)) {
    return finish(deps, submissionId, null);
  }

  const partner = deps.partners().get(sub.partner);
  if (!partner) return reject(deps, submissionId, 'E_UNKNOWN_PARTNER', `No partner "${sub.partner}" is configured (partners/${sub.partner}.yaml).`);

  if (sub.source !== 'replay') {
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

  const startedAt = deps.now().toISOString();
  store.updateSubmission(submissionId, {
    state: 'processing',
    feed: feed.spec.feed,
    mappingName: feed.name,
    mappingHash: feed.hash,
    startedAt,
    attempts: (sub.attempts ?? 0) + 1,
  });

  const tally: Tally = { rows: 0, applied: 0, rejected: 0, filtered: 0, errors: [], errorCount: 0 };
  const touched = new Set<number>();
  const prov = { submissionId, mappingHash: feed.hash, partner: partner.id };
  const recordError = (e: RowError) => {
    store.insertRejectedRow(submissionId, e);
    tally.errorCount++;
    if (tally.errors.length < MAX_ACK_ERRORS_KEPT) tally.errors.push(toAckError(e));
  };

  store.begin();
  try {
    for await (const unit of mapFile(feed.compiled, feed.spec, sub.archivePath, sub.originalName)) {
      tally.rows++;
      if (unit.records.length === 0 && unit.errors.length === 0) {
        tally.filtered++;
        continue;
      }
      let rowFailed = unit.errors.length > 0;
      for (const e of unit.errors) recordError(e);
      for (const rec of unit.records) {
        if (rec.kind === 'document') attachDocumentFile(rec, sub.sha256, sub.archivePath);
        const res = store.applyRecord(partner, rec, { ...prov, line: rec.line });
        if ('error' in res) {
          rowFailed = true;
          recordError({ line: rec.line, ...res.error });
        } else {
          for (const id of res.lotIds) touched.add(id);
        }
      }
      if (rowFailed) tally.rejected++;
      else tally.applied++;
      if (opts.onProgress && tally.rows % 50_000 === 0) opts.onProgress(tally.rows);
    }

    const state: SubmissionState = tally.rejected === 0 && tally.applied > 0 ? 'applied' : tally.applied > 0 ? 'applied_with_errors' : 'rejected';
    if (tally.rows === tally.filtered) {
      recordError({ code: 'E_NO_ROWS', message: tally.rows === 0 ? 'The file has no data rows.' : `All ${tally.rows} rows were filtered out by the mapping; nothing to apply.` });
    }
    const finalState: SubmissionState = tally.rows === tally.filtered ? 'rejected' : state;
    const now = deps.now();
    recomputeReadiness(deps, [...touched], now, `submission:${submissionId}`);
    store.updateSubmission(submissionId, {
      state: finalState,
      rows: tally.rows,
      applied: tally.applied,
      rejected: tally.rejected,
      finishedAt: now.toISOString(),
      errorCode: finalState === 'rejected' ? tally.errors[0]?.code ?? null : null,
      errorMessage: finalState === 'rejected' ? tally.errors[0]?.message ?? null : null,
    });
    store.appendAudit({
      actor: `partner:${partner.id}`,
      action: `submission.${finalState}`,
      subject: `submission:${submissionId}`,
      details: { file: sub.originalName, sha256: sub.sha256, mapping: feed.name, mappingHash: feed.hash, rows: tally.rows, applied: tally.applied, rejected: tally.rejected, lots: touched.size },
    });
    store.commit();
  } catch (err) {
    store.rollback();
    if (err instanceof FileError) {
      return reject(deps, submissionId, err.code, err.message, err.line, err.column, tally.rows);
    }
    store.updateSubmission(submissionId, { state: 'received', errorMessage: String((err as Error)?.message ?? err) });
    throw err;
  }
  const res = await finish(deps, submissionId, null, tally);
  return { ...res, touchedLots: touched.size };
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
): Promise<ProcessResult> {
  const { store } = deps;
  store.transaction(() => {
    store.insertRejectedRow(submissionId, { code, message, line, column });
    store.updateSubmission(submissionId, { state: 'rejected', rows, applied: 0, rejected: 0, errorCode: code, errorMessage: message, finishedAt: deps.now().toISOString() });
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
    counts: { rows: sub.rows ?? 0, applied: sub.applied ?? 0, rejected: sub.rejected ?? 0 },
    errors,
    totalErrors,
    duplicateOf: sub.duplicateOf ?? undefined,
    note: note ?? undefined,
  });
  const ackPath = await writeAck(deps.config.dropDir, ack, deps.config.intake.ackCsv);
  if (sub.ackPath !== ackPath) deps.store.updateSubmission(submissionId, { ackPath });
  return { submissionId, state: ack.state, ack, ackPath, touchedLots: 0 };
}
