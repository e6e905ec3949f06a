// Guesses which canonical field each column (or key/value block) of a sample is, from header
// words in English and German, checked against the column's detected type: a date field only
// from a date column, a quantity only from numbers. It also picks the record kind (test result,
// stage event or lot) the columns fit, and an `each` rule for wide files (one column per
// analyte). Every guess keeps its reason for the draft's comments.

import type { RecordKind } from '../../model/types.js';
import type { BlockGuess, ColumnType, Confidence, Guess } from './detect.js';

export interface ColumnInfo {
  /** 0-based position. */
  index: number;
  header: string;
  /** 1-based occurrence of this header text among the columns (for repeated headers). */
  occurrence: number;
  type: Guess<ColumnType>;
  values: string[];
}

export interface BlockInfo extends BlockGuess {
  type: Guess<ColumnType>;
}

/** Where a field's value comes from. */
export type Source = { column: ColumnInfo } | { block: BlockInfo } | { eachMatch: true } | { eachColumn: true } | { each: true } | { template: [ColumnInfo, ColumnInfo] };

export interface FieldGuess {
  name: string;
  source: Source;
  xref?: string;
  required?: boolean;
  confidence: Confidence;
  why: string;
  /** A value map for enum fields (sample value → canonical), and values it could not place. */
  map?: Record<string, string>;
  unplaced?: string[];
}

export interface EachGuess {
  /** A regex over header texts with one capture group (the test code), or columns to leave out. */
  columns?: string;
  allExcept?: string[];
  set?: Record<string, string>;
  claimed: ColumnInfo[];
  why: string;
}

export interface RecordGuess {
  kind: RecordKind;
  why: string;
  each?: EachGuess;
  fields: FieldGuess[];
  unclaimed: ColumnInfo[];
  unusedBlocks: BlockInfo[];
}

type Want = 'text' | 'number' | 'date' | 'datetime' | 'result' | 'any';

interface Rule {
  field: string;
  words: string[];
  want: Want;
  xref?: string;
  required?: boolean;
  enumMap?: [RegExp, string][];
}

const LOT_REFS: Rule[] = [
  { field: 'lotNumber', words: ['lot', 'lot no', 'lot number', 'lot nr', 'lot id', 'client lot', 'lotnummer', 'los', 'losnummer'], want: 'text' },
  { field: 'batch', xref: 'cmo_batch', words: ['batch', 'batch no', 'batch number', 'batch nr', 'batch id', 'charge', 'charge nr', 'charge no', 'chargen nr', 'chargennummer', 'mfr batch', 'manufacturer batch', 'vendor batch'], want: 'text' },
  { field: 'materialId', words: ['material', 'material no', 'material nr', 'material number', 'material id', 'artikel', 'artikel nr', 'artikelnummer', 'item no', 'item number', 'product code', 'sku'], want: 'any' },
];

const RESULT_STATUS: [RegExp, string][] = [[/^(final|f|approved|released|valid|freigegeben|final result)$/i, 'final'], [/^(prelim|preliminary|p|pending|draft|vorläufig|vorlaeufig|in progress)$/i, 'preliminary'], [/^(retracted|cancelled|canceled|invalid|void|r|storniert|ungültig)$/i, 'retracted']];
const STAGE_STATUS: [RegExp, string][] = [[/^(started|start|begun|in progress|in arbeit|gestartet|begonnen|läuft|running)$/i, 'started'], [/^(completed|complete|done|finished|closed|abgeschlossen|fertig|erledigt|beendet)$/i, 'completed'], [/^(on hold|hold|held|blocked|gesperrt|angehalten|pausiert|quarantine)$/i, 'on_hold'], [/^(aborted|abort|cancelled|canceled|abgebrochen|storniert)$/i, 'aborted']];

const TESTED_AT = ['tested', 'tested on', 'tested at', 'test date', 'analysis date', 'date tested', 'analysed', 'analyzed', 'measured at', 'measured', 'run', 'run date', 'run time', 'datum', 'date', 'zeitpunkt', 'timestamp', 'prüfdatum', 'messzeit', 'acquired', 'acquisition date'];

const TEST_RESULT: Rule[] = [
  { field: 'sample', xref: 'lims_sample', words: ['sample', 'sample id', 'sample no', 'sample number', 'sample nr', 'probe', 'proben nr', 'probennummer', 'probe nr', 'sample name'], want: 'text' },
  { field: 'testCode', required: true, words: ['test code', 'test', 'analyte', 'analyt', 'parameter', 'prüfparameter', 'pruefparameter', 'element', 'component', 'komponente', 'prüfung', 'test id', 'assay', 'prüfpunkt'], want: 'text' },
  { field: 'testName', words: ['test name', 'test description', 'bezeichnung', 'description'], want: 'text' },
  { field: 'method', words: ['method', 'methode', 'method id', 'method no', 'instrument', 'gerät', 'geraet'], want: 'text' },
  { field: 'result', words: ['result', 'results', 'ergebnis', 'value', 'wert', 'messwert', 'reading', 'result text', 'conc', 'concentration', 'konzentration', 'befund'], want: 'result' },
  { field: 'unit', words: ['unit', 'units', 'einheit', 'uom', 'unit of measure'], want: 'text' },
  { field: 'specLow', words: ['spec low', 'low limit', 'lower limit', 'min', 'minimum', 'lsl', 'untere grenze', 'lower spec'], want: 'number' },
  { field: 'specHigh', words: ['spec high', 'high limit', 'upper limit', 'max', 'maximum', 'usl', 'obere grenze', 'upper spec', 'limit'], want: 'number' },
  { field: 'specText', words: ['spec', 'specification', 'spezifikation', 'limits', 'limit', 'acceptance criteria', 'anforderung', 'grenzwert'], want: 'text' },
  { field: 'resultStatus', words: ['status', 'result status', 'state'], want: 'text', enumMap: RESULT_STATUS },
  { field: 'testedAt', words: TESTED_AT, want: 'datetime' },
  { field: 'analyst', words: ['analyst', 'operator', 'prüfer', 'pruefer', 'tester', 'analysed by', 'analyzed by', 'bearbeiter', 'user'], want: 'text' },
  { field: 'replicate', words: ['replicate', 'rep', 'injection', 'wiederholung'], want: 'any' },
];

const STAGE_EVENT: Rule[] = [
  { field: 'stage', required: true, words: ['stage', 'step', 'process step', 'prozessschritt', 'schritt', 'operation', 'phase', 'arbeitsgang', 'process'], want: 'text' },
  { field: 'status', required: true, words: ['status', 'state', 'zustand'], want: 'text', enumMap: STAGE_STATUS },
  { field: 'eventTime', required: true, words: ['event time', 'zeitpunkt', 'timestamp', 'date', 'datum', 'time', 'completed at', 'started at', 'when'], want: 'datetime' },
  { field: 'site', words: ['site', 'plant', 'werk', 'standort', 'location', 'ort'], want: 'text' },
];

const LOT: Rule[] = [
  { field: 'expiryDate', words: ['expiry', 'expiry date', 'exp', 'exp date', 'expiration', 'expiration date', 'verfall', 'verfallsdatum', 'verfalldatum', 'sled', 'sled bbd', 'bbd', 'use by', 'retest date', 'haltbarkeit'], want: 'date' },
  { field: 'manufactureDate', words: ['manufacture date', 'manufacturing date', 'date of manufacture', 'mfg date', 'mfg', 'herstelldatum', 'herstellung', 'production date', 'produktionsdatum'], want: 'date' },
  { field: 'quantity', words: ['qty', 'quantity', 'menge', 'amount', 'anzahl', 'stück', 'stueck'], want: 'number' },
  { field: 'uom', words: ['uom', 'unit', 'units', 'einheit', 'base unit of measure', 'me'], want: 'text' },
  { field: 'site', words: ['site', 'plant', 'werk', 'standort', 'location'], want: 'any' },
  { field: 'vendor', words: ['vendor', 'supplier', 'lieferant', 'hersteller', 'manufacturer', 'auftraggeber'], want: 'any' },
  { field: 'qualityState', words: ['quality status', 'batch status', 'qualitätsstatus', 'status'], want: 'text' },
];

/** A header as compared: lower case, accents kept, punctuation and spacing collapsed. */
export function words(header: string): string {
  return header
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/[\u00a0\s]+/g, ' ')
    .replace(/[.:#@()[\]_/\\,;*-]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function typeFits(t: ColumnType, want: Want): boolean {
  switch (want) {
    case 'any':
      return t.type !== 'empty';
    case 'text':
      return t.type === 'text' || t.type === 'number' || t.type === 'empty';
    case 'number':
      return t.type === 'number';
    case 'date':
      return t.type === 'date' || t.type === 'datetime';
    case 'datetime':
      return t.type === 'date' || t.type === 'datetime';
    case 'result':
      return t.type === 'result' || t.type === 'number' || t.type === 'text';
  }
}

/** high: the header is one of the words; medium: it contains one as whole words. */
function matchStrength(header: string, rule: Rule): { confidence: Confidence; word: string } | undefined {
  const h = words(header);
  if (h === '') return undefined;
  for (const w of rule.words) if (h === w) return { confidence: 'high', word: w };
  for (const w of rule.words) if (w.length >= 3 && ` ${h} `.includes(` ${w} `)) return { confidence: 'medium', word: w };
  return undefined;
}

function enumMapOf(values: string[], rules: [RegExp, string][]): { map: Record<string, string>; unplaced: string[] } {
  const distinct = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))].slice(0, 30);
  const map: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const v of distinct) {
    const hit = rules.find(([re]) => re.test(v));
    if (hit) map[v] = hit[1];
    else unplaced.push(v);
  }
  return { map, unplaced };
}

interface Claim {
  rule: Rule;
  source: Source;
  confidence: Confidence;
  why: string;
}

/** Assigns columns, then blocks, to the rules: exact header words first, then contained words. */
function claim(rules: Rule[], columns: ColumnInfo[], blocks: BlockInfo[], taken: Set<number>): Map<string, Claim> {
  const out = new Map<string, Claim>();
  for (const strength of ['high', 'medium'] as const) {
    for (const rule of rules) {
      if (out.has(rule.field)) continue;
      for (const c of columns) {
        if (taken.has(c.index)) continue;
        const m = matchStrength(c.header, rule);
        if (m === undefined || m.confidence !== strength || !typeFits(c.type.value, rule.want)) continue;
        out.set(rule.field, { rule, source: { column: c }, confidence: m.confidence, why: `header "${c.header}" reads as ${rule.field} ("${m.word}")` });
        taken.add(c.index);
        break;
      }
    }
  }
  for (const rule of rules) {
    if (out.has(rule.field)) continue;
    for (const b of blocks) {
      const m = matchStrength(b.label, rule);
      if (m === undefined || !typeFits(b.type.value, rule.want === 'result' ? 'any' : rule.want)) continue;
      if ([...out.values()].some((x) => 'block' in x.source && x.source.block === b)) continue;
      out.set(rule.field, { rule, source: { block: b }, confidence: m.confidence === 'high' ? 'medium' : 'low', why: `the block "${b.label}" (line ${b.line}, value "${b.value}") reads as ${rule.field}: one value for every row` });
      break;
    }
  }
  return out;
}

const ANALYTE_UNIT = /^(.+?)\s*[([]\s*([^)\]]+?)\s*[)\]]$/;
const ELEMENT = /^[A-Z][a-z]?$/;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Wide files: several value columns named "<analyte> (<unit>)", or named by element symbols. */
function wideColumns(columns: ColumnInfo[], taken: Set<number>): EachGuess | undefined {
  const valueLike = (c: ColumnInfo): boolean => !taken.has(c.index) && (c.type.value.type === 'number' || c.type.value.type === 'result');
  const groups = new Map<string, ColumnInfo[]>();
  for (const c of columns) {
    const m = ANALYTE_UNIT.exec(c.header.trim());
    if (m === null || !valueLike(c)) continue;
    const unit = m[2];
    groups.set(unit, [...(groups.get(unit) ?? []), c]);
  }
  const biggest = [...groups.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  if (biggest !== undefined && biggest[1].length >= 2) {
    const [unit, cols] = biggest;
    const sep = /\[/.test(cols[0].header) ? ['\\[', '\\]'] : ['\\(', '\\)'];
    return {
      columns: `^(.+?)\\s*${sep[0]}${escapeRegex(unit)}${sep[1]}$`,
      set: { unit },
      claimed: cols,
      why: `${cols.length} value columns are named "<analyte> (${unit})" (${cols.slice(0, 4).map((c) => `"${c.header}"`).join(', ')}${cols.length > 4 ? ' …' : ''}): one result per column, new analytes included`,
    };
  }
  const elements = columns.filter((c) => ELEMENT.test(c.header.trim()) && valueLike(c));
  if (elements.length >= 3) {
    const others = columns.filter((c) => !elements.includes(c) && c.header.trim() !== '').map((c) => c.header.trim());
    return { allExcept: others, claimed: elements, why: `${elements.length} value columns are named by element symbols (${elements.slice(0, 4).map((c) => c.header).join(', ')} …): every column except the named ones is an analyte` };
  }
  return undefined;
}

function toField(field: string, c: Claim): FieldGuess {
  const g: FieldGuess = { name: field, source: c.source, confidence: c.confidence, why: c.why };
  if (c.rule.xref !== undefined) g.xref = c.rule.xref;
  if (c.rule.required) g.required = true;
  if (c.rule.enumMap !== undefined) {
    const values = 'column' in c.source ? c.source.column.values : 'block' in c.source ? [c.source.block.value] : [];
    const { map, unplaced } = enumMapOf(values, c.rule.enumMap);
    g.map = map;
    if (unplaced.length > 0) g.unplaced = unplaced;
  }
  return g;
}

/** A time column next to a date-only column: the two joined make the datetime. */
function withTime(f: FieldGuess, columns: ColumnInfo[], taken: Set<number>): FieldGuess {
  if (!('column' in f.source) || f.source.column.type.value.type !== 'date') return f;
  const date = f.source.column;
  const time = columns.find((c) => !taken.has(c.index) && c.type.value.type === 'time' && Math.abs(c.index - date.index) <= 2);
  if (time === undefined) return f;
  taken.add(time.index);
  return { ...f, source: { template: [date, time] }, why: `${f.why}; the time is in "${time.header}" beside it, joined as "{${date.header}} {${time.header}}"` };
}

/** The record kind and its fields for these columns and blocks. */
export function guessRecord(columns: ColumnInfo[], blocks: BlockInfo[]): RecordGuess {
  const attempt = (kind: RecordKind, rules: Rule[]): { claims: Map<string, Claim>; taken: Set<number>; each?: EachGuess } => {
    const taken = new Set<number>();
    // Wide files first: their value columns are the results, whatever words their headers hold.
    const each = kind === 'test_result' ? wideColumns(columns, taken) : undefined;
    if (each) for (const c of each.claimed) taken.add(c.index);
    const claims = claim([...LOT_REFS, ...(each ? rules.filter((r) => r.field !== 'testCode' && r.field !== 'result') : rules)], columns, blocks, taken);
    return { claims, taken, ...(each ? { each } : {}) };
  };
  const tr = attempt('test_result', TEST_RESULT);
  const se = attempt('stage_event', STAGE_EVENT);
  let kind: RecordKind;
  let chosen: ReturnType<typeof attempt>;
  let why: string;
  const trOk = (tr.claims.has('testCode') && tr.claims.has('result')) || tr.each !== undefined;
  const seOk = se.claims.has('stage') && se.claims.has('status') && se.claims.has('eventTime');
  if (trOk) {
    kind = 'test_result';
    chosen = tr;
    why = tr.each ? tr.each.why : 'a test column and a result column: one test result per row';
  } else if (seOk) {
    kind = 'stage_event';
    chosen = se;
    why = 'a process step, a status and a time: one stage event per row';
  } else {
    kind = 'lot';
    chosen = attempt('lot', LOT);
    why = 'no test/result or step/status/time columns: one lot (batch) record per row — change `emit` if the rows are something else';
  }
  const fields: FieldGuess[] = [];
  for (const [name, c] of chosen.claims) fields.push(toField(name, c));
  if (chosen.each) {
    fields.push({ name: 'testCode', source: chosen.each.columns ? { eachMatch: true } : { eachColumn: true }, required: true, confidence: 'medium', why: chosen.each.columns ? 'the analyte part of each column header (the regex group)' : 'the header of each analyte column' });
    fields.push({ name: 'result', source: { each: true }, confidence: 'medium', why: 'the value in each analyte column' });
  }
  // A datetime from a date column and a time column beside it.
  for (let i = 0; i < fields.length; i++) if (fields[i].name === 'testedAt' || fields[i].name === 'eventTime') fields[i] = withTime(fields[i], columns, chosen.taken);
  // Every lot-referencing record must name its lot: with no lot/batch/sample column, the first text column is a (weak) guess.
  const refs = ['lotNumber', 'batch', 'sample', 'poNumber'];
  if (!fields.some((f) => refs.includes(f.name))) {
    const first = columns.find((c) => !chosen.taken.has(c.index) && c.header.trim() !== '' && c.type.value.type === 'text') ?? columns.find((c) => !chosen.taken.has(c.index) && c.header.trim() !== '');
    if (first !== undefined) {
      chosen.taken.add(first.index);
      fields.unshift({ name: 'lotNumber', source: { column: first }, confidence: 'low', why: `no column looks like a lot, batch or sample id; "${first.header}" is the first text column — a guess to correct` });
    }
  }
  const order = (f: FieldGuess): number => (refs.includes(f.name) ? 0 : 1);
  fields.sort((a, b) => order(a) - order(b));
  const usedBlocks = new Set(fields.flatMap((f) => ('block' in f.source ? [f.source.block] : [])));
  return {
    kind,
    why,
    ...(chosen.each ? { each: chosen.each } : {}),
    fields,
    unclaimed: columns.filter((c) => !chosen.taken.has(c.index) && !fields.some((f) => 'column' in f.source && f.source.column === c)),
    unusedBlocks: blocks.filter((b) => !usedBlocks.has(b)),
  };
}
