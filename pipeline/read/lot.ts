// One lot in full: the shape of `lotgate lot --json` and GET /api/v1/lots/{lotId}.

import type { LotgateConfig } from '../config/config.js';
import type { RuleSet } from '../model/types.js';
import { evaluateResult } from '../readiness/evaluate-result.js';
import { resolveRuleSet } from '../readiness/rule-set.js';
import { manifest, type SignatureManifest } from '../sign/service.js';
import type { Access, LotDetail, Store } from '../store/store.js';

/** The lot's own fields at the top level, then everything known about it. */
export function lotDetailJson(d: LotDetail, rules: RuleSet) {
  const { lot, readiness, tests, ...rest } = d;
  // Evaluation is computed, never stored: the same rule the readiness engine applies.
  const withEval = tests.map((t) => ({ ...t, evaluation: evaluateResult(t, rules.tests.find((s) => s.code === t.testCode)) }));
  return { ...lot, ...rest, tests: withEval, readiness };
}

export type LotView = ReturnType<typeof lotDetailJson> & {
  lotId: number;
  /** Part 11 manifestation: signer's printed name, date and time, meaning — valid or invalidated. */
  signatures: SignatureManifest[];
  /** A signed decision was invalidated by a later fact and none has replaced it: back in QA's queue. */
  awaitingSignature: boolean;
  /** New facts arrived and the readiness is being recomputed: `readiness` is the previous one. */
  recomputing: boolean;
};

/** The lot when it exists within `access`; undefined otherwise (callers answer "not found" either way). */
export async function lotView(store: Store, config: Pick<LotgateConfig, 'readiness'>, access: Access, lotId: number): Promise<LotView | undefined> {
  if ((await store.reads.lotIdInScope(access, lotId)) === undefined) return undefined;
  const d = await store.reads.getLotDetailById(lotId);
  if (!d) return undefined;
  const signatures: SignatureManifest[] = [];
  for (const x of await store.auth.listLotSignatures(lotId)) signatures.push(manifest(x, (await store.auth.getPrincipal(x.principalId))?.username ?? null));
  const last = signatures[signatures.length - 1];
  return {
    lotId,
    ...lotDetailJson(d, resolveRuleSet(config.readiness, d.material ?? { materialId: d.lot.materialId })),
    signatures,
    awaitingSignature: last !== undefined && !last.valid,
    recomputing: await store.readiness.isLotDirty(lotId),
  };
}

/** Lots by the sponsor's lot number within `access` (several when the number exists for several materials). */
export async function lotViewsByNumber(store: Store, config: Pick<LotgateConfig, 'readiness'>, access: Access, lotNumber: string, materialId?: string): Promise<LotView[]> {
  const out: LotView[] = [];
  for (const id of await store.reads.lotIdsByNumberInScope(access, lotNumber, materialId)) {
    const v = await lotView(store, config, access, id);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** The lot's audit subject (`lot:<material>/<lot number>`) and its events, newest first. */
export function lotTimeline(store: Store, lot: { materialId: string; lotNumber: string }, limit = 500) {
  return store.audit.listAudit({ subject: `lot:${lot.materialId}/${lot.lotNumber}`, limit });
}
