import { lotLabel, lotTitle, plural } from '../describe.js';
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
    return [
      {
        code: 'R_EXPIRY_UNKNOWN',
        severity: 'NOT_READY',
        message:
          `${raw ? `The expiry date '${raw}' of ${lotLabel(facts)} is not a valid date` : `No expiry date is known for ${lotLabel(facts)}`}, ` +
          `so remaining shelf life (minimum ${plural(rules.minShelfLifeDays, 'day')}) cannot be checked. The manufacturer or ERP needs to send the expiry date.`,
        evidence,
      },
    ];
  }
  if (expiry < today) {
    return [
      {
        code: 'R_EXPIRED',
        severity: 'BLOCKED',
        message: `${lotTitle(facts)} expired on ${formatDay(expiry)} and cannot be released.`,
        evidence,
      },
    ];
  }
  const needed = today + rules.minShelfLifeDays;
  if (expiry < needed) {
    return [
      {
        code: 'R_SHELF_LIFE',
        severity: 'BLOCKED',
        message:
          `${lotTitle(facts)} expires on ${formatDay(expiry)}: ${plural(expiry - today, 'day')} of shelf life left, ` +
          `below the minimum of ${plural(rules.minShelfLifeDays, 'day')} (expiry on or after ${formatDay(needed)} needed). ` +
          `Only a corrected expiry date or a QA exception for this lot clears this.`,
        evidence,
      },
    ];
  }
  return [];
};
