// The imperative shell around the pure readiness rules: load facts, compute, and when the
// result changed, record it with an audit event and outbox messages — all inside the caller's
// transaction, so readiness never disagrees with the facts it was computed from.

import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import type { PartnerConfig } from '../model/types.js';
import { dispositionRequestMessage, lotReadinessMessage } from '../outbound/messages.js';
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

export function recomputeReadiness(deps: RecomputeDeps, lotIds: Iterable<number>, now: Date, actor: string): RecomputeSummary {
  const { store } = deps;
  const at = now.toISOString();
  let lots = 0;
  let changed = 0;
  for (const lotId of lotIds) {
    lots++;
    const facts = store.loadLotFacts(lotId);
    const rules = resolveRuleSet(deps.config.readiness, facts.material ?? { materialId: facts.lot.materialId });
    const readiness = computeReadiness(facts, rules, now);
    const res = store.saveReadiness(lotId, readiness, at);
    if (!res.changed) continue;
    changed++;
    const lot = facts.lot;
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
    // Partners in shadow mode feed the board but nothing leaves lotgate on their account.
    const vendor = lot.vendor ? deps.partners().get(lot.vendor) : undefined;
    const held = vendor?.mode === 'shadow';
    const vendorBatch = facts.identifiers.find((i) => i.scheme === 'cmo_batch' || i.scheme === 'vendor_batch')?.value;
    const msg = lotReadinessMessage({ ...lot, vendor: lot.vendor ?? undefined, vendorBatch }, readiness, at);
    store.enqueueOutbox({ ...msg, payload: msg.payload, state: held ? 'held' : 'pending' });
    if (readiness.state === 'READY' && res.previous?.state !== 'READY') {
      const req = dispositionRequestMessage({ ...lot, vendor: lot.vendor ?? undefined, vendorBatch }, readiness, at);
      store.enqueueOutbox({ ...req, payload: req.payload, state: held ? 'held' : 'pending' });
    }
  }
  return { lots, changed };
}
