// The imperative shell around the pure readiness rules: load facts, compute, and when the
// result changed, record it with an audit event and outbox messages — all inside the caller's
// transaction, so readiness never disagrees with the facts it was computed from.

import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import type { PartnerConfig } from '../model/types.js';
import { deviationMessage, dispositionRequestMessage, lotReadinessMessage } from '../outbound/messages.js';
import { invalidateChangedSignatures } from '../sign/invalidate.js';
import { lotSignaturesPayload } from '../sign/payload.js';
import type { Store } from '../store/store.js';
import { computeReadiness } from './compute.js';
import { resolveRuleSet } from './rule-set.js';

export interface RecomputeDeps {
  config: Pick<LotgateConfig, 'readiness'>;
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

export function recomputeReadiness(deps: RecomputeDeps, lotIds: Iterable<number>, now: Date, actor: string, cause: RecomputeCause = {}): RecomputeSummary {
  const { store } = deps;
  const at = now.toISOString();
  let lots = 0;
  let changed = 0;
  for (const lotId of lotIds) {
    lots++;
    // New facts from a file: a signature over the old facts no longer holds (Part 11, pipeline/sign);
    // ERP then hears of it even when the readiness state stays the same.
    const invalidated = cause.submissionId != null ? invalidateChangedSignatures(store, lotId, cause.submissionId, actor) : 0;
    const facts = store.loadLotFacts(lotId);
    const rules = resolveRuleSet(deps.config.readiness, facts.material ?? { materialId: facts.lot.materialId });
    const readiness = computeReadiness(facts, rules, now);
    const res = store.saveReadiness(lotId, readiness, at);
    if (!res.changed && !invalidated) continue;
    const lot = facts.lot;
    if (res.changed) changed++;
    if (res.changed)
      store.appendAudit({
        actor,
        action: 'lot.readiness_changed',
        subject: `lot:${lot.materialId}/${lot.lotNumber}`,
        details: {
          from: res.previous ? { state: res.previous.state, late: res.previous.late } : null,
          to: { state: readiness.state, late: readiness.late },
          reasons: readiness.reasons.map((r) => r.code),
        },
      });
    const held = outboundHeld(deps.partners, cause, lot.vendor);
    const submissionId = cause.submissionId ?? null;
    const vendorBatch = facts.identifiers.find((i) => i.scheme === 'cmo_batch' || i.scheme === 'vendor_batch')?.value;
    const msg = lotReadinessMessage({ ...lot, vendor: lot.vendor ?? undefined, vendorBatch }, readiness, at, lotSignaturesPayload(store, lotId));
    store.enqueueOutbox({ ...msg, payload: msg.payload, state: held ? 'held' : 'pending', submissionId });
    if (readiness.state === 'READY' && res.previous?.state !== 'READY') {
      const req = dispositionRequestMessage({ ...lot, vendor: lot.vendor ?? undefined, vendorBatch }, readiness, at);
      store.enqueueOutbox({ ...req, payload: req.payload, state: held ? 'held' : 'pending', submissionId });
    }
  }
  return { lots, changed };
}

/**
 * Puts the current version of each deviation a submission touched in the outbox (`qms.deviation`),
 * in the caller's transaction. The message id depends on the version and the lots it names, so
 * re-applying the same version (a replay) stores nothing new. Deviations the QMS itself sent are
 * not echoed back to it. Returns how many messages were newly stored.
 */
export function enqueueDeviationUpdates(
  deps: Pick<RecomputeDeps, 'store' | 'partners'>,
  issuer: string,
  partnerRefs: Iterable<string>,
  now: Date,
  cause: RecomputeCause = {},
): number {
  if (deps.partners().get(issuer)?.role === 'qms') return 0;
  const held = outboundHeld(deps.partners, { partner: cause.partner ?? issuer }, null);
  let stored = 0;
  for (const ref of new Set(partnerRefs)) {
    const found = deps.store.getDeviationWithLots(issuer, ref);
    if (!found) continue;
    const msg = deviationMessage(found.deviation, found.lots, now.toISOString());
    if (deps.store.enqueueOutbox({ ...msg, state: held ? 'held' : 'pending', submissionId: cause.submissionId ?? null })) stored++;
  }
  return stored;
}
