// Date and datetime patterns in Luxon tokens ("dd.MM.yyyy", "M/d/yy h:mm a", "iso").
// Checking a pattern happens at load time (so a moment.js-style "DD.MM.YYYY" is caught in the
// editor, not on row one million); parsing is precompiled per field: common numeric patterns
// go through one regular expression, everything else through a prebuilt Luxon TokenParser.

import { DateTime, Info, type Zone } from 'luxon';
import { ConvError } from './values.js';

export interface FormatToken {
  literal: boolean;
  val: string;
}

/** Splits a pattern the way Luxon does: runs of one letter are tokens, '…' is literal text. */
export function tokenizeFormat(fmt: string): FormatToken[] {
  const out: FormatToken[] = [];
  let current = '';
  let run = '';
  let quoted = false;
  for (const c of fmt) {
    if (c === "'") {
      if (run.length > 0 || quoted) out.push({ literal: quoted || !/[A-Za-z]/.test(run), val: run === '' ? "'" : run });
      run = '';
      current = '';
      quoted = !quoted;
    } else if (quoted) {
      run += c;
    } else if (c === current) {
      run += c;
    } else {
      if (run.length > 0) out.push({ literal: !/[A-Za-z]/.test(run), val: run });
      run = c;
      current = c;
    }
  }
  if (run.length > 0) out.push({ literal: quoted || !/[A-Za-z]/.test(run), val: run });
  return out;
}

const PARSE_TOKENS = new Set([
  'G', 'GG', 'y', 'yy', 'yyyy', 'yyyyy', 'yyyyyy', 'M', 'MM', 'MMM', 'MMMM', 'L', 'LL', 'LLL', 'LLLL',
  'd', 'dd', 'o', 'ooo', 'HH', 'H', 'hh', 'h', 'mm', 'm', 'q', 'qq', 's', 'ss', 'S', 'SSS', 'u', 'uu', 'uuu',
  'a', 'kkkk', 'kk', 'W', 'WW', 'E', 'c', 'EEE', 'EEEE', 'ccc', 'cccc', 'Z', 'ZZ', 'ZZZ', 'z',
]);
// Luxon's localized macros parse, but in a locale-dependent shape nobody exports on purpose;
// an unquoted T in "yyyy-MM-ddTHH:mm" is one of them and would never match.
const MACROS = new Set([
  'DDD', 'DDDD', 't', 'tt', 'ttt', 'tttt', 'T', 'TT', 'TTT', 'TTTT', 'f', 'ff', 'fff', 'ffff', 'F', 'FF', 'FFF', 'FFFF',
]);
// What people coming from moment.js / Java / Excel write, and what they mean.
const LOOKALIKES: Record<string, string> = {
  YYYY: 'yyyy', YY: 'yy', Y: 'y', DD: 'dd', D: 'd', A: 'a', AA: 'a', SS: 'SSS', sss: 'SSS', hhh: 'hh', nn: 'mm', NN: 'mm',
};

export const ISO_FORMAT = 'iso';

export interface FormatCheck {
  errors: string[];
  warnings: string[];
}

/** Errors and warnings for one pattern, as sentences for a diagnostic. */
export function checkDateFormat(fmt: string): FormatCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (fmt.trim() === '') return { errors: ['empty date format'], warnings };
  if (fmt === ISO_FORMAT) return { errors, warnings };
  const all = tokenizeFormat(fmt);
  const tokens = all.filter((t) => !t.literal);
  const vals = new Set(tokens.map((t) => t.val));
  // Adjacent letter tokens form a word: "Uhr" is U + h + r; report the word, not its pieces.
  const wordOf = new Map<FormatToken, string>();
  for (let i = 0; i < all.length; ) {
    if (all[i].literal) {
      i++;
      continue;
    }
    let j = i;
    let word = '';
    while (j < all.length && !all[j].literal) word += all[j++].val;
    for (let k = i; k < j; k++) wordOf.set(all[k], word);
    i = j;
  }
  const reportedWords = new Set<string>();
  for (const t of tokens) {
    if (PARSE_TOKENS.has(t.val)) continue;
    const fix = LOOKALIKES[t.val];
    if (MACROS.has(t.val) && fix === undefined) {
      errors.push(`"${t.val}" in date format "${fmt}" is Luxon's localized-format macro, not literal text; put literal text in single quotes (e.g. '${t.val}')`);
    } else if (fix !== undefined) {
      const why = t.val.startsWith('D') ? ` ("${t.val}" is a localized-date macro or day of year in Luxon)` : '';
      errors.push(`"${t.val}" in date format "${fmt}" is not a Luxon token${why}; use "${fix}"`);
    } else {
      const word = wordOf.get(t) ?? t.val;
      if (reportedWords.has(word)) continue;
      reportedWords.add(word);
      errors.push(`unknown token "${word}" in date format "${fmt}"; put literal text in single quotes (e.g. '${word}')`);
    }
  }
  const hasHour12 = vals.has('h') || vals.has('hh');
  if (hasHour12 && !vals.has('a')) warnings.push(`date format "${fmt}" uses 12-hour "h" without "a" (AM/PM); use "H" for 24-hour times`);
  if (vals.has('a') && (vals.has('H') || vals.has('HH'))) warnings.push(`date format "${fmt}" combines 24-hour "H" with "a" (AM/PM); use "h" for 12-hour times`);
  const hasHour = hasHour12 || vals.has('H') || vals.has('HH');
  if ((vals.has('mm') || vals.has('m')) && !hasHour && !vals.has('M') && !vals.has('MM')) {
    warnings.push(`date format "${fmt}" has minutes ("mm") but no hour and no month; month is "MM"`);
  }
  return { errors, warnings };
}

/** True when values in this pattern carry their own UTC offset or zone, so `tz` does not apply. */
export function formatHasOffset(fmt: string): boolean {
  if (fmt === ISO_FORMAT) return false; // ISO values may or may not carry one
  return tokenizeFormat(fmt).some((t) => !t.literal && (t.val === 'Z' || t.val === 'ZZ' || t.val === 'ZZZ' || t.val === 'z'));
}

export function isValidZone(tz: string): boolean {
  const z = Info.normalizeZone(tz);
  return z !== null && z !== undefined && z.isValid;
}

export interface DateParser {
  /** Canonical value (YYYY-MM-DD, or ISO-8601 UTC for datetimes) or a ConvError. */
  parse(text: string): string | ConvError;
}

export interface DateParserOptions {
  kind: 'date' | 'datetime';
  formats: readonly string[];
  tz?: string;
  locale?: string;
}

// Slots of the fast path: which calendar component a capture group fills.
const Y4 = 0, Y2 = 1, MO = 2, DA = 3, H24 = 4, H12 = 5, MI = 6, SE = 7, MS = 8, AMPM = 9;
const FAST: Record<string, [string, number]> = {
  yyyy: ['(\\d{4})', Y4], yy: ['(\\d{2})', Y2], M: ['(\\d{1,2})', MO], MM: ['(\\d{2})', MO],
  d: ['(\\d{1,2})', DA], dd: ['(\\d{2})', DA], H: ['(\\d{1,2})', H24], HH: ['(\\d{2})', H24],
  h: ['(\\d{1,2})', H12], hh: ['(\\d{2})', H12], m: ['(\\d{1,2})', MI], mm: ['(\\d{2})', MI],
  s: ['(\\d{1,2})', SE], ss: ['(\\d{2})', SE], S: ['(\\d{1,3})', MS], SSS: ['(\\d{3})', MS], a: ['([AaPp]\\.?[Mm]\\.?)', AMPM],
};

interface FastFormat {
  re: RegExp;
  slots: number[];
}

function compileFast(fmt: string): FastFormat | undefined {
  let src = '^';
  const slots: number[] = [];
  for (const t of tokenizeFormat(fmt)) {
    if (t.literal) {
      src += t.val.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    const f = FAST[t.val];
    if (f === undefined) return undefined;
    src += f[0];
    slots.push(f[1]);
  }
  return { re: new RegExp(src + '$'), slots };
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysIn(year: number, month: number): number {
  if (month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return 29;
  return MONTH_DAYS[month - 1];
}
function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

const CACHE_LIMIT = 20_000;
// Tokens that carry a time of day (hours, minutes, seconds, fractions, AM/PM, offsets).
const TIME_TOKEN = /^(?:H{1,2}|h{1,2}|k{2,4}|m{1,2}|s{1,2}|S{1,3}|u{1,3}|a|Z{1,3}|z)$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const UTC = Info.normalizeZone('utc');

class CompiledDateParser implements DateParser {
  private readonly fast: (FastFormat | undefined)[];
  private readonly luxon: (ReturnType<typeof DateTime.buildFormatParser> | undefined)[];
  private readonly zone: Zone;
  private readonly zoneIsUtc: boolean;
  private readonly expected: string;
  // Files repeat the same dates over and over; remembering them keeps 1M rows cheap.
  private readonly cache = new Map<string, string | ConvError>();
  private readonly parts = new Int32Array(10);
  /** Per format: it has no time of day (a date-only pattern). */
  private readonly dateOnly: boolean[];

  constructor(private readonly opts: DateParserOptions) {
    const zone = Info.normalizeZone(opts.tz ?? 'utc');
    if (!zone.isValid) throw new Error(`invalid time zone "${opts.tz}"`);
    this.zone = zone;
    this.zoneIsUtc = zone.isUniversal && zone.offset(0) === 0;
    const locale = opts.locale ?? 'en-US';
    // The fast path reads English AM/PM markers (AM, a.m., PM, p.m.): right for the default
    // and for any English locale, so an explicit `locale: en-US` behaves exactly like none.
    const english = /^en(?:-|$)/i.test(locale);
    this.fast = opts.formats.map((f) => (f === ISO_FORMAT || (!english && /a/.test(f)) ? undefined : compileFast(f)));
    this.dateOnly = opts.formats.map((f) => f !== ISO_FORMAT && !tokenizeFormat(f).some((t) => !t.literal && TIME_TOKEN.test(t.val)));
    this.luxon = opts.formats.map((f, i) => (f === ISO_FORMAT || this.fast[i] !== undefined ? undefined : DateTime.buildFormatParser(f, { locale })));
    const sample = DateTime.fromObject({ year: 2024, month: 12, day: 31, hour: 13, minute: 45, second: 30 }, { zone: 'utc' });
    this.expected = opts.formats
      .map((f) => {
        if (f === ISO_FORMAT) return `ISO-8601 (e.g. "${opts.kind === 'date' ? '2024-12-31' : '2024-12-31T13:45:30Z'}")`;
        return `"${f}" (e.g. "${sample.toFormat(f, { locale })}")`;
      })
      .join(' or ');
  }

  parse(text: string): string | ConvError {
    const hit = this.cache.get(text);
    if (hit !== undefined) return hit;
    const out = this.parseUncached(text);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(text, out);
    return out;
  }

  private parseUncached(text: string): string | ConvError {
    let calendarError: ConvError | undefined;
    for (let i = 0; i < this.opts.formats.length; i++) {
      const fast = this.fast[i];
      let out: string | ConvError | undefined;
      // A value with no time of day is a calendar date: kept as that date (midnight UTC), never
      // shifted by the zone to the previous day.
      const dateOnly = this.dateOnly[i] || (this.opts.formats[i] === ISO_FORMAT && ISO_DATE.test(text));
      const zone = dateOnly ? UTC : this.zone;
      if (fast !== undefined) out = this.parseFast(fast, text, dateOnly);
      else if (this.opts.formats[i] === ISO_FORMAT) out = this.fromLuxon(DateTime.fromISO(text, { zone, setZone: true }));
      else out = this.fromLuxon(DateTime.fromFormatParser(text, this.luxon[i]!, { zone, setZone: true, locale: this.opts.locale ?? 'en-US' }));
      if (typeof out === 'string') return out;
      if (out !== undefined) calendarError ??= out;
    }
    return calendarError ?? new ConvError('E_BAD_DATE', `expected a ${this.opts.kind === 'date' ? 'date' : 'date/time'} as ${this.expected}; got "${text}"`);
  }

  private fromLuxon(dt: DateTime): string | undefined {
    if (!dt.isValid) return undefined;
    if (dt.year < 1 || dt.year > 9999) return undefined;
    return this.opts.kind === 'date' ? dt.toISODate()! : new Date(dt.toMillis()).toISOString();
  }

  /** undefined = pattern does not match; ConvError = matches but is no real date/time. */
  private parseFast(f: FastFormat, text: string, dateOnly = false): string | ConvError | undefined {
    const m = f.re.exec(text);
    if (m === null) return undefined;
    const p = this.parts;
    p.fill(-1);
    let year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, ms = 0, pm = -1;
    for (let i = 0; i < f.slots.length; i++) {
      const g = m[i + 1];
      switch (f.slots[i]) {
        case Y4: year = +g; break;
        case Y2: year = +g > 60 ? 1900 + +g : 2000 + +g; break; // Luxon's cut-off, so both paths agree
        case MO: month = +g; break;
        case DA: day = +g; break;
        case H24: hour = +g; p[H24] = 1; break;
        case H12: hour = +g; p[H12] = 1; break;
        case MI: minute = +g; break;
        case SE: second = +g; break;
        case MS: ms = +g; break;
        case AMPM: pm = g[0] === 'p' || g[0] === 'P' ? 1 : 0; break;
      }
    }
    const bad = (what: string): ConvError => new ConvError('E_BAD_DATE', `"${text}" matches ${this.expected} but ${what}`);
    if (month < 1 || month > 12) return bad(`month ${month} does not exist`);
    if (day < 1 || day > daysIn(year, month)) return bad(`day ${day} does not exist in ${year}-${pad(month, 2)}`);
    if (p[H12] === 1) {
      if (hour < 1 || hour > 12) return bad(`hour ${hour} is not a 12-hour clock hour`);
      if (pm === 1 && hour < 12) hour += 12;
      else if (pm === 0 && hour === 12) hour = 0;
    }
    if (hour > 23) return bad(`hour ${hour} does not exist`);
    if (minute > 59) return bad(`minute ${minute} does not exist`);
    if (second > 59) return bad(`second ${second} does not exist`);
    if (this.opts.kind === 'date') return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
    const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    if (this.zoneIsUtc || dateOnly) return new Date(local).toISOString();
    const utc = this.localToUtc(local);
    if (utc === undefined) {
      return bad(`${pad(hour, 2)}:${pad(minute, 2)} does not exist on ${year}-${pad(month, 2)}-${pad(day, 2)} in ${this.zone.name} (clocks moved forward)`);
    }
    return new Date(utc).toISOString();
  }

  /** Local wall time (as if UTC) → the instant, or undefined inside a DST gap. */
  private localToUtc(local: number): number | undefined {
    let utc = local - this.offset(local) * 60_000;
    const o2 = this.offset(utc);
    if (utc + o2 * 60_000 !== local) {
      utc = local - o2 * 60_000;
      if (utc + this.offset(utc) * 60_000 !== local) return undefined;
    }
    return utc;
  }

  // A zone's offset only changes at transitions, which fall on quarter hours; asking Intl for
  // every row was most of the mapping time of a large file (luxon's IANAZone.offset).
  private readonly offsets = new Map<number, number>();

  private offset(ts: number): number {
    const bucket = Math.floor(ts / 900_000);
    let o = this.offsets.get(bucket);
    if (o === undefined) {
      if (this.offsets.size > 50_000) this.offsets.clear();
      o = this.zone.offset(ts);
      this.offsets.set(bucket, o);
    }
    return o;
  }
}

export function createDateParser(opts: DateParserOptions): DateParser {
  return new CompiledDateParser({ ...opts, formats: opts.formats.length > 0 ? opts.formats : [ISO_FORMAT] });
}
