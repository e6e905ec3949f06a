// One record element and its subtree, kept just long enough for the mapping to read fields
// out of it with relative paths.

import { compileFieldPath, stepMatches, type FieldPath } from './xml-path.js';

export interface XmlNode {
  /** Local name (prefix removed). */
  name: string;
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
  const kids = node.children;
  for (let i = 0; i < kids.length; i++) {
    if (stepMatches(step, kids[i].name) && collect(kids[i], path, k + 1, out, firstOnly)) return true;
  }
  return false;
}

export class XmlRecordView implements XmlRecord {
  constructor(
    readonly line: number,
    private readonly root: XmlNode,
    private readonly cache: PathCache,
  ) {}

  get name(): string {
    return this.root.name;
  }

  private compiled(path: string): FieldPath {
    let p = this.cache.get(path);
    if (p === undefined) {
      p = compileFieldPath(path);
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
}
