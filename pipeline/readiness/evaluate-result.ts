// Pass/fail of one lab result against its limits. Used by the tests rule and by the store/CLI
// to fill the computed `evaluation` column, so both always agree.

import type { Qualifier, TestResultRow } from '../model/types.js';

export type Evaluation = 'pass' | 'fail' | 'unknown';

export interface SpecLimits {
  specLow?: number | null;
  specHigh?: number | null;
}

export interface EffectiveLimits {
  low?: number;
  high?: number;
  /** Where the limits came from: the result row itself, the rule set's spec, or nowhere. */
  source: 'result' | 'spec' | 'none';
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The result's own limits when it carries any (the lab's CoA states the limits it tested
 * against), else the spec's. The pair is taken from one source: mixing a lab's low limit with
 * the sponsor's high limit would be a spec nobody wrote.
 */
export function effectiveLimits(result: SpecLimits, spec?: SpecLimits): EffectiveLimits {
  if (num(result.specLow) || num(result.specHigh)) {
    return { ...(num(result.specLow) && { low: result.specLow }), ...(num(result.specHigh) && { high: result.specHigh }), source: 'result' };
  }
  if (spec && (num(spec.specLow) || num(spec.specHigh))) {
    return { ...(num(spec.specLow) && { low: spec.specLow }), ...(num(spec.specHigh) && { high: spec.specHigh }), source: 'spec' };
  }
  return { source: 'none' };
}

type Measured =
  | { kind: 'number'; qualifier: Qualifier | null; value: number }
  | { kind: 'nondetect'; qualifier: 'ND' | '<LOQ'; value: number | null; text: string }
  | { kind: 'text'; text: string };

// Only '.' decimals: '1,000' is ambiguous and the mapping engine has already normalised numbers it knows about.
const NUMERIC_RAW = /^(<=|>=|≤|≥|<|>)?\s*([+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[+-]?\d+)?)\s*(?:[%a-zµμ]+(?:\/[a-z]+)?)?$/i;
const ND_RAW = /^(?:n\.?d\.?|not detected|none detected)$/i;
const LOQ_RAW = /^(?:<\s*loq|<\s*lod|below loq|bloq|blq|bql)$/i;
// A spec that asks only for the value to be reported ("Report", "Report result", "For information"): any result conforms.
const REPORT_ONLY = /^(?:report(?:ed)?(?: (?:result|value))?|for information(?: only)?|info(?:rmation)? only|to be reported)$/i;

/** What the result says, taking the split fields when present and reading resultRaw when not. */
function measure(r: TestResultRow): Measured {
  const raw = (r.resultRaw ?? '').trim();
  if (r.qualifier === 'ND' || r.qualifier === '<LOQ') {
    return { kind: 'nondetect', qualifier: r.qualifier, value: num(r.resultValue) ? r.resultValue : null, text: raw || r.qualifier };
  }
  if (num(r.resultValue)) return { kind: 'number', qualifier: r.qualifier ?? null, value: r.resultValue };
  if (ND_RAW.test(raw)) return { kind: 'nondetect', qualifier: 'ND', value: null, text: raw };
  if (LOQ_RAW.test(raw)) return { kind: 'nondetect', qualifier: '<LOQ', value: null, text: raw };
  const m = NUMERIC_RAW.exec(raw);
  if (m) {
    const q = ({ '≤': '<=', '≥': '>=' } as Record<string, Qualifier>)[m[1] ?? ''] ?? ((m[1] as Qualifier | undefined) || null);
    return { kind: 'number', qualifier: q, value: Number(m[2]) };
  }
  return { kind: 'text', text: raw };
}

// Words labs use for a conforming qualitative result, whatever the spec text says.
const CONFORMS = /^(?:pass(?:es|ed)?|conforms?|complies|comply|meets (?:the )?(?:spec(?:ification)?s?|requirements?)|within (?:spec(?:ification)?s?|limits?))$/i;
// Negative findings pass unless the spec asks for something else (an identity test wants "positive").
const NEGATIVE = /^(?:negative|sterile|not detected|none detected|absent|n\.?d\.?)$/i;
// A spec asking for a negative finding, possibly with its scope: "Absent in 10 g", "Negative (gel clot)".
const NEGATIVE_SPEC = /^(?:negative|sterile|not detected|none detected|absent|n\.?d\.?)(?:$|[\s,;(])/i;
const FAILS = /^(?:fail(?:s|ed)?|does not (?:conform|comply|meet.*)|non[- ]?conform(?:s|ing|ance)?|not sterile|oos|out of spec(?:ification)?)$/i;

function norm(s: string): string {
  return s.trim().replace(/\s+/g, ' ').replace(/\.$/, '').toLowerCase();
}

/** A qualitative result against the spec text (when any). Unrecognised text fails: conformity must be shown. */
function evaluateText(text: string, specText: string | null | undefined): Evaluation {
  const t = norm(text);
  if (!t) return 'unknown';
  if (FAILS.test(t)) return 'fail';
  const spec = specText ? norm(specText) : '';
  if (spec && t === spec) return 'pass';
  if (CONFORMS.test(t)) return 'pass';
  if (NEGATIVE.test(t)) return !spec || NEGATIVE_SPEC.test(spec) ? 'pass' : 'fail';
  return 'fail';
}

/**
 * A non-detect (ND, <LOQ, <LOD, BLOQ: the analyte was not found above what the method can see)
 * with no numeric limits: one rule for all of them, as for any negative finding — it conforms
 * unless the spec text asks for something else (e.g. an identity test that wants "Positive").
 */
function evaluateNondetect(text: string, specText: string | null | undefined): Evaluation {
  const spec = specText ? norm(specText) : '';
  if (!spec || norm(text) === spec || NEGATIVE_SPEC.test(spec) || LOQ_RAW.test(spec)) return 'pass';
  return 'fail';
}

/** True when the result text itself declares a failure ("Fails", "Does not comply", "Not sterile"). */
export function declaresFailure(result: TestResultRow): boolean {
  return FAILS.test(norm(result.resultRaw ?? ''));
}

/**
 * Pass/fail of one result. Limits: the result's own (specLow/specHigh) when it has any, else
 * `spec`'s. Qualified values are judged by what they prove:
 * - `<x` / `<=x` against an upper limit pass when x ≤ specHigh; ND and <LOQ pass an
 *   upper-limit-only spec (unless a reported LOQ/LOD value is itself above the limit);
 *   against a lower limit above 0 they fail, since they cannot show the minimum was reached.
 * - `>x` / `>=x` against a lower limit pass when x ≥ specLow; against an upper limit they fail.
 * - a plain value must lie within [specLow, specHigh].
 * Without numeric limits: text results are compared with specText and the usual conformity
 * words (pass, conforms, complies, negative, sterile, …), anything else fails; a number with
 * nothing to compare it to is `unknown`, as is an empty result.
 */
export function evaluateResult(result: TestResultRow, spec?: SpecLimits): Evaluation {
  const { low, high } = effectiveLimits(result, spec);
  const m = measure(result);
  const hasLow = low !== undefined;
  const hasHigh = high !== undefined;

  if (!hasLow && !hasHigh && REPORT_ONLY.test(norm(result.specText ?? ''))) {
    // Report only: the result conforms once reported, unless it states a failure itself.
    if (m.kind === 'text') return !m.text ? 'unknown' : FAILS.test(norm(m.text)) ? 'fail' : 'pass';
    return 'pass';
  }
  if (m.kind === 'text') return evaluateText(m.text, result.specText);
  if (!hasLow && !hasHigh) return m.kind === 'nondetect' ? evaluateNondetect(m.text, result.specText) : 'unknown';

  // Concentrations cannot go below 0, so a lower limit of 0 (how some LIMS write "NMT x") constrains nothing.
  const lowerBinds = hasLow && low > 0;
  if (m.kind === 'nondetect') {
    if (lowerBinds) return 'fail';
    if (!hasHigh) return 'pass';
    return m.value !== null && m.value > high ? 'fail' : 'pass';
  }
  const x = m.value;
  switch (m.qualifier) {
    case '<':
    case '<=':
      if (lowerBinds) return 'fail';
      return !hasHigh || x <= high ? 'pass' : 'fail';
    case '>':
    case '>=':
      if (hasHigh) return 'fail';
      return x >= low! ? 'pass' : 'fail';
    default:
      return (!hasLow || x >= low) && (!hasHigh || x <= high) ? 'pass' : 'fail';
  }
}
