// The small XPath-like language of mappings: steps by local name (namespace prefixes ignored),
// "*" for any one element, "a|b" for either name, "@attr" as the last step, "." for the element
// itself. Record paths are absolute from the document root; field paths are relative to a record.

import { FileError } from '../model/types.js';

/** null = "*" (any element); otherwise the accepted local names. */
export type Step = readonly string[] | null;

export interface FieldPath {
  steps: Step[];
  /** Local name of the attribute to read at the end, or undefined for the element text. */
  attr?: string;
}

export function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon === -1 ? qname : qname.slice(colon + 1);
}

export function stepMatches(step: Step, name: string): boolean {
  if (step === null) return true;
  for (let i = 0; i < step.length; i++) if (step[i] === name) return true;
  return false;
}

function pathError(path: string, why: string): FileError {
  return new FileError('E_XML_PATH', `Invalid XML path "${path}" in the mapping: ${why}`);
}

function parseStep(path: string, raw: string): Step {
  if (raw === '*') return null;
  const names = raw.split('|').map((n) => localName(n.trim()));
  for (const n of names) {
    if (n === '' || n === '*' || /[\s/@[\]()=]/.test(n)) throw pathError(path, `"${raw}" is not an element name.`);
  }
  return names;
}

/** "EPCISDocument/EPCISBody/EventList/ObjectEvent|AggregationEvent" → steps from the root. */
export function compileRecordPath(path: string): Step[] {
  const trimmed = path.trim().replace(/^\/+/, '');
  if (trimmed === '') throw pathError(path, 'it is empty.');
  const parts = trimmed.split('/');
  return parts.map((p) => {
    const s = p.trim();
    if (s === '') throw pathError(path, 'it has an empty step ("//" is not supported).');
    if (s === '.' || s === '..' || s.startsWith('@')) throw pathError(path, `a record path names elements only, not "${s}".`);
    return parseStep(path, s);
  });
}

/** "epcList/epc", "extension/ilmd/lotNumber", "@type", "a/b/@c", "." → a field path. */
export function compileFieldPath(path: string): FieldPath {
  const trimmed = path.trim();
  if (trimmed === '' || trimmed.startsWith('/')) throw pathError(path, 'field paths are relative to the record element.');
  const parts = trimmed.split('/');
  const steps: Step[] = [];
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
    steps.push(parseStep(path, s));
  }
  return { steps, attr };
}
