import type { ReadinessReason, ReadinessState } from '../model/types.js';

export const STATE_RANK: Readonly<Record<ReadinessState, number>> = { READY: 0, CONDITIONAL: 1, NOT_READY: 2, BLOCKED: 3 };

export function worstState(reasons: readonly ReadinessReason[]): ReadinessState {
  let worst: ReadinessState = 'READY';
  for (const r of reasons) if (STATE_RANK[r.severity] > STATE_RANK[worst]) worst = r.severity;
  return worst;
}

function evidenceKey(r: ReadinessReason): string {
  return r.evidence.map((e) => `${e.kind}\u0000${e.ref}\u0000${e.detail ?? ''}`).join('\u0001');
}

/**
 * Worst first, then by code. Message and evidence only break ties so that the output
 * never depends on the order the facts arrived in.
 */
export function compareReasons(a: ReadinessReason, b: ReadinessReason): number {
  return (
    STATE_RANK[b.severity] - STATE_RANK[a.severity] ||
    cmp(a.code, b.code) ||
    cmp(a.message, b.message) ||
    cmp(evidenceKey(a), evidenceKey(b))
  );
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
