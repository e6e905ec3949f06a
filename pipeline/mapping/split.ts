// `split:` conversions: one part of a compound value partners write in one cell — a number with
// its unit, one application identifier of a GS1 element string, the GTIN or serial of an EPC
// SGTIN, the digits of an EPC SSCC. Pure; a value that is not of the declared shape is a ConvError.

import type { SplitKind } from './spec.js';
import { ConvError } from './values.js';

export type Splitter = (s: string) => string | undefined | ConvError;

/** GS1 AIs with a fixed data length (digits); any other AI runs to a GS (\x1d), the next "(" or the end. */
const FIXED: Record<string, number> = { '00': 18, '01': 14, '02': 14, '11': 6, '12': 6, '13': 6, '15': 6, '16': 6, '17': 6, '20': 2 };
const DATE_AIS = new Set(['11', '12', '13', '15', '16', '17']);
/** Variable-length AIs recognised in the unbracketed form (FNC1/GS-separated). */
const VARIABLE = ['10', '21', '22', '240', '241', '30', '37', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99'];

const show = (s: string): string => `"${s.length > 60 ? s.slice(0, 57) + '...' : s}"`;

/** The AIs of an element string: "(01)0950…(10)AB" or "]d2010950…17261231 10AB\x1d21…". */
export function parseGs1(text: string): Map<string, string> | string {
  const out = new Map<string, string>();
  let s = text.trim().replace(/^\](?:d2|C1|e0|Q3)/, '');
  if (s.startsWith('(')) {
    const re = /\((\d{2,4})\)([^(]*)/g;
    let m: RegExpExecArray | null;
    let end = 0;
    while ((m = re.exec(s)) !== null) {
      if (m.index !== end) return `unexpected text at position ${end + 1}`;
      out.set(m[1], m[2].trim());
      end = re.lastIndex;
    }
    if (end !== s.length || out.size === 0) return 'expected (AI)value pairs like (01)09506000134352(10)AB-12';
    return out;
  }
  s = s.replace(/^\x1d+/, '');
  while (s.length > 0) {
    const two = s.slice(0, 2);
    if (two in FIXED) {
      const n = FIXED[two];
      const v = s.slice(2, 2 + n);
      if (v.length !== n || !/^\d+$/.test(v)) return `AI (${two}) needs ${n} digits`;
      out.set(two, v);
      s = s.slice(2 + n).replace(/^\x1d/, '');
      continue;
    }
    const ai = VARIABLE.find((a) => s.startsWith(a));
    if (ai === undefined) return `unknown application identifier at ${show(s)}`;
    const gs = s.indexOf('\x1d');
    out.set(ai, gs < 0 ? s.slice(ai.length) : s.slice(ai.length, gs));
    s = gs < 0 ? '' : s.slice(gs + 1);
  }
  return out.size === 0 ? 'empty element string' : out;
}

/** GS1 YYMMDD → yyyy-MM-dd; day 00 means the last day of the month. Years 2000–2099. */
export function gs1Date(yymmdd: string): string | undefined {
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(yymmdd);
  if (m === null) return undefined;
  const y = 2000 + Number(m[1]);
  const mo = Number(m[2]);
  let d = Number(m[3]);
  if (mo < 1 || mo > 12) return undefined;
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d === 0) d = last;
  if (d > last) return undefined;
  return `${y}-${m[2]}-${String(d).padStart(2, '0')}`;
}

function checkDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[digits.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

/** urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial → { gtin (14 digits), serial }. */
export function parseSgtin(text: string): { gtin: string; serial: string } | undefined {
  const m = /^urn:epc:id:sgtin:(\d+)\.(\d+)\.(.+)$/.exec(text.trim());
  if (m === null || m[1].length + m[2].length !== 13) return undefined;
  const body = m[2][0] + m[1] + m[2].slice(1);
  return { gtin: body + checkDigit(body), serial: decodeURIComponent(m[3]) };
}

/** urn:epc:id:sscc:CompanyPrefix.ExtensionSerialRef → the 18-digit SSCC. */
export function parseSscc(text: string): string | undefined {
  const t = text.trim();
  if (/^\d{18}$/.test(t)) return t;
  const m = /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(t);
  if (m === null || m[1].length + m[2].length !== 17) return undefined;
  const body = m[2][0] + m[1] + m[2].slice(1);
  return body + checkDigit(body);
}

const NUMBER_UNIT = /^([<>≤≥]?=?\s*[-+]?(?:\d[\d.,'\u00a0\u202f ]*\d|\d)(?:[eE][-+]?\d+)?)\s*(.*)$/;

export function createSplitter(kind: SplitKind): Splitter {
  switch (kind) {
    case 'number':
    case 'unit': {
      const part = kind === 'number' ? 1 : 2;
      return (s) => {
        const m = NUMBER_UNIT.exec(s.trim());
        if (m === null) return new ConvError('E_SPLIT', `expected a number followed by a unit (e.g. "12,5 mg/kg"); got ${show(s)}`);
        const v = m[part].trim();
        return v === '' ? undefined : v;
      };
    }
    case 'sgtin:gtin':
    case 'sgtin:serial':
      return (s) => {
        const r = parseSgtin(s);
        if (r === undefined) return new ConvError('E_SPLIT', `expected an EPC SGTIN like "urn:epc:id:sgtin:0614141.107346.2017"; got ${show(s)}`);
        return kind === 'sgtin:gtin' ? r.gtin : r.serial;
      };
    case 'sscc':
      return (s) => parseSscc(s) ?? new ConvError('E_SPLIT', `expected an SSCC (18 digits or "urn:epc:id:sscc:0614141.1234567890"); got ${show(s)}`);
    default: {
      const ai = kind.slice(4);
      return (s) => {
        const ais = parseGs1(s);
        if (typeof ais === 'string') return new ConvError('E_SPLIT', `not a GS1 element string (${ais}); got ${show(s)}`);
        const v = ais.get(ai);
        if (v === undefined) return undefined;
        if (!DATE_AIS.has(ai)) return v;
        return gs1Date(v) ?? new ConvError('E_SPLIT', `AI (${ai}) ${show(v)} is not a YYMMDD date`);
      };
    }
  }
}

export const SPLIT_KIND_PATTERN = '^(number|unit|sgtin:gtin|sgtin:serial|sscc|gs1:\\d{2,4})$';
