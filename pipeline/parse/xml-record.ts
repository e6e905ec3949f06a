// One record element and its subtree, kept just long enough for the mapping to read fields
// out of it with relative paths.

import { compileFieldPath, predicateHolds, stepMatches, type FieldPath, type Namespaces } from './xml-path.js';

export interface XmlNode {
  /** Local name (prefix removed). */
  name: string;
  /** Prefix as the document writes it ('' for none). */
  prefix: string;
  /** Namespace URI ('' when unbound or not resolved: only resolved when the mapping declares xml.namespaces). */
  uri: string;
  /** 1-based line of the start tag. */
  line: number;
  /** Attributes by local name; xmlns declarations are left out. */
  attrs: Record<string, string> | null;
  /** Direct character data (text and CDATA), untrimmed. */
  text: string;
  children: XmlNode[];
}

export interface XmlRecord {
  /** 1-based line of the record element's start tag. */
  line: number;
  /** Local name of the record element (useful when the record path has `*` or `a|b`). */
  name: string;
  /** First value at the path, trimmed; undefined when nothing matches. */
  get(path: string): string | undefined;
  /** Every value at the path in document order, trimmed. */
  getAll(path: string): string[];
  /** The elements at the path (an `each` path), each as a record of its own (its line, relative paths). */
  nodes(path: string): XmlRecord[];
}

/** Compiled field paths, shared by all records of one read (mappings ask the same few paths again and again). */
export type PathCache = Map<string, FieldPath>;

function collect(node: XmlNode, path: FieldPath, k: number, out: string[], firstOnly: boolean): boolean {
  if (k === path.steps.length) {
    const v = path.attr === undefined ? node.text : node.attrs?.[path.attr];
    if (v === undefined) return false;
    out.push(v.trim());
    return firstOnly;
  }
  const step = path.steps[k];
  const pred = path.preds[k];
  const kids = node.children;
  for (let i = 0; i < kids.length; i++) {
    const kid = kids[i];
    if (!stepMatches(step, kid.name, kid.prefix, kid.uri) || (pred !== null && !predicateHolds(pred, kid.attrs))) continue;
    if (collect(kid, path, k + 1, out, firstOnly)) return true;
  }
  return false;
}

function collectNodes(node: XmlNode, path: FieldPath, k: number, out: XmlNode[]): void {
  if (k === path.steps.length) {
    out.push(node);
    return;
  }
  const step = path.steps[k];
  const pred = path.preds[k];
  for (const kid of node.children) {
    if (stepMatches(step, kid.name, kid.prefix, kid.uri) && (pred === null || predicateHolds(pred, kid.attrs))) collectNodes(kid, path, k + 1, out);
  }
}

export class XmlRecordView implements XmlRecord {
  constructor(
    readonly line: number,
    private readonly root: XmlNode,
    private readonly cache: PathCache,
    private readonly ns?: Namespaces,
  ) {}

  get name(): string {
    return this.root.name;
  }

  private compiled(path: string): FieldPath {
    let p = this.cache.get(path);
    if (p === undefined) {
      p = compileFieldPath(path, this.ns);
      this.cache.set(path, p);
    }
    return p;
  }

  get(path: string): string | undefined {
    const out: string[] = [];
    collect(this.root, this.compiled(path), 0, out, true);
    return out[0];
  }

  getAll(path: string): string[] {
    const out: string[] = [];
    collect(this.root, this.compiled(path), 0, out, false);
    return out;
  }

  nodes(path: string): XmlRecord[] {
    const p = this.compiled(path);
    if (p.attr !== undefined) return [];
    const out: XmlNode[] = [];
    collectNodes(this.root, p, 0, out);
    return out.map((n) => new XmlRecordView(n.line, n, this.cache, this.ns));
  }
}
