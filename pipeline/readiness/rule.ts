import type { LotFacts, ReadinessReason, RuleSet } from '../model/types.js';

/**
 * One readiness rule: a pure function of the lot's facts, the resolved rule set and the clock.
 * It returns the reasons it has against release; an empty list means the rule is satisfied.
 */
export type Rule = (facts: LotFacts, rules: RuleSet, now: Date) => ReadinessReason[];
