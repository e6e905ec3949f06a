// Typing of single raw values: numbers with declared separators, booleans, lab result text, lists.
// Converters are built once per field and return the typed value or a ConvError (never throw),
// so the row loop stays free of try/catch and closures.

import type { Qualifier } from '../model/types.js';
import type { ErrorCode } from '../codes.js';

export class ConvError {
  constructor(
    public readonly code: ErrorCode,
    public readonly message: string,
  ) {}
}

export type NumberParser = (text: string) => number;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A strict number parser for the declared separators: "1.234,5" parses with decimal "," and
 * thousands ".", "1.5" does not (in such a file it is junk, not one and a half). Returns NaN
 * for anything that is not a number in that notation.
 */
export function createNumberParser(decimal = '.', thousands = ''): NumberParser {
  const d = escapeRe(decimal);
  const intPart = thousands === '' ? '\\d+' : `(?:\\d{1,3}(?:${escapeRe(thousands)}\\d{3})+|\\d+)`;
  const re = new RegExp(`^[-+]?(?:${intPart}(?:${d}\\d*)?|${d}\\d+)(?:[eE][-+]?\\d+)?$`);
  const needsDecimalSwap = decimal !== '.';
  return (text: string): number => {
    let s = text.charCodeAt(0) === 0x2212 ? '-' + text.slice(1) : text; // U+2212 minus sign from word processors
    if (!re.test(s)) return NaN;
    if (thousands !== '') s = s.split(thousands).join('');
    if (needsDecimalSwap) s = s.replace(decimal, '.');
    return Number(s);
  };
}

export function describeNumberFormat(decimal: string, thousands: string): string {
  const example = thousands === '' ? `1234${decimal}5` : `1${thousands}234${decimal}5`;
  return `a number with decimal separator "${decimal}"${thousands === '' ? '' : ` and thousands separator "${thousands}"`} (e.g. ${example})`;
}

const BOOLEANS = new Map<string, boolean>([
  ['true', true], ['false', false], ['yes', true], ['no', false], ['y', true], ['n', false],
  ['1', true], ['0', false], ['ja', true], ['nein', false], ['j', true],
]);

export function parseBoolean(text: string): boolean | undefined {
  return BOOLEANS.get(text.toLowerCase());
}

export const BOOLEAN_WORDS = 'yes/no, true/false, 1/0, Y/N, ja/nein';

export interface ParsedResult {
  resultRaw: string;
  resultValue?: number;
  qualifier?: Qualifier;
}

// Lab spellings of "not detected"; "<LOD" (below the limit of detection) is the same statement.
const NOT_DETECTED = new Set([
  'nd', 'n.d.', 'n.d', 'n/d', 'not detected', 'none detected', 'not found', 'n.n.', 'n.n', 'nn',
  'nicht nachweisbar', 'bdl', '<lod', '< lod',
]);
const QUALIFIED = /^(<=|>=|≤|≥|<|>)\s*(.+)$/;
const LOQ = /^loq\b/i;
const LOD = /^lod\b/i;
const LOOKS_NUMERIC = /^[-+\u2212]?[\d.,]/;

/**
 * Splits a lab result as sent into qualifier and value: "<0.05" → <, 0.05; "ND" → ND;
 * "<LOQ" → <LOQ; "99,8" (decimal comma) → 99.8; "Complies" → text only. Text that starts like
 * a number but is not one in the declared notation is an error, not a silent text result.
 */
export function parseResult(raw: string, parseNumber: NumberParser, numberFormat: string): ParsedResult | ConvError {
  const text = raw.trim();
  const lower = text.toLowerCase();
  if (NOT_DETECTED.has(lower)) return { resultRaw: text, qualifier: 'ND' };
  const q = QUALIFIED.exec(text);
  if (q !== null) {
    const op = q[1] === '≤' ? '<=' : q[1] === '≥' ? '>=' : (q[1] as Qualifier);
    const rest = q[2].trim();
    if (op === '<' && LOQ.test(rest)) return { resultRaw: text, qualifier: '<LOQ' };
    if (op === '<' && LOD.test(rest)) return { resultRaw: text, qualifier: 'ND' };
    const n = parseNumber(rest);
    if (Number.isNaN(n)) {
      return new ConvError('E_BAD_NUMBER', `result "${text}": after "${q[1]}" expected ${numberFormat}`);
    }
    return { resultRaw: text, resultValue: n, qualifier: op };
  }
  if (LOOKS_NUMERIC.test(text)) {
    const n = parseNumber(text);
    if (Number.isNaN(n)) {
      return new ConvError(
        'E_BAD_NUMBER',
        `result "${text}" is not ${numberFormat}, nor a qualified result like "<0.05", "ND" or "<LOQ"`,
      );
    }
    return { resultRaw: text, resultValue: n };
  }
  return { resultRaw: text }; // qualitative result ("Complies", "Conforms", "Positive")
}

export function splitList(text: string, separator: string): string[] {
  const out: string[] = [];
  for (const part of text.split(separator)) {
    const t = part.trim();
    if (t !== '') out.push(t);
  }
  return out;
}
