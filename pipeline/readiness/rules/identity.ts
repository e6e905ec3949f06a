import type { ReadinessReason } from '../../model/types.js';
import { reason } from '../render.js';
import type { Rule } from '../rule.js';

/** An identifier of this lot that also points at another lot: nothing from that partner can be trusted to be about this lot. */
export const identityRule: Rule = (facts) => {
  const seen = new Set<string>();
  const reasons: ReadinessReason[] = [];
  for (const c of facts.conflictingIdentifiers) {
    const key = `${c.scheme}\u0000${c.value}\u0000${c.issuer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const lots = [...new Set(c.lotNumbers)].sort();
    const others = lots.filter((l) => l !== facts.lot.lotNumber);
    reasons.push(
      reason(facts, 'R_ID_CONFLICT', 'BLOCKED', { scheme: c.scheme, value: c.value, issuer: c.issuer, others }, [
        { kind: 'identifier', ref: `${c.scheme}:${c.value}`, detail: `issuer ${c.issuer}; lots ${lots.join(', ')}` },
      ]),
    );
  }
  return reasons;
};
