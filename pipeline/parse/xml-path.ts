// The small XPath-like language of mappings: steps by local name, "*" for any one element,
// "a|b" for either name, "@attr" as the last step, "." for the element itself. Record paths are
// absolute from the document root; field paths are relative to a record.
//
// Namespaces: an unprefixed name (or "*:name") matches the element in any namespace. A prefixed
// name "p:name" matches by namespace URI when the mapping declares `xml.namespaces: { p: uri }`
// (so a partner renaming its prefix changes nothing), otherwise by the prefix as the document
// writes it.
//
// Predicates (field paths): "name[@type='urn:…:po']", "name[@type!='…']", "name[@type]" keep
// the elements whose attribute is (is not, is) there with that value.

import { FileError } from '../model/types.js';

/** One accepted element name: local name (null = any) and namespace (by URI, or by prefix as written). */
export interface NameTest {
  local: string | null;
  /** Namespace URI the element must have (a prefix declared in xml.namespaces), else null. */
  uri: string | null;
  /** Prefix the element must be written with (an undeclared prefix), else null. */
  prefix: string | null;
}

/** A test on an attribute of the element of a step. */
export interface Predicate {
  attr: string;
  /** equals | not equals | present */
  op: '=' | '!=' | 'exists';
  value: string;
}

/** null = "*" (any element); otherwise the accepted names. */
export type Step = readonly NameTest[] | null;

export interface FieldPath {
  steps: Step[];
  /** preds[k]: the predicate of step k, if any. */
  preds: (Predicate | null)[];
  /** Local name of the attribute to read at the end, or undefined for the element text. */
  attr?: string;
}

/** Prefix → namespace URI, as the mapping declares them (xml.namespaces). */
export type Namespaces = Readonly<Record<string, string>>;

export function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon === -1 ? qname : qname.slice(colon + 1);
}

export function prefixOf(qname: string): string {
  const colon = qname.indexOf(':');
  return colon === -1 ? '' : qname.slice(0, colon);
}

export function stepMatches(step: Step, name: string, prefix = '', uri = ''): boolean {
  if (step === null) return true;
  for (let i = 0; i < step.length; i++) {
    const t = step[i];
    if (t.local !== null && t.local !== name) continue;
    if (t.uri !== null ? t.uri === uri : t.prefix === null || t.prefix === prefix) return true;
  }
  return false;
}

/** Whether any step of these paths needs element namespace URIs (a declared prefix). */
export function needsUris(steps: Step[]): boolean {
  return steps.some((s) => s !== null && s.some((t) => t.uri !== null));
}

export function predicateHolds(p: Predicate, attrs: Record<string, string> | null): boolean {
  const v = attrs?.[p.attr];
  if (p.op === 'exists') return v !== undefined;
  if (p.op === '=') return v !== undefined && v.trim() === p.value;
  return v === undefined || v.trim() !== p.value;
}

function pathError(path: string, why: string): FileError {
  return new FileError('E_XML_PATH', `Invalid XML path "${path}" in the mapping: ${why}`);
}

/** Splits at "/" outside [ ] and quotes (a predicate value may hold "/"). */
function splitSteps(path: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let depth = 0;
  let quote = '';
  for (const c of path) {
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '/' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (quote !== '' || depth !== 0) throw pathError(path, 'a [predicate] or a quoted value is not closed.');
  parts.push(cur);
  return parts;
}

const NAME = /^[^\s/@[\]()=|:'"*]+$/;

function parseName(path: string, raw: string, ns: Namespaces | undefined): NameTest {
  const n = raw.trim();
  const colon = n.indexOf(':');
  const local = colon === -1 ? n : n.slice(colon + 1);
  const prefix = colon === -1 ? null : n.slice(0, colon);
  if (local !== '*' && !NAME.test(local)) throw pathError(path, `"${raw}" is not an element name.`);
  if (prefix !== null && prefix !== '*' && !NAME.test(prefix)) throw pathError(path, `"${raw}" has an invalid namespace prefix.`);
  const test: NameTest = { local: local === '*' ? null : local, uri: null, prefix: null };
  if (prefix !== null && prefix !== '*') {
    if (ns !== undefined && Object.prototype.hasOwnProperty.call(ns, prefix)) test.uri = ns[prefix];
    else test.prefix = prefix;
  }
  return test;
}

function parsePredicate(path: string, text: string): Predicate {
  const m = /^\s*@([^\s=!'"\]]+)\s*(?:(!?=)\s*(?:'([^']*)'|"([^"]*)"))?\s*$/.exec(text);
  if (m === null) throw pathError(path, `the predicate [${text}] is not supported: write [@attr='value'], [@attr!='value'] or [@attr].`);
  const attr = localName(m[1]);
  if (m[2] === undefined) return { attr, op: 'exists', value: '' };
  return { attr, op: m[2] === '=' ? '=' : '!=', value: (m[3] ?? m[4]).trim() };
}

function parseStep(path: string, raw: string, ns: Namespaces | undefined): { step: Step; pred: Predicate | null } {
  let s = raw.trim();
  let pred: Predicate | null = null;
  const open = s.indexOf('[');
  if (open >= 0) {
    if (!s.endsWith(']')) throw pathError(path, `"${raw}": text after the predicate.`);
    pred = parsePredicate(path, s.slice(open + 1, -1));
    s = s.slice(0, open).trim();
  }
  if (s === '*') return { step: null, pred };
  const names = s.split('|').map((n) => parseName(path, n, ns));
  return { step: names, pred };
}

/** "EPCISDocument/EPCISBody/EventList/ObjectEvent|AggregationEvent" → steps from the root. */
export function compileRecordPath(path: string, ns?: Namespaces): Step[] {
  const trimmed = path.trim().replace(/^\/+/, '');
  if (trimmed === '') throw pathError(path, 'it is empty.');
  const parts = splitSteps(trimmed);
  return parts.map((p) => {
    const s = p.trim();
    if (s === '') throw pathError(path, 'it has an empty step ("//" is not supported).');
    if (s === '.' || s === '..' || s.startsWith('@')) throw pathError(path, `a record path names elements only, not "${s}".`);
    const { step, pred } = parseStep(path, s, ns);
    if (pred !== null) throw pathError(path, 'a record path takes no [predicate]: read all elements and filter with `filter` or a record\'s `when`.');
    return step;
  });
}

/** "epcList/epc", "extension/ilmd/lotNumber", "@type", "a/b/@c", "bizTransaction[@type='…']", "." → a field path. */
export function compileFieldPath(path: string, ns?: Namespaces): FieldPath {
  const trimmed = path.trim();
  if (trimmed === '' || trimmed.startsWith('/')) throw pathError(path, 'field paths are relative to the record element.');
  const parts = splitSteps(trimmed);
  const steps: Step[] = [];
  const preds: (Predicate | null)[] = [];
  let attr: string | undefined;
  for (let i = 0; i < parts.length; i++) {
    const s = parts[i].trim();
    if (s === '') throw pathError(path, 'it has an empty step.');
    if (s === '.') continue;
    if (s === '..') throw pathError(path, '".." is not supported.');
    if (s.startsWith('@')) {
      if (i !== parts.length - 1) throw pathError(path, 'an attribute must be the last step.');
      attr = localName(s.slice(1));
      if (attr === '') throw pathError(path, 'the attribute has no name.');
      continue;
    }
    const { step, pred } = parseStep(path, s, ns);
    steps.push(step);
    preds.push(pred);
  }
  return { steps, preds, attr };
}
