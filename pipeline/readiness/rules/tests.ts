import type { LotFacts, ReadinessReason, RuleSet, TestResultRow } from '../../model/types.js';
import { formatLimits, formatResult, resultRef } from '../describe.js';
import { declaresFailure, effectiveLimits, evaluateResult, type EffectiveLimits, type Evaluation } from '../evaluate-result.js';
import { limitsText, reason, type LimitsKind } from '../render.js';
import type { Rule } from '../rule.js';
import { cmp } from '../severity.js';
import { instantOf } from '../time.js';

export { evaluateResult } from '../evaluate-result.js';

type Spec = RuleSet['tests'][number];
type Verdict = Evaluation | 'unit_mismatch';

interface Judgement {
  verdict: Verdict;
  limits: EffectiveLimits;
  /** Within the lab's own limits but outside the product specification. */
  outsideProductSpec?: boolean;
}

export function normTestCode(code: string): string {
  return code.trim().toUpperCase();
}

function normUnit(u: string): string {
  return u.trim().toLowerCase().replace(/\s+/g, '').replace(/[µμ]/g, 'u').replace(/^percent$/, '%');
}

function unitsDiffer(a: string | null | undefined, b: string | null | undefined): boolean {
  return !!a && !!b && normUnit(a) !== normUnit(b);
}

const hasLimits = (l: { specLow?: number | null; specHigh?: number | null }): boolean =>
  (typeof l.specLow === 'number' && Number.isFinite(l.specLow)) || (typeof l.specHigh === 'number' && Number.isFinite(l.specHigh));

/**
 * A result against the product spec. When the lab sent its own limits they decide, but the
 * sponsor's registered spec still binds: a value inside looser lab limits and outside the
 * product spec is OOS for release. Spec limits in another unit than the result cannot be applied.
 */
function judge(r: TestResultRow, spec?: Spec): Judgement {
  const limits = effectiveLimits(r, spec);
  if (limits.source === 'spec' && unitsDiffer(spec?.unit, r.unit)) return { verdict: 'unit_mismatch', limits };
  const verdict = evaluateResult(r, spec);
  if (verdict === 'pass' && limits.source === 'result' && spec && hasLimits(spec) && !unitsDiffer(spec.unit, r.unit)) {
    if (evaluateResult({ ...r, specLow: null, specHigh: null }, spec) === 'fail') {
      return { verdict: 'fail', limits: effectiveLimits({}, spec), outsideProductSpec: true };
    }
  }
  return { verdict, limits };
}

const VERDICT_RANK: Record<Verdict, number> = { pass: 0, unknown: 1, unit_mismatch: 1, fail: 2 };

/** The latest result by testedAt; results tested in the same instant resolve to the worse one. */
function pickLatest(results: readonly TestResultRow[], judgeOf: (r: TestResultRow) => Judgement): TestResultRow {
  let best = results[0];
  for (const r of results.slice(1)) {
    const d = instantOf(r.testedAt) - instantOf(best.testedAt);
    const later =
      d > 0 ||
      ((d === 0 || Number.isNaN(d)) &&
        (VERDICT_RANK[judgeOf(r).verdict] - VERDICT_RANK[judgeOf(best).verdict] ||
          cmp(`${resultRef(r)}|${formatResult(r)}`, `${resultRef(best)}|${formatResult(best)}`)) > 0);
    if (later) best = r;
  }
  return best;
}

/** Which limits a result was judged against, as render.ts names them (kind + text). */
function limitsOf(r: TestResultRow, j: Judgement, spec?: Spec): { lk: LimitsKind; lim: string | null } {
  if (j.limits.source === 'none') return r.specText ? { lk: 'text', lim: r.specText } : { lk: 'conforming', lim: null };
  const unit = j.limits.source === 'spec' ? spec?.unit ?? r.unit : r.unit;
  return { lk: j.outsideProductSpec ? 'product' : j.limits.source === 'result' ? 'lab' : 'spec', lim: formatLimits(j.limits.low, j.limits.high, unit) };
}

function describeLimits(r: TestResultRow, j: Judgement, spec?: Spec): string {
  const { lk, lim } = limitsOf(r, j, spec);
  return limitsText(lk, lim);
}

/** The result, its sample and when it was tested: what a sentence names about one result. */
function resultParams(r: TestResultRow): { result: string; sample: string | null; testedAt: string | null } {
  return { result: formatResult(r), sample: r.sampleId || null, testedAt: r.testedAt || null };
}

function evidenceOf(r: TestResultRow, note: string): { kind: string; ref: string; detail: string } {
  const where = r.submissionId != null ? `; submission ${r.submissionId}${r.line != null ? ` line ${r.line}` : ''}` : '';
  return { kind: 'test_result', ref: resultRef(r), detail: `${r.testCode} = ${formatResult(r)}; ${r.resultStatus}; ${note}${where}` };
}

function oosReason(facts: LotFacts, r: TestResultRow, j: Judgement, spec: Spec | undefined): ReadinessReason {
  const params: Record<string, unknown> = { test: r.testCode, ...resultParams(r), ...limitsOf(r, j, spec) };
  if (j.outsideProductSpec) params.labLimits = formatLimits(r.specLow, r.specHigh, r.unit);
  if (!spec) params.planned = false;
  return reason(facts, 'R_TEST_OOS', 'BLOCKED', params, [evidenceOf(r, `outside ${describeLimits(r, j, spec)}`)]);
}

/**
 * An earlier final OOS that nobody retracted, under a passing retest. The latest final result
 * decides, but retesting into compliance is exactly what an OOS investigation must rule out,
 * so QA gets told before releasing.
 */
function supersededOosReason(
  facts: LotFacts,
  latest: TestResultRow,
  failed: TestResultRow[],
  judgeOf: (r: TestResultRow) => Judgement,
  spec: Spec | undefined,
): ReadinessReason {
  const params = {
    test: latest.testCode,
    ...resultParams(latest),
    failed: failed.map((r) => {
      const p = resultParams(r);
      return [p.result, p.sample, p.testedAt];
    }),
  };
  return reason(facts, 'R_TEST_OOS_NOT_RETRACTED', 'CONDITIONAL', params, [
    evidenceOf(latest, 'latest final, passes'),
    ...failed.map((r) => evidenceOf(r, `earlier final, outside ${describeLimits(r, judgeOf(r), spec)}`)),
  ]);
}

function earlierFailures(finals: TestResultRow[], latest: TestResultRow, judgeOf: (r: TestResultRow) => Judgement): TestResultRow[] {
  return finals
    .filter((r) => r !== latest && judgeOf(r).verdict === 'fail')
    .sort((a, b) => instantOf(a.testedAt) - instantOf(b.testedAt) || cmp(resultRef(a), resultRef(b)) || cmp(formatResult(a), formatResult(b)));
}

function assessSpecTest(facts: LotFacts, spec: Spec, results: TestResultRow[]): ReadinessReason[] {
  const finals = results.filter((r) => r.resultStatus === 'final');
  const specLimits = hasLimits(spec) ? formatLimits(spec.specLow, spec.specHigh, spec.unit) : null;
  if (finals.length === 0) {
    const prelim = results.filter((r) => r.resultStatus === 'preliminary');
    const retracted = results.filter((r) => r.resultStatus === 'retracted');
    if (prelim.length > 0) {
      return [
        reason(
          facts,
          'R_TEST_PRELIMINARY',
          'NOT_READY',
          { test: spec.code, spec: specLimits, results: prelim.map(formatResult).sort() },
          [...prelim, ...retracted].map((r) => evidenceOf(r, 'does not count')).sort((a, b) => cmp(a.ref + a.detail, b.ref + b.detail)),
        ),
      ];
    }
    const params: Record<string, unknown> = { test: spec.code, spec: specLimits };
    if (retracted.length > 0) params.retracted = retracted.length;
    return [
      reason(facts, 'R_TEST_MISSING', 'NOT_READY', params, [
        { kind: 'test', ref: spec.code, detail: 'no final result' },
        ...retracted.map((r) => evidenceOf(r, 'retracted, does not count')).sort((a, b) => cmp(a.ref + a.detail, b.ref + b.detail)),
      ]),
    ];
  }

  const judgeOf = (r: TestResultRow): Judgement => judge(r, spec);
  const latest = pickLatest(finals, judgeOf);
  const j = judgeOf(latest);
  switch (j.verdict) {
    case 'fail':
      return [oosReason(facts, latest, j, spec)];
    case 'unit_mismatch':
      return [
        reason(
          facts,
          'R_TEST_UNIT_MISMATCH',
          'NOT_READY',
          { test: spec.code, ...resultParams(latest), unit: latest.unit, spec: formatLimits(spec.specLow, spec.specHigh, spec.unit), specUnit: spec.unit },
          [evidenceOf(latest, `unit ${latest.unit} vs spec unit ${spec.unit}`)],
        ),
      ];
    case 'unknown':
      return [reason(facts, 'R_TEST_UNEVALUABLE', 'NOT_READY', { test: spec.code, ...resultParams(latest) }, [evidenceOf(latest, 'no limits to judge against')])];
    case 'pass': {
      const failed = earlierFailures(finals, latest, judgeOf);
      return failed.length > 0 ? [supersededOosReason(facts, latest, failed, judgeOf, spec)] : [];
    }
  }
}

/**
 * A test outside the product's plan only matters when it shows a failure by its own terms:
 * its own limits, or a result that says it failed. Without those there is nothing to judge it by.
 */
function assessUnspecifiedTest(facts: LotFacts, results: TestResultRow[]): ReadinessReason[] {
  const finals = results.filter((r) => r.resultStatus === 'final');
  if (finals.length === 0) return [];
  const judgeOf = (r: TestResultRow): Judgement => {
    if (declaresFailure(r)) return { verdict: 'fail', limits: effectiveLimits(r) };
    if (!hasLimits(r)) return { verdict: 'unknown', limits: effectiveLimits(r) };
    return judge(r);
  };
  const latest = pickLatest(finals, judgeOf);
  const j = judgeOf(latest);
  if (j.verdict === 'fail') return [oosReason(facts, latest, j, undefined)];
  if (j.verdict !== 'pass') return [];
  const failed = earlierFailures(finals, latest, judgeOf);
  return failed.length > 0 ? [supersededOosReason(facts, latest, failed, judgeOf, undefined)] : [];
}

/**
 * Every test in the product's plan has a final result that passes. Retracted results never
 * count, preliminary ones only say the final is on its way; the latest final result per test
 * (by testedAt) decides. Any final OOS, planned test or not, blocks the lot.
 */
export const testsRule: Rule = (facts, rules) => {
  const byCode = new Map<string, TestResultRow[]>();
  for (const r of facts.testResults) {
    const code = normTestCode(r.testCode);
    const list = byCode.get(code);
    if (list) list.push(r);
    else byCode.set(code, [r]);
  }
  const reasons: ReadinessReason[] = [];
  const planned = new Set<string>();
  for (const spec of rules.tests) {
    const code = normTestCode(spec.code);
    if (planned.has(code)) continue;
    planned.add(code);
    reasons.push(...assessSpecTest(facts, spec, byCode.get(code) ?? []));
  }
  for (const [code, results] of byCode) if (!planned.has(code)) reasons.push(...assessUnspecifiedTest(facts, results));
  return reasons;
};
