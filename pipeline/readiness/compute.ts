import type { LotFacts, Readiness, RuleSet } from '../model/types.js';
import { computeLate } from './late.js';
import type { Rule } from './rule.js';
import { deviationsRule } from './rules/deviations.js';
import { dispositionRule, latestDisposition } from './rules/disposition.js';
import { documentsRule } from './rules/documents.js';
import { identityRule } from './rules/identity.js';
import { labelApprovalRule } from './rules/label-approval.js';
import { quantityRule } from './rules/quantity.js';
import { shelfLifeRule } from './rules/shelf-life.js';
import { stagesRule } from './rules/stages.js';
import { testsRule } from './rules/tests.js';
import { compareReasons, worstState } from './severity.js';

/** Every rule, in DESIGN.md §4 order. The order does not affect the result (reasons are sorted). */
export const READINESS_RULES: readonly { name: string; rule: Rule }[] = [
  { name: 'identity', rule: identityRule },
  { name: 'stages', rule: stagesRule },
  { name: 'documents', rule: documentsRule },
  { name: 'tests', rule: testsRule },
  { name: 'deviations', rule: deviationsRule },
  { name: 'label-approval', rule: labelApprovalRule },
  { name: 'shelf-life', rule: shelfLifeRule },
  { name: 'quantity', rule: quantityRule },
  { name: 'disposition', rule: dispositionRule },
];

/**
 * The lot's readiness: the worst severity among all rules' reasons (BLOCKED > NOT_READY >
 * CONDITIONAL > READY), the reasons worst first then by code, and the late flag.
 *
 * A lot the QMS has released stays READY unless something blocks it: QA's release decision
 * already covers what lotgate may only be missing a record of (a CoA never uploaded, a stage
 * event never sent, a minor deviation accepted), but a new OOS, an open major deviation, expiry
 * or an identity conflict still blocks. Released and rejected lots are never late: their
 * milestones no longer matter.
 */
export function computeReadiness(facts: LotFacts, rules: RuleSet, now: Date): Readiness {
  let reasons = READINESS_RULES.flatMap(({ rule }) => rule(facts, rules, now));
  const decision = latestDisposition(facts)?.decision;
  if (decision === 'released') reasons = reasons.filter((r) => r.severity === 'BLOCKED');
  reasons.sort(compareReasons);
  const { late, lateStages } =
    decision === 'released' || decision === 'rejected' ? { late: false, lateStages: [] } : computeLate(facts, rules, now);
  const readiness: Readiness = { state: worstState(reasons), reasons, late };
  if (late) readiness.lateStages = lateStages;
  return readiness;
}
