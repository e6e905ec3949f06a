// XML samples for `lotgate mapping suggest`: the repeated elements of the document (by local
// name, from the root) as record-path candidates, each with the values found under it — child
// elements' text and attributes, addressed relative to the element as a mapping does ("Lot",
// "@batchId", "Quantity/@uom"). Reads the sample's head only; a cut-off document is fine.

import { SaxesParser } from 'saxes';

export interface XmlCandidate {
  /** Path from the root by local names, e.g. "BatchExport/Batches/BatchHeader". */
  path: string;
  count: number;
  /** Relative path → values seen (at most MAX_VALUES). */
  leaves: Map<string, string[]>;
}

const MAX_VALUES = 50;
const MAX_LEAVES = 200;
const MAX_DEPTH = 3;
const local = (name: string): string => name.slice(name.indexOf(':') + 1);

interface Frame {
  name: string;
  path: string;
  text: string;
  children: number;
}

export function xmlCandidates(text: string): XmlCandidate[] {
  const parser = new SaxesParser({ xmlns: false });
  const stack: Frame[] = [];
  const byPath = new Map<string, XmlCandidate>();
  const note = (ancestor: Frame, rel: string, value: string): void => {
    const c = byPath.get(ancestor.path);
    if (c === undefined) return;
    let list = c.leaves.get(rel);
    if (list === undefined) {
      if (c.leaves.size >= MAX_LEAVES) return;
      list = [];
      c.leaves.set(rel, list);
    }
    if (list.length < MAX_VALUES) list.push(value);
  };
  /** Every ancestor up to MAX_DEPTH levels up gets the value under its relative path. */
  const toAncestors = (names: string[], value: string): void => {
    for (let up = 1; up <= MAX_DEPTH && up <= stack.length; up++) {
      const ancestor = stack[stack.length - up];
      const rel = names.slice(stack.length - up + 1).join('/');
      if (rel !== '') note(ancestor, rel, value);
    }
  };
  parser.on('opentag', (tag) => {
    const name = local(tag.name);
    const parent = stack[stack.length - 1];
    if (parent) parent.children++;
    const path = parent ? `${parent.path}/${name}` : name;
    const c = byPath.get(path) ?? { path, count: 0, leaves: new Map<string, string[]>() };
    c.count++;
    byPath.set(path, c);
    stack.push({ name, path, text: '', children: 0 });
    const names = stack.map((f) => f.name);
    for (const [attr, value] of Object.entries(tag.attributes)) {
      if (attr === 'xmlns' || attr.startsWith('xmlns:')) continue;
      const a = `@${local(attr)}`;
      note(stack[stack.length - 1], a, String(value));
      toAncestors([...names, a], String(value));
    }
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top && top.text.length < 1000) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top && top.text.length < 1000) top.text += t;
  });
  parser.on('closetag', () => {
    const names = stack.map((f) => f.name);
    const top = stack[stack.length - 1];
    if (top && top.children === 0 && top.text.trim() !== '') toAncestors(names, top.text.trim());
    stack.pop();
  });
  try {
    parser.write(text);
  } catch {
    // A cut-off or damaged head: what was read so far is enough for a draft.
  }
  return [...byPath.values()]
    .filter((c) => c.count >= 2 && c.leaves.size > 0)
    .sort((a, b) => b.leaves.size - a.leaves.size || b.count - a.count);
}
