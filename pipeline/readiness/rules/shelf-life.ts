import { reason } from '../render.js';
import type { Rule } from '../rule.js';
import { dayOf, formatDay, todayOf } from '../time.js';

/**
 * Enough shelf life left at evaluation time: expiry ≥ today + minShelfLifeDays (UTC calendar
 * days). A lot is expired the day after its expiry date, not on it.
 */
export const shelfLifeRule: Rule = (facts, rules, now) => {
  const today = todayOf(now);
  const raw = facts.lot.expiryDate;
  const expiry = dayOf(raw);
  const evidence = [{ kind: 'lot', ref: facts.lot.lotNumber, detail: `expiryDate ${raw ?? '(none)'}` }];
  if (expiry === null) {
    return [reason(facts, 'R_EXPIRY_UNKNOWN', 'NOT_READY', { raw: raw ?? null, minDays: rules.minShelfLifeDays }, evidence)];
  }
  if (expiry < today) {
    return [reason(facts, 'R_EXPIRED', 'BLOCKED', { expiry: formatDay(expiry) }, evidence)];
  }
  const needed = today + rules.minShelfLifeDays;
  if (expiry < needed) {
    return [
      reason(facts, 'R_SHELF_LIFE', 'BLOCKED', { expiry: formatDay(expiry), left: expiry - today, minDays: rules.minShelfLifeDays, needed: formatDay(needed) }, evidence),
    ];
  }
  return [];
};
