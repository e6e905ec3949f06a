import { describe, expect, it } from 'vitest';
import type { RuleSet } from '../../pipeline/model/types.js';
import { evaluateResult, testsRule } from '../../pipeline/readiness/rules/tests.js';
import { codes, defaultRules, emptyFacts, NOW, oralSolidRules, passingOralSolidResults, result, shuffled } from './facts.js';

const rules = oralSolidRules();
const facts = (testResults = passingOralSolidResults()) => emptyFacts({ testResults });
const without = (code: string) => passingOralSolidResults().filter((r) => r.testCode !== code);

describe('tests rule', () => {
  it('is satisfied when every spec test has a passing final result', () => {
    expect(testsRule(facts(), rules, NOW)).toEqual([]);
  });

  it('exports evaluateResult for the store and CLI', () => {
    expect(evaluateResult(result('ASSAY', 99), { specLow: 95, specHigh: 105 })).toBe('pass');
  });

  it('is NOT_READY for a spec test with no result at all', () => {
    const reasons = testsRule(facts(without('WATER')), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_MISSING']);
    expect(reasons[0].severity).toBe('NOT_READY');
    expect(reasons[0].message).toBe(
      'No final result for test WATER (spec ≤ 3 %) on lot L2026-001 (material 000123). The lab needs to send a final result for this test.',
    );
    expect(reasons[0].evidence).toEqual([{ kind: 'test', ref: 'WATER', detail: 'no final result' }]);
  });

  it('blocks on an OOS final result, naming test, value, limits, sample', () => {
    const results = [...without('ASSAY'), result('ASSAY', 92.4, { sampleId: 'S-881', testedAt: '2026-03-02T09:00:00Z' })];
    const reasons = testsRule(facts(results), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_OOS']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[0].message).toMatch(/^ASSAY result 92\.4 % on sample S-881 \(tested 2026-03-02T09:00:00Z\) for lot L2026-001 \(material 000123\) is outside the specification 95–105 %\./);
    expect(reasons[0].evidence).toHaveLength(1);
    expect(reasons[0].evidence[0]).toMatchObject({ kind: 'test_result', ref: 'S-881/ASSAY' });
    expect(reasons[0].evidence[0].detail).toContain('submission 20 line 3');
  });

  it("judges against the lab's own limits when the result carries them", () => {
    const results = [...without('WATER'), result('WATER', 3.5, { specHigh: 3.2 })];
    const [r] = testsRule(facts(results), rules, NOW);
    expect(r.code).toBe('R_TEST_OOS');
    expect(r.message).toContain("outside the lab's limits ≤ 3.2 %");
  });

  it('still blocks a value inside looser lab limits but outside the product specification', () => {
    const results = [...without('ASSAY'), result('ASSAY', 93, { specLow: 90, specHigh: 110 })];
    const [r] = testsRule(facts(results), rules, NOW);
    expect(r.code).toBe('R_TEST_OOS');
    expect(r.message).toContain('outside the product specification 95–105 %');
    expect(r.message).toContain("within the lab's own limits 90–110 %");
  });

  it('passes a qualified impurity result below the limit and blocks one above it', () => {
    expect(testsRule(facts(), rules, NOW)).toEqual([]);
    const high = [...without('IMP_TOTAL'), result('IMP_TOTAL', 0.7, { resultRaw: '>0.7', qualifier: '>' })];
    expect(codes(testsRule(facts(high), rules, NOW))).toEqual(['R_TEST_OOS']);
    const nd = [...without('IMP_TOTAL'), result('IMP_TOTAL', null, { resultRaw: 'ND', qualifier: 'ND' })];
    expect(testsRule(facts(nd), rules, NOW)).toEqual([]);
  });

  it('never counts a retracted result, and says so when it was the only one', () => {
    const results = [...without('ASSAY'), result('ASSAY', 99, { resultStatus: 'retracted' })];
    const reasons = testsRule(facts(results), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_MISSING']);
    expect(reasons[0].message).toContain('1 retracted result does not count');
    expect(reasons[0].evidence.map((e) => e.kind)).toEqual(['test', 'test_result']);
  });

  it('does not let a retracted OOS block the lot', () => {
    const results = [...passingOralSolidResults(), result('ASSAY', 80, { sampleId: 'S-OLD', testedAt: '2026-03-05T00:00:00Z', resultStatus: 'retracted' })];
    expect(testsRule(facts(results), rules, NOW)).toEqual([]);
  });

  it('is NOT_READY with only preliminary results, naming them', () => {
    const results = [...without('DISSO'), result('DISSO', 91, { resultStatus: 'preliminary' })];
    const reasons = testsRule(facts(results), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_PRELIMINARY']);
    expect(reasons[0].severity).toBe('NOT_READY');
    expect(reasons[0].message).toContain('only 1 preliminary result (91 %)');
  });

  it('a failing preliminary result does not block: only final results count', () => {
    const results = [...without('DISSO'), result('DISSO', 50, { resultStatus: 'preliminary' })];
    expect(codes(testsRule(facts(results), rules, NOW))).toEqual(['R_TEST_PRELIMINARY']);
  });

  it('the latest final result by testedAt decides', () => {
    const older = result('ASSAY', 99, { sampleId: 'S-1', testedAt: '2026-02-20T10:00:00Z' });
    const newer = result('ASSAY', 93, { sampleId: 'S-2', testedAt: '2026-03-01T10:00:00Z' });
    for (const order of [[older, newer], [newer, older]]) {
      const reasons = testsRule(facts([...without('ASSAY'), ...order]), rules, NOW);
      expect(codes(reasons)).toEqual(['R_TEST_OOS']);
      expect(reasons[0].evidence[0].ref).toBe('S-2/ASSAY');
    }
  });

  it('flags an earlier final OOS that nobody retracted under a passing retest as CONDITIONAL', () => {
    const oos = result('ASSAY', 92, { sampleId: 'S-1', testedAt: '2026-02-20T10:00:00Z' });
    const retest = result('ASSAY', 99.5, { sampleId: 'S-2', testedAt: '2026-03-01T10:00:00Z' });
    const reasons = testsRule(facts([...without('ASSAY'), retest, oos]), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_OOS_NOT_RETRACTED']);
    expect(reasons[0].severity).toBe('CONDITIONAL');
    expect(reasons[0].evidence.map((e) => e.ref)).toEqual(['S-2/ASSAY', 'S-1/ASSAY']);
    // Once the lab retracts the OOS, nothing remains.
    expect(testsRule(facts([...without('ASSAY'), retest, { ...oos, resultStatus: 'retracted' }]), rules, NOW)).toEqual([]);
  });

  it('two final results in the same instant resolve to the worse one', () => {
    // The passing one sorts last by sample id, so only the verdict can pick the failing one.
    const a = result('ASSAY', 99, { sampleId: 'S-Z', testedAt: '2026-03-01T10:00:00Z' });
    const b = result('ASSAY', 90, { sampleId: 'S-A', testedAt: '2026-03-01T10:00:00Z' });
    expect(codes(testsRule(facts([...without('ASSAY'), a, b]), rules, NOW))).toEqual(['R_TEST_OOS']);
    expect(codes(testsRule(facts([...without('ASSAY'), b, a]), rules, NOW))).toEqual(['R_TEST_OOS']);
  });

  it('matches test codes case-insensitively', () => {
    const results = passingOralSolidResults().map((r) => ({ ...r, testCode: r.testCode.toLowerCase() }));
    expect(testsRule(facts(results), rules, NOW)).toEqual([]);
  });

  it('cannot apply spec limits given in another unit', () => {
    const results = [...without('WATER'), result('WATER', 1.1, { unit: 'mg/g' })];
    const reasons = testsRule(facts(results), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_UNIT_MISMATCH']);
    expect(reasons[0].severity).toBe('NOT_READY');
    // With its own limits the result judges itself.
    expect(testsRule(facts([...without('WATER'), result('WATER', 1.1, { unit: 'mg/g', specHigh: 30 })]), rules, NOW)).toEqual([]);
  });

  it('is NOT_READY when a numeric result has no limits anywhere', () => {
    const r: RuleSet = { ...rules, tests: [{ code: 'PH' }] };
    const reasons = testsRule(emptyFacts({ testResults: [result('PH', 6.8, { unit: null })] }), r, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_UNEVALUABLE']);
  });

  it('judges qualitative spec tests by their text', () => {
    const r: RuleSet = { ...rules, tests: [{ code: 'STERILITY' }] };
    const pass = result('STERILITY', null, { resultRaw: 'Sterile', unit: null });
    expect(testsRule(emptyFacts({ testResults: [pass] }), r, NOW)).toEqual([]);
    const growth = result('STERILITY', null, { resultRaw: 'Growth observed', unit: null });
    const reasons = testsRule(emptyFacts({ testResults: [growth] }), r, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_OOS']);
    expect(reasons[0].message).toContain("STERILITY result Growth observed on sample S-STERILITY (tested 2026-02-20T10:00:00Z) for lot L2026-001");
  });

  it('blocks on a final result for a test outside the spec that is out of its own limits', () => {
    const extra = result('RESID_SOLV', 900, { unit: 'ppm', specHigh: 720, sampleId: 'S-9' });
    const reasons = testsRule(facts([...passingOralSolidResults(), extra]), rules, NOW);
    expect(codes(reasons)).toEqual(['R_TEST_OOS']);
    expect(reasons[0].message).toContain("not in the product's test plan");
    expect(reasons[0].evidence[0].ref).toBe('S-9/RESID_SOLV');
  });

  it('ignores tests outside the spec that pass, have no limits, or are not final', () => {
    const extras = [
      result('RESID_SOLV', 100, { unit: 'ppm', specHigh: 720 }),
      result('APPEARANCE', null, { resultRaw: 'white round tablet', unit: null }),
      result('PH', 6.5, { unit: null }),
      result('MICRO', 5000, { unit: 'cfu/g', specHigh: 1000, resultStatus: 'preliminary' }),
    ];
    expect(testsRule(facts([...passingOralSolidResults(), ...extras]), rules, NOW)).toEqual([]);
  });

  it('blocks on a test outside the spec whose result declares a failure', () => {
    const extra = result('APPEARANCE', null, { resultRaw: 'Does not comply', unit: null });
    expect(codes(testsRule(facts([...passingOralSolidResults(), extra]), rules, NOW))).toEqual(['R_TEST_OOS']);
  });

  it('reports each spec test separately and does not depend on result order', () => {
    const results = [
      result('ASSAY', 110),
      result('DISSO', 85, { resultStatus: 'preliminary' }),
      result('IMP_TOTAL', 0.2),
    ];
    const want = testsRule(facts(results), rules, NOW);
    expect(codes(want).sort()).toEqual(['R_TEST_MISSING', 'R_TEST_OOS', 'R_TEST_PRELIMINARY']);
    for (let seed = 1; seed < 6; seed++) {
      expect(testsRule(facts(shuffled(results, seed)), rules, NOW)).toEqual(want);
    }
  });

  it('asks for nothing when the rule set has no tests and nothing failed', () => {
    expect(testsRule(emptyFacts(), defaultRules(), NOW)).toEqual([]);
  });
});
