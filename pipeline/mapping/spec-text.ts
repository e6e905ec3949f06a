// Specification limits as labs write them in one cell: "<= 20", "≤ 20", "NMT 0.5 %", "NLT 98.0",
// "95.0 - 105.0", "95,0–105,0", "≥ 80", "80–120 %", "> 0.1", "Report", "Conforms". Becomes
// specLow / specHigh (+ unit when the text states one); the text as sent always goes to
// specText. Text that starts like a limit but cannot be read is an error, never a guess. Pure.

import { ConvError, type NumberParser } from './values.js';

export interface ParsedSpec {
  specText: string;
  specLow?: number;
  specHigh?: number;
  unit?: string;
}

const UPPER = /^(?:<=|=<|≤|<|nmt\b|not more than\b|max\b\.?|maximum\b|höchstens\b|hochstens\b|at most\b|up to\b)\s*:?\s*/i;
const LOWER = /^(?:>=|=>|≥|>|nlt\b|not less than\b|min\b\.?|minimum\b|mindestens\b|at least\b)\s*:?\s*/i;
const NUM = '[-+\\u2212]?\\d[\\d.,]*';
// A unit: letters, %, µ, °, "/" — no digits, dashes, commas or semicolons ("mg/kg", "%", "% w/w", "CFU/g", "µg/g").
const UNIT = '[^\\d\\s\\-–—‒,;][^\\d\\-–—‒,;]*?';
const ONE = new RegExp(`^(${NUM})\\s*(${UNIT})?$`);
const RANGE = new RegExp(`^(${NUM})\\s*(${UNIT})?\\s*(?:-|–|—|‒|\\.\\.\\.?|…|to|bis)\\s*(${NUM})\\s*(${UNIT})?$`, 'i');
const BETWEEN = new RegExp(`^between\\s+(${NUM})\\s*(${UNIT})?\\s+and\\s+(${NUM})\\s*(${UNIT})?$`, 'i');
const LOOKS_NUMERIC = /^(?:[-+\u2212]?\d|between\s+\d)/i;

const show = (s: string): string => `"${s.length > 60 ? s.slice(0, 57) + '...' : s}"`;

/**
 * A spec parser for one field's notation. Returns the limits, or an E_BAD_SPEC error for text
 * that states a limit ("NMT …", "≤ …", a number, a range) which cannot be read.
 */
export function createSpecParser(parseNumber: NumberParser, numberFormat: string): (raw: string) => ParsedSpec | ConvError {
  const num = (s: string): number => parseNumber(s.replace(/\u2212/, '-'));
  const unitOf = (a: string | undefined, b?: string | undefined): string | undefined | null => {
    const ua = a?.trim() || undefined;
    const ub = b?.trim() || undefined;
    if (ua !== undefined && ub !== undefined && ua !== ub) return null;
    return ub ?? ua;
  };
  const bad = (text: string, why: string): ConvError =>
    new ConvError('E_BAD_SPEC', `specification ${show(text)}: ${why}; write limits like "NMT 0.5 %", "≥ 80", "95.0 - 105.0" with numbers as ${numberFormat}, or map the column as specText only (type string) if it is free text`);
  return (raw) => {
    const text = raw.trim();
    const upper = UPPER.exec(text);
    const lower = upper === null ? LOWER.exec(text) : null;
    const bound = upper ?? lower;
    if (bound !== null) {
      const rest = text.slice(bound[0].length).trim();
      const m = ONE.exec(rest);
      if (m === null) return bad(text, `after "${bound[0].trim()}" expected one number and an optional unit`);
      const n = num(m[1]);
      if (Number.isNaN(n)) return bad(text, `"${m[1]}" is not a number`);
      const out: ParsedSpec = { specText: text };
      if (upper !== null) out.specHigh = n;
      else out.specLow = n;
      const unit = unitOf(m[2]);
      if (unit) out.unit = unit;
      return out;
    }
    if (!LOOKS_NUMERIC.test(text)) return { specText: text }; // "Report", "Conforms", "Clear, colourless solution"
    const r = RANGE.exec(text) ?? BETWEEN.exec(text);
    if (r !== null) {
      const lo = num(r[1]);
      const hi = num(r[3]);
      if (Number.isNaN(lo) || Number.isNaN(hi)) return bad(text, `"${Number.isNaN(lo) ? r[1] : r[3]}" is not a number`);
      if (lo > hi) return bad(text, `the low limit ${lo} is above the high limit ${hi}`);
      const unit = unitOf(r[2], r[4]);
      if (unit === null) return bad(text, `the two limits have different units`);
      return unit ? { specText: text, specLow: lo, specHigh: hi, unit } : { specText: text, specLow: lo, specHigh: hi };
    }
    return bad(text, 'it starts like a limit but is neither "NMT x", "NLT x", "≤ x", "≥ x" nor a range "a - b"');
  };
}
