// Lab result text as labs write it: "<0.05", "> 100", "ND", "n.d.", "ND (<0,01)", "<LOQ",
// "BLQ", "Complies", "Positive". A built-in vocabulary of qualifier words, extended per field by
// the mapping (`qualifiers: { "nicht nachweisbar": ND, "entspricht": conforms }`). Text that
// starts like a number but is not one in the declared notation is an error; any other unknown
// text stays text (resultRaw only), never a number. Pure.

import type { Qualifier } from '../model/types.js';
import { ConvError, type NumberParser } from './values.js';

export interface ParsedResult {
  resultRaw: string;
  resultValue?: number;
  qualifier?: Qualifier;
}

/** What a vocabulary word means: a qualifier (alone, or before a number), or a qualitative result. */
export type ResultWord = 'ND' | '<LOQ' | '<' | '>' | '<=' | '>=' | 'conforms' | 'does not conform' | 'positive' | 'negative';

export const RESULT_WORDS: readonly ResultWord[] = ['ND', '<LOQ', '<', '>', '<=', '>=', 'conforms', 'does not conform', 'positive', 'negative'];

const TEXT_WORDS = new Set<ResultWord>(['conforms', 'does not conform', 'positive', 'negative']);

// Lab spellings of "not detected"; "<LOD" (below the limit of detection) is the same statement.
const BUILTIN_ND = ['nd', 'n.d.', 'n.d', 'n/d', 'not detected', 'none detected', 'not found', 'n.n.', 'n.n', 'nn', 'nicht nachweisbar', 'bdl', '<lod', 'below lod', '<nwg', '<dl'];
// Below the limit of quantification: detected perhaps, but not quantifiable.
const BUILTIN_LOQ = ['<loq', 'bloq', 'blq', 'bql', 'below loq', '<bg', 'n.q.', 'nq', 'not quantifiable', '<lq'];

/** A word as compared: lower case, inner spaces collapsed, no space after a leading < or >. */
export function normalizeWord(s: string): string {
  return s.trim().toLowerCase().replace(/\s+/g, ' ').replace(/^([<>≤≥]=?) /, '$1');
}

export type Vocabulary = Map<string, ResultWord>;

/** The built-in words plus the mapping's own (which win). */
export function buildVocabulary(extra: Record<string, ResultWord> = {}): Vocabulary {
  const v: Vocabulary = new Map();
  for (const w of BUILTIN_ND) v.set(w, 'ND');
  for (const w of BUILTIN_LOQ) v.set(w, '<LOQ');
  for (const [w, target] of Object.entries(extra)) v.set(normalizeWord(w), target);
  return v;
}

const DEFAULT_VOCABULARY = buildVocabulary();
const QUALIFIED = /^(<=|>=|=<|=>|≤|≥|<|>)\s*(.+)$/;
const LOOKS_NUMERIC = /^[-+\u2212]?[\d.,]/;
// The limit after a qualifier word: "(<0,01)", "(LOD 0.01)", "< 0.01", "(0.05)".
const LIMIT = /^[([]?\s*(?:<=|≤|<|=|:|lod|loq|nwg|bg|dl)?\s*:?\s*([-+\u2212]?[\d.,]+)\s*[)\]]?$/i;

function op(text: string): Qualifier {
  switch (text) {
    case '≤':
    case '=<':
      return '<=';
    case '≥':
    case '=>':
      return '>=';
    default:
      return text as Qualifier;
  }
}

/**
 * A result parser for one field: `parseNumber` is the field's declared notation, `numberFormat`
 * its description for messages, `vocabulary` the words it knows (built-in + declared).
 */
export function createResultParser(parseNumber: NumberParser, numberFormat: string, vocabulary: Vocabulary = DEFAULT_VOCABULARY): (raw: string) => ParsedResult | ConvError {
  // Qualifier words that may carry a limit after them, longest first ("n.d." before "nd").
  const prefixes = [...vocabulary].filter(([, t]) => !TEXT_WORDS.has(t)).sort((a, b) => b[0].length - a[0].length);
  return (raw) => {
    const text = raw.trim();
    const word = normalizeWord(text);
    const hit = vocabulary.get(word);
    if (hit !== undefined) {
      if (hit === 'ND' || hit === '<LOQ') return { resultRaw: text, qualifier: hit };
      if (TEXT_WORDS.has(hit)) return { resultRaw: hit === word ? text : hit };
      // An operator word alone ("kleiner") says nothing without its number.
      return new ConvError('E_BAD_NUMBER', `result "${text}": a number must follow "${text}"`);
    }
    for (const [w, target] of prefixes) {
      if (!word.startsWith(w) || word.length === w.length) continue;
      const rest = word.slice(w.length).trim();
      // "ND (<0,01)", "<LOQ (0,05)", "n.d. < 0.01", "kleiner 0,05"; a word glued to letters ("ndx") is not this word.
      if (/^[a-z]/.test(rest) && !/^(lod|loq|nwg|bg|dl)\b/.test(rest)) continue;
      const m = LIMIT.exec(rest);
      const n = m === null ? NaN : parseNumber(m[1]);
      if (Number.isNaN(n)) {
        return new ConvError('E_BAD_NUMBER', `result "${text}": after "${w}" expected a limit like "(<0.01)" written as ${numberFormat}`);
      }
      return { resultRaw: text, resultValue: n, qualifier: target as Qualifier };
    }
    const q = QUALIFIED.exec(text);
    if (q !== null) {
      const rest = q[2].trim();
      const n = parseNumber(rest);
      if (Number.isNaN(n)) {
        return new ConvError('E_BAD_NUMBER', `result "${text}": after "${q[1]}" expected ${numberFormat}, or a word the mapping knows (add it under the field's qualifiers)`);
      }
      return { resultRaw: text, resultValue: n, qualifier: op(q[1]) };
    }
    if (LOOKS_NUMERIC.test(text)) {
      const n = parseNumber(text);
      if (Number.isNaN(n)) {
        return new ConvError('E_BAD_NUMBER', `result "${text}" is not ${numberFormat}, nor a qualified result like "<0.05", "ND" or "<LOQ"`);
      }
      return { resultRaw: text, resultValue: n };
    }
    return { resultRaw: text }; // qualitative result ("Complies", "Conforms", "Positive") or text the lab wrote
  };
}

/** The result split with the built-in vocabulary (constants in mappings, tests). */
export function parseResult(raw: string, parseNumber: NumberParser, numberFormat: string): ParsedResult | ConvError {
  return createResultParser(parseNumber, numberFormat)(raw);
}
