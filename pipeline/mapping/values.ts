// Typing of single raw values: numbers with declared separators, booleans, lab result text, lists.
// Converters are built once per field and return the typed value or a ConvError (never throw),
// so the row loop stays free of try/catch and closures.

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

// Lab result text (qualifiers, ND, <LOQ, vocabulary): see result-text.ts.
export { parseResult, type ParsedResult } from './result-text.js';

export function splitList(text: string, separator: string): string[] {
  const out: string[] = [];
  for (const part of text.split(separator)) {
    const t = part.trim();
    if (t !== '') out.push(t);
  }
  return out;
}
