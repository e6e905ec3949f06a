import { describe, expect, it } from 'vitest';
import { dispositionRule, latestDisposition } from '../../pipeline/readiness/rules/disposition.js';
import { codes, defaultRules, disposition, emptyFacts, NOW } from './facts.js';

const rules = defaultRules();
const run = (...dispositions: ReturnType<typeof disposition>[]) => dispositionRule(emptyFacts({ dispositions }), rules, NOW);

describe('disposition rule', () => {
  it('has nothing to say without a decision', () => {
    expect(run()).toEqual([]);
  });

  it('blocks a rejected lot, naming who decided and when', () => {
    const reasons = run(disposition('rejected', '2026-03-10T08:00:00Z'));
    expect(codes(reasons)).toEqual(['R_DISPOSITION_REJECTED']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[0].message).toContain('was rejected by QA on 2026-03-10T08:00:00Z (qa.jones)');
    expect(reasons[0].evidence).toEqual([{ kind: 'disposition', ref: 'rejected', detail: 'decided 2026-03-10T08:00:00Z by qa.jones' }]);
  });

  it('treats quarantine, the normal pre-release state, as no reason', () => {
    expect(run(disposition('quarantine', '2026-03-01T08:00:00Z'))).toEqual([]);
  });

  it('is NOT_READY when a released lot is put back into quarantine', () => {
    const reasons = run(disposition('released', '2026-03-05T08:00:00Z'), disposition('quarantine', '2026-03-08T08:00:00Z'));
    expect(codes(reasons)).toEqual(['R_DISPOSITION_REQUARANTINED']);
    expect(reasons[0].severity).toBe('NOT_READY');
    expect(reasons[0].message).toContain('was released on 2026-03-05T08:00:00Z and put back into quarantine on 2026-03-08T08:00:00Z');
  });

  it('says nothing for a release (computeReadiness handles it)', () => {
    expect(run(disposition('quarantine', '2026-03-01T08:00:00Z'), disposition('released', '2026-03-05T08:00:00Z'))).toEqual([]);
  });

  it('the latest decision wins, in any order; same-instant decisions resolve to the stricter', () => {
    const rejected = disposition('rejected', '2026-03-01T08:00:00Z');
    const released = disposition('released', '2026-03-05T08:00:00Z');
    expect(run(rejected, released)).toEqual([]);
    expect(run(released, rejected)).toEqual([]);
    const t = '2026-03-05T08:00:00Z';
    const facts = (order: ReturnType<typeof disposition>[]) => emptyFacts({ dispositions: order });
    expect(latestDisposition(facts([released, disposition('rejected', t)]))?.decision).toBe('rejected');
    expect(latestDisposition(facts([disposition('rejected', t), released]))?.decision).toBe('rejected');
  });
});
