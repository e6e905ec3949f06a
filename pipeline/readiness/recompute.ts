// The imperative shell around the pure readiness rules: load facts, compute, and when the
// result changed, record it with an audit event and outbox messages — all inside the caller's
// transaction, so readiness never disagrees with the facts it was computed from.

import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import type { LotFacts, PartnerConfig, Readiness } from '../model/types.js';
import { deviationMessage, dispositionRequestMessage, lotReadinessMessage } from '../outbound/messages.js';
import { invalidateChangedSignatures } from '../sign/invalidate.js';
import { lotSignaturesPayload } from '../sign/payload.js';
import { readinessText, type AuditInput, type DirtyLot, type OutboxMessage, type ReadinessStamp, type Store } from '../store/store.js';
import { nextClockInstant, rulesHashOf } from './clock.js';
import { computeReadiness } from './compute.js';
import { compactPayload } from './render.js';
import { resolveRuleSet } from './rule-set.js';
import { DEFAULT_WRITER_HEAP_BUDGET_MB, HeapBudget } from '../ingest/heap-budget.js';

export interface RecomputeDeps {
  config: Pick<LotgateConfig, 'readiness'> & Partial<Pick<LotgateConfig, 'ingest'>>;
  store: Store;
  partners: () => Map<string, PartnerConfig>;
  log?: Logger;
}

export interface RecomputeSummary {
  lots: number;
  changed: number;
}

/**
 * What caused a recompute: the submission (and its partner) whose facts changed the lots, or
 * nothing (a sweep: only the clock moved). Outbox messages carry the submission id.
 */
export interface RecomputeCause {
  submissionId?: number | null;
  partner?: string | null;
}

/**
 * Whether messages caused by this change are held back (stored `held`, never delivered). A
 * partner in shadow mode feeds the board, but nothing leaves lotgate on its account: what counts
 * is the partner whose submission caused the change, not the lot's vendor — a live lab's result
 * on a shadow CMO's lot goes out. A sweep has no causing partner; then the lot's vendor decides,
 * since the state it reports rests on that partner's facts.
 */
export function outboundHeld(partners: () => Map<string, PartnerConfig>, cause: RecomputeCause, vendor: string | null | undefined): boolean {
  const who = cause.partner ?? vendor ?? null;
  return who ? partners().get(who)?.mode === 'shadow' : false;
}

/** A lot judged and waiting to be recorded (record() below). */
interface Judged {
  lotId: number;
  facts: LotFacts;
  stamp: ReadinessStamp | null;
  readiness: Readiness;
  dueAt: string | null;
  /** Signatures invalidated by this recompute (a signed lot only). */
  invalidated: number;
  /** The lot has signatures: its messages carry them. */
  signed: boolean;
}

/**
 * Recomputes these lots (each once, in the order given) inside the caller's transaction. Per
 * chunk of lots (withFacts), the readiness rows, audit events and outbox messages are written
 * with a few multi-row statements (saveReadinessMany, appendAuditMany, enqueueOutboxMany) in the
 * order a lot-by-lot recompute would write them; a signed lot is recorded on its own, after what
 * came before it, since its signature check appends audit events of its own.
 */
export async function recomputeReadiness(deps: RecomputeDeps, lotIds: Iterable<number>, now: Date, actor: string, cause: RecomputeCause = {}): Promise<RecomputeSummary> {
  const { store } = deps;
  const rulesHash = rulesHashOf(deps.config.readiness);
  const sum: RecomputeSummary = { lots: 0, changed: 0 };
  for await (const chunk of withFacts(store, new Set(lotIds))) {
    const signed = await store.auth.signedLots(chunk.map((c) => c.lotId));
    let pending: Judged[] = [];
    for (const { lotId, facts, stamp } of chunk) {
      sum.lots++;
      const rules = resolveRuleSet(deps.config.readiness, facts.material ?? { materialId: facts.lot.materialId });
      const judged: Judged = { lotId, facts, stamp, readiness: computeReadiness(facts, rules, now), dueAt: nextClockInstant(facts, rules, now), invalidated: 0, signed: signed.has(lotId) };
      if (!judged.signed) {
        pending.push(judged);
        continue;
      }
      sum.changed += await record(deps, pending, now, actor, cause, rulesHash);
      pending = [];
      // New facts from a file: a signature over the old facts no longer holds (Part 11, pipeline/sign);
      // ERP then hears of it even when the readiness state stays the same.
      if (cause.submissionId != null) judged.invalidated = await invalidateChangedSignatures(store, lotId, cause.submissionId, actor);
      sum.changed += await record(deps, [judged], now, actor, cause, rulesHash);
    }
    sum.changed += await record(deps, pending, now, actor, cause, rulesHash);
  }
  return sum;
}

/** Saves the judged lots' readiness; for each that changed (or lost a signature), its audit event and messages. Returns how many changed. */
async function record(deps: RecomputeDeps, judged: readonly Judged[], now: Date, actor: string, cause: RecomputeCause, rulesHash: string): Promise<number> {
  if (!judged.length) return 0;
  const { store } = deps;
  const at = now.toISOString();
  const saved = await store.readiness.saveReadinessMany(judged.map((j) => ({ lotId: j.lotId, readiness: j.readiness, at, clock: { dueAt: j.dueAt, rulesHash }, stamp: j.stamp })));
  const audits: AuditInput[] = [];
  const messages: OutboxMessage[] = [];
  let changed = 0;
  for (const [k, j] of judged.entries()) {
    const res = saved[k];
    if (!res.changed && !j.invalidated) continue;
    const { lot } = j.facts;
    const readiness = j.readiness;
    if (res.changed) {
      changed++;
      audits.push({
        actor,
        action: 'lot.readiness_changed',
        subject: `lot:${lot.materialId}/${lot.lotNumber}`,
        details: {
          from: res.previous ? { state: res.previous.state, late: res.previous.late } : null,
          to: { state: readiness.state, late: readiness.late },
          reasons: readiness.reasons.map((r) => r.code),
        },
      });
    }
    const state = outboundHeld(deps.partners, cause, lot.vendor) ? 'held' : 'pending';
    const submissionId = cause.submissionId ?? null;
    const vendorBatch = j.facts.identifiers.find((i) => i.scheme === 'cmo_batch' || i.scheme === 'vendor_batch')?.value;
    const msg = lotReadinessMessage({ ...lot, vendor: lot.vendor ?? undefined, vendorBatch }, readiness, at, j.signed ? await lotSignaturesPayload(store, j.lotId) : []);
    // The id is computed on the rendered payload; the outbox stores reasons as code + params
    // and renders them back when the message is read or sent (store/areas/outbox.ts).
    messages.push({ ...msg, payload: compactPayload(msg.payload, readiness), state, submissionId });
    if (readiness.state === 'READY' && res.previous?.state !== 'READY') {
      const req = dispositionRequestMessage({ ...lot, vendor: lot.vendor ?? undefined, vendorBatch }, readiness, at);
      messages.push({ ...req, payload: compactPayload(req.payload, readiness), state, submissionId });
    }
  }
  await store.audit.appendAuditMany(audits);
  await store.outbox.enqueueOutboxMany(messages);
  return changed;
}

/**
 * Puts the current version of each deviation a submission touched in the outbox (`qms.deviation`),
 * in the caller's transaction. The message id depends on the version and the lots it names, so
 * re-applying the same version (a replay) stores nothing new. Deviations the QMS itself sent are
 * not echoed back to it. Returns how many messages were newly stored.
 */
export async function enqueueDeviationUpdates(
  deps: Pick<RecomputeDeps, 'store' | 'partners'>,
  issuer: string,
  partnerRefs: Iterable<string>,
  now: Date,
  cause: RecomputeCause = {},
): Promise<number> {
  if (deps.partners().get(issuer)?.role === 'qms') return 0;
  const held = outboundHeld(deps.partners, { partner: cause.partner ?? issuer }, null);
  let stored = 0;
  for (const ref of new Set(partnerRefs)) {
    const found = await deps.store.board.getDeviationWithLots(issuer, ref);
    if (!found) continue;
    const msg = deviationMessage(found.deviation, found.lots, now.toISOString());
    if (await deps.store.outbox.enqueueOutbox({ ...msg, state: held ? 'held' : 'pending', submissionId: cause.submissionId ?? null })) stored++;
  }
  return stored;
}

/**
 * Read-only half of a recompute, for a second thread with its own read connection: which of
 * these lots would a recompute write — their new readiness differs from the stored one (by
 * digest), or its clock-due instant or rules hash does, or they have none. Writes nothing; the
 * caller recomputes the lots returned under the write lock (recomputeReadiness), where they are
 * judged again on the facts of that moment. A lot whose facts change after this read is marked
 * dirty by that change and recomputed on that account.
 */
export async function staleLots(store: Store, readiness: LotgateConfig['readiness'], lotIds: readonly number[], now: Date): Promise<number[]> {
  const rulesHash = rulesHashOf(readiness);
  const out: number[] = [];
  for await (const chunk of withFacts(store, lotIds)) {
    for (const { lotId, facts, stamp } of chunk) {
      const rules = resolveRuleSet(readiness, facts.material ?? { materialId: facts.lot.materialId });
      const dueAt = nextClockInstant(facts, rules, now);
      if (!stamp || stamp.dueAt !== dueAt || stamp.rulesHash !== rulesHash || stamp.hash !== readinessText(computeReadiness(facts, rules, now)).hash) out.push(lotId);
    }
  }
  return out;
}

/** Facts loaded at most this many lots at a time (one statement per fact table for the batch). */
const FACTS_BATCH = 200;
/**
 * ...and about this many fact rows (test results, stage events, documents) at a time: lots with
 * many results (4M results over 25k lots is 160 each) load fewer lots per batch, so the memory a
 * batch takes does not grow with the store. The next batch is sized from the rows per lot of the
 * previous one.
 */
const FACTS_BATCH_ROWS = 8_000;

function factRows(f: LotFacts): number {
  return f.testResults.length + f.stageEvents.length + f.documents.length + f.identifiers.length + 1;
}

/** The lots with their facts and stamps, a chunk at a time (FACTS_BATCH / FACTS_BATCH_ROWS). */
async function* withFacts(store: Store, lotIds: Iterable<number>): AsyncGenerator<{ lotId: number; facts: LotFacts; stamp: ReadinessStamp | null }[]> {
  let chunk: number[] = [];
  let size = FACTS_BATCH;
  const load = async () => {
    const all = await store.readiness.loadLotFactsBatch(chunk);
    const stamps = await store.readiness.readinessStamps(chunk);
    let rows = 0;
    for (const f of all) rows += factRows(f);
    size = Math.max(1, Math.min(FACTS_BATCH, Math.floor((FACTS_BATCH_ROWS * chunk.length) / Math.max(1, rows))));
    const out = chunk.map((lotId, i) => ({ lotId, facts: all[i], stamp: stamps.get(lotId) ?? null }));
    chunk = [];
    return out;
  };
  for (const id of lotIds) {
    chunk.push(id);
    if (chunk.length >= size) yield await load();
  }
  if (chunk.length) yield await load();
}

/** Lots recomputed per transaction when draining dirty markers: bounds every lock hold. */
export const DIRTY_BATCH = 200;

export interface DirtyRecomputeOptions {
  /** Only these lots (e.g. the lots a file just touched), when still marked; else every marked lot. */
  lotIds?: Iterable<number>;
  batchSize?: number;
  /** Actor of the audit events for markers without a submission (e.g. `job:readiness-sweep`). */
  actor?: string;
  /** Only markers set before this instant (the reconciler leaves fresh ones to their own process). */
  markedBefore?: string;
}

/**
 * Recomputes lots marked dirty (store/areas/readiness-dirty.ts) in bounded transactions: each reads which
 * of its lots are still marked under the write lock, recomputes them (readiness, audit, outbox)
 * and clears their markers in the same transaction. A lot another process recomputed meanwhile
 * is skipped, and a crash loses no marker — so each change is recorded exactly once. The cause
 * (submission, partner) stored with a marker is the cause of its messages, as if recomputed
 * inside the submission's own transaction.
 */
export async function recomputeDirtyLots(deps: RecomputeDeps, now: Date, opts: DirtyRecomputeOptions = {}): Promise<RecomputeSummary> {
  const { store } = deps;
  const size = Math.max(1, opts.batchSize ?? DIRTY_BATCH);
  // Between transactions the heap is brought back within the writer's budget (heap-budget.ts).
  const heap = new HeapBudget(deps.config.ingest?.writerHeapBudgetMb ?? DEFAULT_WRITER_HEAP_BUDGET_MB);
  const total: RecomputeSummary = { lots: 0, changed: 0 };
  const runBatch = async (pick: (tx: Store) => Promise<DirtyLot[]>): Promise<DirtyLot[]> => {
    const { batch, sum } = await store.transaction(async (tx) => {
      const txDeps: RecomputeDeps = { ...deps, store: tx };
      const batch = await pick(tx);
      const sum: RecomputeSummary = { lots: 0, changed: 0 };
      for (const group of byCause(batch)) {
        const actor = group.submissionId !== null ? `submission:${group.submissionId}` : opts.actor ?? 'readiness:recompute';
        const r = await recomputeReadiness(txDeps, group.lotIds, now, actor, { submissionId: group.submissionId, partner: group.partner });
        sum.lots += r.lots;
        sum.changed += r.changed;
      }
      await tx.readiness.clearDirty(batch.map((d) => d.lotId));
      return { batch, sum };
    });
    total.lots += sum.lots;
    total.changed += sum.changed;
    return batch;
  };
  const runBatchInBudget = async (pick: (tx: Store) => Promise<DirtyLot[]>): Promise<DirtyLot[]> => {
    const batch = await runBatch(pick);
    heap.now();
    return batch;
  };
  if (opts.lotIds !== undefined) {
    const ids = [...new Set(opts.lotIds)].sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i += size) {
      const chunk = ids.slice(i, i + size);
      await runBatchInBudget((tx) => tx.readiness.stillDirty(chunk));
    }
    return total;
  }
  let after = 0;
  for (;;) {
    const batch = await runBatchInBudget((tx) => tx.readiness.dirtyLots(size, after, opts.markedBefore));
    if (batch.length < size) break;
    after = batch[batch.length - 1].lotId;
  }
  return total;
}

/**
 * Recovery after a crash (the reconciler's step f): recomputes lots whose marker is older than
 * `olderThanMs` — younger ones are being recomputed by the process that set them. Returns the
 * number of lots recomputed.
 */
export async function recoverDirtyLots(deps: RecomputeDeps, now: Date, olderThanMs: number): Promise<number> {
  return (await recomputeDirtyLots(deps, now, { actor: 'lotgate:reconciler', markedBefore: new Date(now.getTime() - olderThanMs).toISOString() })).lots;
}

/** Groups markers by cause, keeping lot order within each group. */
function byCause(batch: readonly DirtyLot[]): { submissionId: number | null; partner: string | null; lotIds: number[] }[] {
  const groups = new Map<string, { submissionId: number | null; partner: string | null; lotIds: number[] }>();
  for (const d of batch) {
    const key = `${d.submissionId ?? ''}\u0000${d.partner ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { submissionId: d.submissionId, partner: d.partner, lotIds: [] }));
    g.lotIds.push(d.lotId);
  }
  return [...groups.values()];
}
