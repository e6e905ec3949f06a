// Applies one submission from the ledger: the one code path behind `lotgate ingest`, the queue
// workers and `lotgate replay`. Exactly once: the facts, the rejected rows, readiness, audit,
// outbox and the submission's terminal state are written in ONE transaction; a submission
// already in a terminal state is not applied again (its acknowledgment is rewritten).
// Named steps return what happened (a Decision, a FeedSelection, an ApplyOutcome) — no step
// steers the others by throwing.

import type { Acknowledgment, AckError, MappedRecord, PartnerConfig, RowError, SubmissionState } from '../model/types.js';
import { FileError, TERMINAL_STATES } from '../model/types.js';
import path from 'node:path';
import { enqueueDeviationUpdates, recomputeDirtyLots } from '../readiness/recompute.js';
import { acknowledge, MAX_ACK_ERRORS_KEPT, toAckError } from './acknowledge.js';
import { notRowsNote } from './ack.js';
import { InFileFacts } from './in-file-facts.js';
import type { SelectedFeed } from '../mapping/catalog.js';
import type { Store } from '../store/store.js';
import type { SubmissionRow } from '../store/types.js';
import type { IngestDeps } from './deps.js';
import { limitsFor, tooManyErrorsMessage, type FileLimits } from './limits.js';
import type { Spool } from './spool.js';
import { mapToSpool, type MapEnd, type SpooledUnit } from './map-to-spool.js';
import { mapOffThread, noteApplyRate, type MappedRows } from './map-off-thread.js';
import { threadCpuMs } from './map-stream.js';
import { DEFAULT_WRITER_HEAP_BUDGET_MB, HeapBudget } from './heap-budget.js';
import { assertReviewedMapping, assertReviewedOutcome, supersedeOlderPreviews } from './review-pin.js';
import type { ErrorCode, WarningCode } from '../codes.js';
import { isSqliteBusy, retryBusy } from '../intake/retry-busy.js';

/** Mapped rows kept in memory per file before they spill to a temp file in <dataDir>/tmp. */
const DEFAULT_SPOOL_MEMORY_BYTES = 16 * 1024 * 1024;
/**
 * Records per applyRecords call: a run of test results costs a dozen statements whatever its
 * length (areas/apply-batch.ts), so this divides a lab file's round trips; 2,000 mapped records
 * are ~2 MB on the writer's heap.
 */
const APPLY_BATCH_RECORDS = 2_000;

export interface ProcessResult {
  submissionId: number;
  state: SubmissionState;
  ack: Acknowledgment;
  ackPath: string;
  /** Set when the acknowledgment could not be written (the state is final; the ack is owed and re-driven). */
  ackError?: string;
  touchedLots: number;
  /** True when this call applied a submission held for review (opts.approval). */
  approved?: boolean;
}

interface Tally {
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
  /** Rows every fact of which a later row of the same file overwrote (W_SUPERSEDED_IN_FILE). */
  superseded: number;
  errors: AckError[];
  /** The first row errors as recorded (a review preview records them again after its rollback). */
  rowErrors: RowError[];
  errorCount: number;
}

export interface ProcessOptions {
  onProgress?: (rows: number) => void;
  /**
   * Applies a submission held for review (its partner is in `review` mode), exactly once: the
   * state is checked again under the write lock, so a second approval finds it applied.
   */
  approval?: { by: string; reason: string };
}

/**
 * The steps, each returning what the next one needs:
 *   decide → selectFeed → claim → mapToSpool (no lock) → applySpool (one transaction) → settle.
 * Only `applySpool` writes facts, and only inside its one transaction.
 */
export async function processSubmission(deps: IngestDeps, submissionId: number, opts: ProcessOptions = {}): Promise<ProcessResult> {
  // Another process's write transaction (a big file) may hold the write lock longer than the
  // busy timeout: every step rolls back what it began, so the whole run is tried again (the
  // ledger decides what is left to do, exactly once) instead of failing the file.
  return retryBusy(() => processOnce(deps, submissionId, opts), {
    maxWaitMs: BUSY_MAX_WAIT_MS,
    onRetry: (attempt, err) =>
      deps.log.warn({ code: 'W_DATABASE_BUSY' satisfies WarningCode, submissionId, attempt, err: (err as Error)?.message }, `W_DATABASE_BUSY: submission ${submissionId} waited for the write lock longer than the busy timeout; it is tried again`),
  });
}

/**
 * How long a submission keeps waiting for the write lock before the error reaches the caller
 * (the queue then delays the job without counting an attempt): longer than any file's apply.
 */
export const BUSY_MAX_WAIT_MS = 60 * 60_000;

async function processOnce(deps: IngestDeps, submissionId: number, opts: ProcessOptions): Promise<ProcessResult> {
  const sub = await deps.store.ledger.getSubmission(submissionId);
  if (!sub) throw new Error(`submission ${submissionId} is not in the ledger`);

  const decision = await decide(deps, sub, opts);
  switch (decision.kind) {
    case 'settled':
      return finish(deps, submissionId, null);
    case 'reject':
      return reject(deps, submissionId, decision.code, decision.message);
    case 'duplicate':
      return recordDuplicate(deps, sub.id, decision.first);
    case 'process':
      break;
  }
  const { partner, approval, review, dedupe } = decision;

  const selected = selectFeed(deps, partner, sub);
  if (selected.kind === 'reject') return reject(deps, submissionId, selected.code, selected.message);
  const { feed } = selected;
  // An approval applies what was reviewed, or nothing (review-pin.ts).
  if (approval) assertReviewedMapping(sub, feed);

  const started = startedFields(deps, sub, feed);
  if (!(await claim(deps, submissionId, started, approval))) return finish(deps, submissionId, null);

  const limits = limitsFor(deps.config, partner, feed.spec.feed);
  const outcome = await applyFile(deps, sub, { partner, feed, started, approval, review, dedupe, limits, onProgress: opts.onProgress });
  const result = await settle(deps, submissionId, partner.id, outcome, approval);
  // The acknowledgment is written: only now the touched lots' readiness (it never waits for it).
  if (outcome.kind === 'committed') await settleReadiness(deps, outcome.touched, outcome.at, submissionId);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Step 1: decide — what this call has to do with the submission, from the ledger alone.

export type Decision =
  /** Already decided (terminal, or held for review without an approval): only re-acknowledge. */
  | { kind: 'settled' }
  | { kind: 'reject'; code: ErrorCode; message: string }
  | { kind: 'duplicate'; first: SubmissionRow }
  | { kind: 'process'; partner: PartnerConfig; approval?: { by: string; reason: string }; review: boolean; dedupe: boolean };

export async function decide(deps: Pick<IngestDeps, 'store' | 'partners'>, sub: SubmissionRow, opts: Pick<ProcessOptions, 'approval'> = {}): Promise<Decision> {
  // Exactly once: a terminal submission is only re-acknowledged.
  if (TERMINAL_STATES.includes(sub.state as SubmissionState)) return { kind: 'settled' };
  // Held for review: only an approval applies it; a queue retry only re-acknowledges.
  if (sub.state === 'pending_review' && !opts.approval) return { kind: 'settled' };
  if (opts.approval && sub.state !== 'pending_review') throw new Error(`submission ${sub.id} is ${sub.state}; only a submission pending review can be approved`);
  const approval = opts.approval;

  const partner = deps.partners().get(sub.partner);
  if (!partner) return { kind: 'reject', code: 'E_UNKNOWN_PARTNER', message: `No partner "${sub.partner}" is configured (partners/${sub.partner}.yaml).` };

  // Only content that counts (applied, or held for review) makes a duplicate; a resend of a
  // rejected or quarantined file is processed again and linked to the submission it resends.
  const dedupe = sub.source !== 'replay' && !approval;
  if (dedupe) {
    const first = await deps.store.ledger.findAppliedBySha(sub.partner, sub.sha256, sub.id);
    if (first) return { kind: 'duplicate', first };
    const origin = await deps.store.ledger.findResendOrigin(sub.partner, sub.sha256, sub.id);
    if (origin && sub.resendOf !== origin.id) await deps.store.ledger.updateSubmission(sub.id, { resendOf: origin.id });
  }
  // Review mode: parsed, mapped and validated in full, then rolled back — the facts do not count
  // until `lotgate submission approve` applies the file.
  return { kind: 'process', partner, approval, review: !approval && partner.mode === 'review', dedupe };
}

/**
 * The transaction that decides what becomes of a submission, handed the submission as it is now.
 * Several processes (or machines) may work on one submission, or on copies of the same bytes, at
 * once; lockDecision makes them take turns (on SQLite the write lock already does), so each sees
 * what the one before it decided and the decision is made once.
 */
async function deciding<T>(store: Store, submissionId: number, fn: (tx: Store, current: SubmissionRow) => Promise<T>): Promise<T> {
  const sub = await store.ledger.getSubmission(submissionId);
  if (!sub) throw new Error(`submission ${submissionId} is not in the ledger`);
  return store.transaction(async (tx) => {
    await tx.ledger.lockDecision(sub.partner, sub.sha256);
    return fn(tx, (await tx.ledger.getSubmission(submissionId))!);
  });
}

/** Answers a submission whose bytes were already applied (or are held for review) as `duplicate`; the ack links the first. */
async function recordDuplicate(deps: IngestDeps, submissionId: number, first: SubmissionRow): Promise<ProcessResult> {
  await deciding(deps.store, submissionId, async (tx, sub) => {
    if (isDecided(sub.state) || sub.state === 'pending_review') return;
    await tx.ledger.updateSubmission(sub.id, { state: 'duplicate', duplicateOf: first.id, finishedAt: deps.now().toISOString(), ackPending: true });
    await tx.audit.appendAudit({ actor: `partner:${sub.partner}`, action: 'submission.duplicate', subject: `submission:${sub.id}`, details: { duplicateOf: first.id, sha256: sub.sha256 } });
  });
  return finish(deps, submissionId, null);
}

// ---------------------------------------------------------------------------------------------
// Step 2: selectFeed — the partner's mapping for this file name.

export type FeedSelection = { kind: 'feed'; feed: SelectedFeed } | { kind: 'reject'; code: ErrorCode; message: string };

export function selectFeed(deps: Pick<IngestDeps, 'mappings'>, partner: PartnerConfig, sub: Pick<SubmissionRow, 'originalName'>): FeedSelection {
  const feed = deps.mappings.select(partner, sub.originalName);
  if (!feed) {
    const known = deps.mappings.describe(partner);
    return { kind: 'reject', code: 'E_NO_FEED', message: `No feed of partner "${partner.id}" accepts a file named "${sub.originalName}". Accepted names: ${known || '(no feeds configured)'}.` };
  }
  if ('diagnostics' in feed) {
    return { kind: 'reject', code: 'E_MAPPING_INVALID', message: `Mapping ${feed.name} has errors and cannot be used: ${feed.diagnostics.slice(0, 3).join('; ')}` };
  }
  return { kind: 'feed', feed };
}

// ---------------------------------------------------------------------------------------------
// Step 3: claim — mark the submission `processing` unless somebody decided it meanwhile.

type StartedFields = Pick<SubmissionRow, 'feed' | 'mappingName' | 'mappingHash' | 'startedAt' | 'attempts'>;

function startedFields(deps: IngestDeps, sub: SubmissionRow, feed: SelectedFeed): StartedFields {
  return { feed: feed.spec.feed, mappingName: feed.name, mappingHash: feed.hash, startedAt: deps.now().toISOString(), attempts: (sub.attempts ?? 0) + 1 };
}

/**
 * An approval keeps `pending_review` until its commit, so a racing approval can tell. The mark
 * is only set on a submission nobody has finished meanwhile: overwriting another process's
 * `applied` (or `pending_review`) with `processing` would defeat the check under the lock.
 * Returns false when there is nothing left to do but re-acknowledge.
 */
async function claim(deps: IngestDeps, submissionId: number, started: StartedFields, approval: ProcessOptions['approval']): Promise<boolean> {
  if (approval) return true;
  return deciding(deps.store, submissionId, async (tx, cur) => {
    if (TERMINAL_STATES.includes(cur.state as SubmissionState) || cur.state === 'pending_review') return false;
    await tx.ledger.updateSubmission(submissionId, { state: 'processing', ...started });
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Step 4: mapToSpool — read and map the whole file WITHOUT the write lock (other partners' files
// go on meanwhile), checking the file's limits; the mapped rows wait in a bounded spool.

interface ApplyContext {
  partner: PartnerConfig;
  feed: SelectedFeed;
  started: StartedFields;
  approval?: { by: string; reason: string };
  review: boolean;
  /** Whether the same bytes applied meanwhile make this a duplicate (checked again under the lock). */
  dedupe: boolean;
  limits: FileLimits;
  onProgress?: (rows: number) => void;
}

/**
 * The file's size from which it is mapped on a thread of its own (map-off-thread.ts): the
 * thread's start (≈ 0.1 s of module loading) only pays off for big files.
 */
const DEFAULT_PARSE_THREAD_MIN_BYTES = 1024 * 1024;

/** The rows to apply (being mapped meanwhile when on a thread of their own), or why there are none. */
type MapStart = { kind: 'rows'; rows: MappedRows } | Exclude<MapEnd, { kind: 'mapped' }>;

async function mapRows(deps: IngestDeps, sub: SubmissionRow, ctx: ApplyContext): Promise<MapStart> {
  const { feed, limits, partner } = ctx;
  const job = {
    spec: feed.spec,
    partnerId: partner.id,
    archivePath: sub.archivePath,
    originalName: sub.originalName,
    sha256: sub.sha256,
    now: deps.now(),
    limits,
    spoolDir: path.join(deps.config.dataDir, 'tmp'),
    onProgress: ctx.onProgress,
  };
  const minBytes = deps.config.ingest?.parseThreadMinBytes ?? DEFAULT_PARSE_THREAD_MIN_BYTES;
  if ((sub.size ?? 0) >= minBytes && (feed.spec.format ?? 'csv') !== 'document') {
    const out = await mapOffThread({ ...job, hash: feed.hash, size: sub.size });
    return out.kind === 'stream' ? { kind: 'rows', rows: out.rows } : out;
  }
  const out = await mapToSpool({ ...job, compiled: feed.compiled, spoolMemoryBytes: deps.config.ingest?.spoolMemoryBytes ?? DEFAULT_SPOOL_MEMORY_BYTES });
  if (out.kind !== 'mapped') return out;
  const { spool, ...end } = out;
  const rows: MappedRows = {
    headerWarnings: end.headerWarnings,
    units: () => unitsOf(spool),
    end: () => end,
    waitedMs: () => 0,
    dispose: () => spool.dispose(),
  };
  return { kind: 'rows', rows };
}

// ---------------------------------------------------------------------------------------------
// Step 5: applySpool — apply the mapped rows in ONE write transaction that either commits the
// decision with everything it implies, or rolls back and says why. Holds the lock only for the
// database work, never for reading or mapping the file (a big file's mapping thread runs ahead).

export type ApplyOutcome =
  /** Committed: the submission is in `state` with its facts. */
  | { kind: 'committed'; state: SubmissionState; tally: Tally; touchedLots: number; notRows?: Map<string, number>; touched: ReadonlySet<number>; at: Date }
  /** Review preview, rolled back: what the file would give once approved. */
  | { kind: 'preview'; wouldBe: SubmissionState; tally: Tally }
  /** Somebody else decided it while this run waited for the write lock; rolled back. */
  | { kind: 'already_decided' }
  /** The same bytes were applied by another worker while this one waited for the lock; rolled back. */
  | { kind: 'duplicate'; first: SubmissionRow }
  | Exclude<MapEnd, { kind: 'mapped' }>;

async function applyFile(deps: IngestDeps, sub: SubmissionRow, ctx: ApplyContext): Promise<ApplyOutcome> {
  let mapped: MapStart;
  try {
    mapped = await mapRows(deps, sub, ctx);
  } catch (err) {
    if (!ctx.approval) await deps.store.ledger.updateSubmission(sub.id, { state: 'received', errorMessage: String((err as Error)?.message ?? err) });
    throw err;
  }
  if (mapped.kind !== 'rows') return mapped;
  try {
    return await applySpool(deps, sub, ctx, mapped.rows);
  } finally {
    mapped.rows.dispose();
  }
}

/**
 * Carries an outcome out of the file's transaction so that the transaction is rolled back; the
 * outcome is made only after the rollback (the lock is not held while the rest of a file is mapped).
 */
class RolledBack {
  constructor(readonly outcome: () => ApplyOutcome) {}
}

async function applySpool(deps: IngestDeps, sub: SubmissionRow, ctx: ApplyContext, mapped: MappedRows): Promise<ApplyOutcome> {
  const { store } = deps;
  const { partner, feed, approval, limits } = ctx;
  const submissionId = sub.id;
  const tally: Tally = { rows: 0, applied: 0, rejected: 0, filtered: 0, superseded: 0, errors: [], rowErrors: [], errorCount: 0 };
  const touched = new Set<number>();
  const inFile = new InFileFacts();
  const deviationRefs = new Set<string>();
  const prov = { submissionId, mappingHash: feed.hash, partner: partner.id };
  const heap = new HeapBudget(deps.config.ingest?.writerHeapBudgetMb ?? DEFAULT_WRITER_HEAP_BUDGET_MB);

  try {
    let rolledBack: RolledBack;
    try {
      return await store.transaction(async (tx): Promise<ApplyOutcome> => {
        const recordError = async (e: RowError): Promise<void> => {
          await tx.ledger.insertRejectedRow(submissionId, e);
          tally.errorCount++;
          if (tally.errors.length < MAX_ACK_ERRORS_KEPT) {
            tally.errors.push(toAckError(e));
            tally.rowErrors.push(e);
          }
        };
        // Under the write lock: another process may have applied this submission while we waited
        // (a job re-queued after Redis lost it); then there is nothing left to do.
        await tx.ledger.lockDecision(sub.partner, sub.sha256);
        const current = await tx.ledger.getSubmission(submissionId);
        const stillOpen = approval ? current?.state === 'pending_review' : current !== undefined && !TERMINAL_STATES.includes(current.state as SubmissionState) && current.state !== 'pending_review';
        if (!stillOpen) throw new RolledBack(() => ({ kind: 'already_decided' }));
        const counted = ctx.dedupe ? await tx.ledger.findAppliedBySha(sub.partner, sub.sha256, submissionId) : undefined;
        if (counted) throw new RolledBack(() => ({ kind: 'duplicate', first: counted }));
        if (approval) {
          // The preview's rejected rows are recorded again by the real apply below.
          await tx.ledger.clearRejectedRows(submissionId);
          await tx.ledger.updateSubmission(submissionId, ctx.started);
        }
        for (const w of mapped.headerWarnings ?? []) await recordError(w);
        const applyStarted = performance.now();
        const writerCpuAtStart = threadCpuMs();
        for (const batch of batchesOf(mapped.units(), APPLY_BATCH_RECORDS)) {
          // Once per batch (not every 256 calls, as per row): a batch is 2,000 records.
          heap.now();
          // The batch's records applied in line order, runs of test results together (areas/apply.ts applyRecords).
          const results = await tx.apply.applyRecords(
            partner,
            batch.flatMap((u) => u.records),
            (rec) => ({ ...prov, line: rec.line }),
          );
          let k = 0;
          for (const unit of batch) {
            let rowFailed = unit.errors.length > 0;
            for (const e of unit.errors) await recordError(e);
            inFile.beginRow(unit.line ?? unit.records[0]?.line ?? 0);
            for (const rec of unit.records) {
              const res = results[k++];
              if ('error' in res) {
                rowFailed = true;
                await recordError({ line: rec.line, ...res.error });
              } else {
                for (const id of res.lotIds) touched.add(id);
                for (const w of inFile.wrote(res.fact)) await recordError(w);
                if (rec.kind === 'deviation' && typeof rec.fields.partnerRef === 'string') deviationRefs.add(rec.fields.partnerRef);
              }
            }
            tally[inFile.endRow(rowFailed)]++;
            const lost = inFile.takeSuperseded();
            tally.applied -= lost;
            tally.superseded += lost;
            if (rowFailed && tally.rejected > limits.maxErrors) {
              // Rejected rows found while applying (unknown lots, …) count too: never half-applied.
              const line = unit.records[0]?.line ?? unit.errors[0]?.line;
              throw new RolledBack(() => {
                // The file's counts (and a file error found further on, which wins) once it is all mapped.
                const end = mapped.end();
                if (end.kind !== 'mapped') return end;
                return { kind: 'over_limit', code: 'E_TOO_MANY_ERRORS', message: tooManyErrorsMessage(limits, partner.id, feed.spec.feed, line), rows: end.rows, filtered: end.filtered, sample: tally.rowErrors };
              });
            }
          }
        }
        // A file mapped on its own thread may end in a file error only now: nothing is applied.
        const end = mapped.end();
        if (end.kind !== 'mapped') throw new RolledBack(() => end);
        tally.rows = end.rows;
        tally.filtered = end.filtered;
        const appliedMs = performance.now() - applyStarted;
        noteApplyRate(end.rows, appliedMs - mapped.waitedMs());
        if (mapped.mapCpuMs) {
          deps.log.info({ submissionId, rows: end.rows, mapThreadCpuMs: mapped.mapCpuMs(), writerMs: Math.round(appliedMs), writerWaitedMs: Math.round(mapped.waitedMs()), writerCpuMs: writerCpuAtStart === undefined ? undefined : (threadCpuMs() ?? 0) - writerCpuAtStart }, 'mapped on its own thread, applied while mapped');
        }

        const nothingToApply = tally.rows === tally.filtered;
        if (nothingToApply) {
          await recordError({ code: 'E_NO_ROWS', message: tally.rows === 0 ? 'The file has no data rows.' : `All ${tally.rows} rows were filtered out by the mapping; nothing to apply.` });
        }
        const finalState = finalStateOf(tally, nothingToApply);
        if (ctx.review) throw new RolledBack(() => ({ kind: 'preview', wouldBe: finalState, tally }));
        if (approval) assertReviewedOutcome(sub, tally);
        const now = deps.now();
        const cause = { submissionId, partner: partner.id };
        // Readiness is not computed under the file's lock: the touched lots are marked, and
        // recomputed right after the commit (a crash in between leaves the markers to the sweep).
        await tx.readiness.markLotsDirty(touched, cause);
        await enqueueDeviationUpdates({ store: tx, partners: deps.partners }, partner.id, deviationRefs, now, cause);
        if (approval) {
          await tx.audit.appendAudit({
            actor: `operator:${approval.by}`,
            action: 'submission.approved',
            subject: `submission:${submissionId}`,
            details: { by: approval.by, reason: approval.reason, at: now.toISOString(), partner: partner.id, file: sub.originalName },
          });
        }
        await tx.ledger.updateSubmission(submissionId, {
          state: finalState,
          rows: tally.rows,
          applied: tally.applied,
          rejected: tally.rejected,
          filtered: tally.filtered,
          superseded: tally.superseded,
          finishedAt: now.toISOString(),
          errorCode: finalState === 'rejected' ? tally.errors[0]?.code ?? null : null,
          errorMessage: finalState === 'rejected' ? tally.errors[0]?.message ?? null : null,
          ackPending: true,
        });
        await tx.audit.appendAudit({
          actor: `partner:${partner.id}`,
          action: `submission.${finalState}`,
          subject: `submission:${submissionId}`,
          details: { file: sub.originalName, sha256: sub.sha256, mapping: feed.name, mappingHash: feed.hash, rows: tally.rows, applied: tally.applied, rejected: tally.rejected, filtered: tally.filtered, superseded: tally.superseded, lots: touched.size },
        });
        return { kind: 'committed', state: finalState, tally, touchedLots: touched.size, notRows: end.notRows, touched, at: now };
      });
    } catch (err) {
      if (!(err instanceof RolledBack)) throw err;
      rolledBack = err;
    }
    // Rolled back on purpose (already decided, a duplicate, over the limit, a review preview…).
    return rolledBack.outcome();
  } catch (err) {
    // The mapping thread failed while the rows were being applied: the file is rejected.
    if (err instanceof FileError) return { kind: 'file_error', error: err, rows: tally.rows, filtered: tally.filtered };
    // A failed approval leaves the submission pending review, to be approved again. A busy
    // database is no failure of the file: it stays claimed and the run is tried again.
    if (!approval && !isSqliteBusy(err)) await store.ledger.updateSubmission(submissionId, { state: 'received', errorMessage: String((err as Error)?.message ?? err) });
    throw err;
  }
}

/**
 * Units in line order, grouped so that a group holds at most `maxRecords` records (a unit with
 * more is a group of its own): what one applyRecords call takes.
 */
function* batchesOf(units: Iterable<SpooledUnit>, maxRecords: number): Generator<SpooledUnit[]> {
  let batch: SpooledUnit[] = [];
  let records = 0;
  for (const unit of units) {
    if (batch.length && records + unit.records.length > maxRecords) {
      yield batch;
      batch = [];
      records = 0;
    }
    batch.push(unit);
    records += unit.records.length;
  }
  if (batch.length) yield batch;
}

/** The spooled units in line order (the spool holds batches). */
function* unitsOf(spool: Spool<SpooledUnit[]>): Generator<SpooledUnit> {
  for (const batch of spool.items()) yield* batch;
}

/**
 * Recomputes the lots a committed file marked dirty, in bounded transactions. Never throws: the
 * file is committed whatever happens here, and markers left behind are recomputed by the
 * readiness sweep (or the next recompute of those lots).
 */
async function settleReadiness(deps: IngestDeps, touched: ReadonlySet<number>, now: Date, submissionId: number): Promise<void> {
  if (touched.size === 0) return;
  try {
    deps.crashPoint?.('readiness', { submissionId, lots: touched.size });
    await recomputeDirtyLots(deps, now, { lotIds: touched });
  } catch (err) {
    deps.log?.warn({ err, submissionId, lots: touched.size }, 'readiness of the touched lots not recomputed yet; the readiness sweep will');
  }
}

/** Pure: the terminal state a file's counts give. */
export function finalStateOf(t: Pick<Tally, 'applied' | 'rejected'>, nothingToApply: boolean): SubmissionState {
  return nothingToApply || t.applied === 0 ? 'rejected' : t.rejected === 0 ? 'applied' : 'applied_with_errors';
}

// ---------------------------------------------------------------------------------------------
// Step 5: settle — turn the outcome into the recorded answer (ack) for the partner.

async function settle(deps: IngestDeps, submissionId: number, partnerId: string, outcome: ApplyOutcome, approval: ProcessOptions['approval']): Promise<ProcessResult> {
  switch (outcome.kind) {
    case 'already_decided':
      return finish(deps, submissionId, null);
    case 'duplicate':
      return recordDuplicate(deps, submissionId, outcome.first);
    case 'preview':
      return holdForReview(deps, submissionId, partnerId, outcome.wouldBe, outcome.tally);
    case 'file_error':
      return reject(deps, submissionId, outcome.error.code, outcome.error.message, outcome.error.line, outcome.error.column, outcome.rows, [], outcome.filtered);
    case 'over_limit':
      return reject(deps, submissionId, outcome.code, outcome.message, undefined, undefined, outcome.rows, outcome.sample, outcome.filtered);
    case 'committed': {
      const notes = [approval ? `Approved by ${approval.by}: ${approval.reason}` : null, notRowsNote(outcome.notRows)].filter((n): n is string => n !== null);
      const res = await finish(deps, submissionId, notes.length > 0 ? notes.join(' ') : null, outcome.tally);
      return { ...res, touchedLots: outcome.touchedLots, ...(approval ? { approved: true } : {}) };
    }
  }
}

/**
 * Records the outcome of a review preview after its rollback: `pending_review` with the counts
 * the file would have, or `rejected` when nothing in it could be applied anyway.
 */
async function holdForReview(deps: IngestDeps, submissionId: number, partnerId: string, wouldBe: SubmissionState, tally: Tally): Promise<ProcessResult> {
  const { store } = deps;
  const now = deps.now().toISOString();
  const rejected = wouldBe === 'rejected';
  const held = await deciding(store, submissionId, async (tx, cur) => {
    // Another process previewed (or decided) it while this one mapped: its answer stands.
    if (isDecided(cur.state) || cur.state === 'pending_review') return false;
    for (const e of tally.rowErrors) await tx.ledger.insertRejectedRow(submissionId, e);
    await tx.ledger.updateSubmission(submissionId, {
      state: rejected ? 'rejected' : 'pending_review',
      rows: tally.rows,
      applied: rejected ? 0 : tally.applied,
      rejected: tally.rejected,
      filtered: tally.filtered,
      superseded: tally.superseded,
      finishedAt: rejected ? now : undefined,
      errorCode: rejected ? tally.rowErrors[0]?.code ?? null : null,
      errorMessage: rejected ? tally.rowErrors[0]?.message ?? null : null,
      ackPending: true,
    });
    await tx.audit.appendAudit({
      actor: `partner:${partnerId}`,
      action: rejected ? 'submission.rejected' : 'submission.pending_review',
      subject: `submission:${submissionId}`,
      details: { rows: tally.rows, wouldApply: tally.applied, rejected: tally.rejected, filtered: tally.filtered, superseded: tally.superseded, mode: 'review' },
    });
    if (!rejected) await supersedeOlderPreviews(tx, (await tx.ledger.getSubmission(submissionId))!, now);
    return true;
  });
  if (!held) return finish(deps, submissionId, null);
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
  const changed = await deciding(store, submissionId, async (tx, sub) => {
    if (sub.state !== 'pending_review') return false;
    const now = deps.now().toISOString();
    await tx.ledger.insertRejectedRow(submissionId, { code: 'E_REVIEW_REJECTED', message });
    // Nothing applied: every row the mapping selected counts as rejected (counts still add up).
    await tx.ledger.updateSubmission(submissionId, { state: 'rejected', applied: 0, rejected: sub.rows - sub.filtered, superseded: 0, errorCode: 'E_REVIEW_REJECTED', errorMessage: message, finishedAt: now, ackPending: true });
    await tx.audit.appendAudit({
      actor: `operator:${by}`,
      action: 'submission.review_rejected',
      subject: `submission:${submissionId}`,
      details: { by, reason, at: now, partner: sub.partner, file: sub.originalName },
    });
    return true;
  });
  return { changed, result: await finish(deps, submissionId, null) };
}

/**
 * Marks the submission rejected as a whole (nothing applied) with one coded error. A submission
 * already decided (another process finished it meanwhile) keeps its state: it is only re-acknowledged.
 */
export async function reject(
  deps: IngestDeps,
  submissionId: number,
  code: ErrorCode,
  message: string,
  line?: number,
  column?: number,
  rows = 0,
  /** Row errors found before the file was rejected (listed after the file's error). */
  sample: RowError[] = [],
  filtered = 0,
): Promise<ProcessResult> {
  await deciding(deps.store, submissionId, async (tx, cur) => {
    if (isDecided(cur.state)) return;
    await tx.ledger.insertRejectedRow(submissionId, { code, message, line, column });
    for (const e of sample.slice(0, MAX_ACK_ERRORS_KEPT)) await tx.ledger.insertRejectedRow(submissionId, e);
    // The file as a whole is refused: every row read that the mapping selected counts as rejected.
    await tx.ledger.updateSubmission(submissionId, { state: 'rejected', rows, applied: 0, rejected: rows - filtered, filtered, superseded: 0, errorCode: code, errorMessage: message, finishedAt: deps.now().toISOString(), ackPending: true });
    await tx.audit.appendAudit({ actor: 'lotgate', action: 'submission.rejected', subject: `submission:${submissionId}`, details: { code, message, line, column } });
  });
  return finish(deps, submissionId, null);
}

/**
 * Marks a submission quarantined (partial upload, or failed after its last attempt). Only a
 * submission that is not decided yet: a terminal state is final (an applied file whose ack could
 * not be written stays applied), and a file held for review keeps waiting for its reviewer.
 */
export async function quarantine(deps: IngestDeps, submissionId: number, code: ErrorCode, message: string): Promise<ProcessResult> {
  const { store } = deps;
  const changed = await deciding(store, submissionId, async (tx, cur) => {
    if (isDecided(cur.state) || cur.state === 'pending_review') return false;
    await tx.ledger.insertRejectedRow(submissionId, { code, message });
    await tx.ledger.updateSubmission(submissionId, { state: 'quarantined', errorCode: code, errorMessage: message, finishedAt: deps.now().toISOString(), ackPending: true });
    await tx.audit.appendAudit({ actor: 'lotgate', action: 'submission.quarantined', subject: `submission:${submissionId}`, details: { code, message } });
    return true;
  });
  if (!changed) deps.log.info({ submissionId, code }, 'not quarantined: the submission is already decided; its acknowledgment is written again');
  return finish(deps, submissionId, null);
}

function isDecided(state: string | undefined): boolean {
  return state !== undefined && TERMINAL_STATES.includes(state as SubmissionState);
}

/** Builds the acknowledgment from the ledger (the source of truth) and writes it; a failed write is recorded, never thrown. */
async function finish(deps: IngestDeps, submissionId: number, note: string | null, tally?: Tally): Promise<ProcessResult> {
  const r = await acknowledge(deps, submissionId, { note: note ?? undefined, known: tally ? { errors: tally.errors, errorCount: tally.errorCount } : undefined });
  return { submissionId, state: r.ack.state, ack: r.ack, ackPath: r.ackPath, ...(r.ackError ? { ackError: r.ackError } : {}), touchedLots: 0 };
}
