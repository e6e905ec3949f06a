import type { DispositionDecision, DispositionRow, LotFacts } from '../../model/types.js';
import { reason } from '../render.js';
import type { Rule } from '../rule.js';
import { cmp } from '../severity.js';
import { instantOf } from '../time.js';

// Same-instant decisions resolve to the more restrictive one, never to arrival order.
const TIE_RANK: Record<DispositionDecision, number> = { released: 0, quarantine: 1, rejected: 2 };

function later(a: DispositionRow, b: DispositionRow): boolean {
  const d = instantOf(a.decidedAt) - instantOf(b.decidedAt);
  if (d !== 0 && !Number.isNaN(d)) return d > 0;
  return (TIE_RANK[a.decision] - TIE_RANK[b.decision] || cmp(a.decidedBy ?? '', b.decidedBy ?? '')) > 0;
}

/** The QMS decision in force for the lot, if any. */
export function latestDisposition(facts: LotFacts): DispositionRow | undefined {
  let best: DispositionRow | undefined;
  for (const d of facts.dispositions) if (!best || later(d, best)) best = d;
  return best;
}

function evidence(d: DispositionRow): { kind: string; ref: string; detail: string } {
  return { kind: 'disposition', ref: d.decision, detail: `decided ${d.decidedAt}${d.decidedBy ? ` by ${d.decidedBy}` : ''}` };
}

/**
 * The sponsor's QMS decision. `rejected` blocks for good. `quarantine` is where every lot waits
 * for release, so on its own it says nothing readiness doesn't; a lot put back into quarantine
 * after a release has been pulled by QA and is not ready until released again. (`released` is
 * handled in computeReadiness: it waives what only a release decision could waive.)
 */
export const dispositionRule: Rule = (facts) => {
  const current = latestDisposition(facts);
  if (!current) return [];
  if (current.decision === 'rejected') {
    return [reason(facts, 'R_DISPOSITION_REJECTED', 'BLOCKED', { decidedAt: current.decidedAt, decidedBy: current.decidedBy ?? null }, [evidence(current)])];
  }
  if (current.decision === 'quarantine') {
    const releases = facts.dispositions.filter((d) => d.decision === 'released' && later(current, d));
    if (releases.length === 0) return [];
    const lastRelease = releases.reduce((a, b) => (later(b, a) ? b : a));
    return [
      reason(
        facts,
        'R_DISPOSITION_REQUARANTINED',
        'NOT_READY',
        { releasedAt: lastRelease.decidedAt, decidedAt: current.decidedAt, decidedBy: current.decidedBy ?? null },
        [evidence(current), evidence(lastRelease)],
      ),
    ];
  }
  return [];
};
