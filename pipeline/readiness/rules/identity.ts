import type { ReadinessReason } from '../../model/types.js';
import { lotLabel } from '../describe.js';
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
    reasons.push({
      code: 'R_ID_CONFLICT',
      severity: 'BLOCKED',
      message:
        `Identifier ${c.scheme} '${c.value}' from ${c.issuer} is recorded for ${lotLabel(facts)} and also for ` +
        `${others.length ? `lot ${others.join(', lot ')}` : 'another lot'}, so records sent under it cannot be attributed safely. ` +
        `Correct the cross-reference (partner mapping or ERP lot master) so it names one lot.`,
      evidence: [{ kind: 'identifier', ref: `${c.scheme}:${c.value}`, detail: `issuer ${c.issuer}; lots ${lots.join(', ')}` }],
    });
  }
  return reasons;
};
