// When the clock alone changes a lot's readiness. Between two submissions a lot's facts do not
// change; only the rules that read the clock do, and they read it as a UTC calendar day
// (time.ts todayOf): shelf life (shelf-life.ts) and late milestones (late.ts). So a computed
// readiness stays what it is until the first day on which one of their comparisons flips — the
// scheduled sweep only needs to recompute lots whose day has come.

import { createHash } from 'node:crypto';
import type { LotgateConfig } from '../config/config.js';
import type { LotFacts, RuleSet } from '../model/types.js';
import { canonicalJson } from '../store/canonical-json.js';
import { latestDisposition } from './rules/disposition.js';
import { stagesNotCompleted } from './stage-status.js';
import { dayOf, todayOf } from './time.js';

const MS_PER_DAY = 86_400_000;

/**
 * The first UTC day after `today` on which computeReadiness(facts, rules, day) can differ from
 * computeReadiness(facts, rules, today) — in state, late, reasons or their wording — or null
 * when the clock alone never changes it. Pure; mirrors the day comparisons of the clock rules.
 */
export function nextClockDay(facts: LotFacts, rules: RuleSet, today: number): number | null {
  const days: number[] = [];
  // Shelf life: R_SHELF_LIFE from expiry - min + 1 (its message counts the days left, so it
  // changes every day while it applies), R_EXPIRED from expiry + 1.
  const expiry = dayOf(facts.lot.expiryDate);
  if (expiry !== null) {
    const shortFrom = expiry - rules.minShelfLifeDays + 1;
    const expiredFrom = expiry + 1;
    if (today >= shortFrom && today < expiredFrom) days.push(today + 1);
    days.push(shortFrom, expiredFrom);
  }
  // Late milestones: a required stage not completed is late from the day after its due date.
  // A disposition of released/rejected switches late off whatever the clock says.
  const decision = latestDisposition(facts)?.decision;
  const po = facts.plannedReceipt;
  const receipt = po && po.status !== 'cancelled' ? dayOf(po.confirmedDate) ?? dayOf(po.plannedDate) : null;
  if (receipt !== null && decision !== 'released' && decision !== 'rejected') {
    for (const { stage } of stagesNotCompleted(facts, rules.requiredStages)) {
      const lead = rules.stageDueDaysBeforeReceipt[stage];
      if (typeof lead !== 'number' || !Number.isFinite(lead)) continue;
      days.push(receipt - lead + 1);
    }
  }
  const future = days.filter((d) => d > today);
  return future.length ? Math.min(...future) : null;
}

/** nextClockDay as the ISO instant the sweep compares with (midnight UTC of that day). */
export function nextClockInstant(facts: LotFacts, rules: RuleSet, now: Date): string | null {
  const day = nextClockDay(facts, rules, todayOf(now));
  return day === null ? null : new Date(day * MS_PER_DAY).toISOString();
}

/** Hash of the readiness configuration every lot's rule set is resolved from (rule-set.ts). */
export function rulesHashOf(readiness: LotgateConfig['readiness']): string {
  return createHash('sha256').update(canonicalJson(readiness ?? null)).digest('hex').slice(0, 16);
}
