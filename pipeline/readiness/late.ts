import type { LotFacts, RuleSet } from '../model/types.js';
import { stagesNotCompleted } from './stage-status.js';
import { dayOf, formatDay, todayOf } from './time.js';

export interface LateResult {
  late: boolean;
  lateStages: { stage: string; dueDate: string }[];
}

/**
 * A required stage not completed by its due date: the planned receipt date (the confirmed date
 * when the vendor confirmed one) minus the stage's lead time. Due dates are whole days, so a
 * stage is late from the day after its due date (UTC). Without a planned receipt, a usable
 * receipt date, or a lead time for the stage, nothing can be late; a cancelled PO line has no
 * milestones left.
 */
export function computeLate(facts: LotFacts, rules: RuleSet, now: Date): LateResult {
  const today = todayOf(now);
  const po = facts.plannedReceipt;
  const receipt = po && po.status !== 'cancelled' ? dayOf(po.confirmedDate) ?? dayOf(po.plannedDate) : null;
  if (receipt === null) return { late: false, lateStages: [] };
  const lateStages: LateResult['lateStages'] = [];
  for (const { stage } of stagesNotCompleted(facts, rules.requiredStages)) {
    const lead = rules.stageDueDaysBeforeReceipt[stage];
    if (typeof lead !== 'number' || !Number.isFinite(lead)) continue;
    const due = receipt - lead;
    if (today > due) lateStages.push({ stage, dueDate: formatDay(due) });
  }
  return { late: lateStages.length > 0, lateStages };
}
