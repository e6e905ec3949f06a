import { describe, expect, it } from 'vitest';
import { shelfLifeRule } from '../../pipeline/readiness/rules/shelf-life.js';
import { addDays, codes, defaultRules, emptyFacts, lot, NOW } from './facts.js';

const rules = defaultRules({ minShelfLifeDays: 180 });
const withExpiry = (expiryDate: string | null) => emptyFacts({ lot: lot({ expiryDate }) });
const TODAY = '2026-03-15';

describe('shelf-life rule', () => {
  it('is satisfied with exactly the minimum shelf life left', () => {
    expect(shelfLifeRule(withExpiry(addDays(TODAY, 180)), rules, NOW)).toEqual([]);
  });

  it('blocks one day short of the minimum, saying how much is left and what is needed', () => {
    const reasons = shelfLifeRule(withExpiry(addDays(TODAY, 179)), rules, NOW);
    expect(codes(reasons)).toEqual(['R_SHELF_LIFE']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[0].message).toContain('Lot L2026-001 (material 000123) expires on 2026-09-10: 179 days of shelf life left');
    expect(reasons[0].message).toContain('minimum of 180 days (expiry on or after 2026-09-11 needed)');
    expect(reasons[0].evidence).toEqual([{ kind: 'lot', ref: 'L2026-001', detail: 'expiryDate 2026-09-10' }]);
  });

  it('a lot expiring today is short of shelf life but not yet expired', () => {
    expect(codes(shelfLifeRule(withExpiry(TODAY), rules, NOW))).toEqual(['R_SHELF_LIFE']);
    expect(shelfLifeRule(withExpiry(TODAY), defaultRules({ minShelfLifeDays: 0 }), NOW)).toEqual([]);
  });

  it('says expired once the expiry date has passed', () => {
    const reasons = shelfLifeRule(withExpiry('2026-03-14'), rules, NOW);
    expect(codes(reasons)).toEqual(['R_EXPIRED']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[0].message).toBe('Lot L2026-001 (material 000123) expired on 2026-03-14 and cannot be released.');
  });

  it('is NOT_READY when the expiry date is unknown or not a date', () => {
    for (const bad of [null, '', '2026-02-30', '31.12.2027']) {
      const reasons = shelfLifeRule(withExpiry(bad), rules, NOW);
      expect(codes(reasons)).toEqual(['R_EXPIRY_UNKNOWN']);
      expect(reasons[0].severity).toBe('NOT_READY');
    }
    expect(shelfLifeRule(withExpiry(null), rules, NOW)[0].message).toContain('No expiry date is known for lot L2026-001');
    expect(shelfLifeRule(withExpiry('2026-02-30'), rules, NOW)[0].message).toContain("The expiry date '2026-02-30' of lot L2026-001");
  });

  it('counts days on the UTC calendar, whatever the time of day', () => {
    const expiry = withExpiry(addDays(TODAY, 180));
    expect(shelfLifeRule(expiry, rules, new Date('2026-03-15T23:59:59.999Z'))).toEqual([]);
    expect(codes(shelfLifeRule(expiry, rules, new Date('2026-03-16T00:00:00Z')))).toEqual(['R_SHELF_LIFE']);
  });

  it('refuses an invalid clock rather than guessing', () => {
    expect(() => shelfLifeRule(withExpiry('2030-01-01'), rules, new Date('nonsense'))).toThrow(RangeError);
  });
});
