// Joins inside one XML document (MappingSpec.joins): a first pass over the records builds a small
// index — key → values (EPC → lot from the commissioning events) and container → contained keys
// (pallet → cases → items from the aggregation events) — bounded by maxEntries; the second pass
// resolves a record's keys through it (a shipping event naming only a pallet SSCC → the lots
// packed on it). Pure: records in, index out.

import { FileError } from '../model/types.js';
import { compileRecordPath, stepMatches, type Step } from '../parse/xml-path.js';
import type { XmlRecordLike } from './compile.js';
import type { JoinSpec } from './spec.js';

export const DEFAULT_MAX_JOIN_ENTRIES = 1_000_000;
/** Containment deeper than this (pallet → case → pack → item is 3) is a cycle or a mistake. */
const MAX_NESTING = 32;

/** What the engine asks a join: the values these keys resolve to, and the keys that resolve to nothing. */
export interface JoinLookup {
  resolve(join: string, keys: string[]): { values: string[]; unresolved: string[] };
}

export interface JoinStats {
  name: string;
  /** Keys with a value of their own. */
  keys: number;
  /** Container → contained links. */
  links: number;
}

interface CompiledJoin {
  name: string;
  spec: JoinSpec;
  records: Step | null;
  keys: string[];
  containers: Step | null;
  children: string[];
  values: Map<string, string | string[]>;
  contains: Map<string, string[]>;
  links: number;
}

function recordStep(path: string | undefined): Step | null {
  if (path === undefined) return null;
  const steps = compileRecordPath(path);
  if (steps.length !== 1) throw new FileError('E_XML_PATH', `Invalid XML path "${path}" in the mapping's joins: name the record elements ("ObjectEvent", "a|b"), not a path.`);
  return steps[0];
}

const list = (v: string | string[]): string[] => (typeof v === 'string' ? [v] : v);

function addValue(m: Map<string, string | string[]>, key: string, value: string): boolean {
  const had = m.get(key);
  if (had === undefined) {
    m.set(key, value);
    return true;
  }
  if (typeof had === 'string') {
    if (had === value) return false;
    m.set(key, [had, value]);
    return true;
  }
  if (had.includes(value)) return false;
  had.push(value);
  return true;
}

export class JoinIndex implements JoinLookup {
  private readonly joins: CompiledJoin[];
  private entries = 0;
  private readonly max: number;

  constructor(specs: Record<string, JoinSpec>) {
    this.joins = Object.entries(specs).map(([name, spec]) => ({
      name,
      spec,
      records: recordStep(spec.records),
      keys: list(spec.key),
      containers: recordStep(spec.contains?.records),
      children: spec.contains === undefined ? [] : list(spec.contains.children),
      values: new Map(),
      contains: new Map(),
      links: 0,
    }));
    this.max = Math.min(...Object.values(specs).map((s) => s.maxEntries ?? DEFAULT_MAX_JOIN_ENTRIES));
  }

  private count(rec: XmlRecordLike & { name?: string }): void {
    if (++this.entries > this.max) {
      throw new FileError(
        'E_JOIN_INDEX_LIMIT',
        `The document holds more than ${this.max} join entries (keys with values and containment links, counted up to the record at line ${rec.line}); the file was not read further. Split the document, or raise joins.<name>.maxEntries in the mapping if the memory allows.`,
        rec.line,
      );
    }
  }

  /** First pass: one record element. */
  add(rec: XmlRecordLike & { name?: string }): void {
    const name = rec.name ?? '';
    for (const j of this.joins) {
      if (j.records === null || stepMatches(j.records, name)) {
        const values = rec.getAll(j.spec.value).filter((v) => v !== '');
        if (values.length > 0) {
          for (const kp of j.keys) {
            for (const k of rec.getAll(kp)) {
              if (k === '') continue;
              for (const v of values) if (addValue(j.values, k, v)) this.count(rec);
            }
          }
        }
      }
      if (j.spec.contains !== undefined && (j.containers === null || stepMatches(j.containers, name))) {
        const parents = rec.getAll(j.spec.contains.parent).filter((v) => v !== '');
        for (const parent of parents) {
          for (const cp of j.children) {
            for (const child of rec.getAll(cp)) {
              if (child === '' || child === parent) continue;
              let kids = j.contains.get(parent);
              if (kids === undefined) j.contains.set(parent, (kids = []));
              if (kids.includes(child)) continue;
              kids.push(child);
              j.links++;
              this.count(rec);
            }
          }
        }
      }
    }
  }

  stats(): JoinStats[] {
    return this.joins.map((j) => ({ name: j.name, keys: j.values.size, links: j.links }));
  }

  resolve(join: string, keys: string[]): { values: string[]; unresolved: string[] } {
    const j = this.joins.find((x) => x.name === join);
    const values: string[] = [];
    const unresolved: string[] = [];
    if (j === undefined) return { values, unresolved: keys };
    for (const key of keys) {
      const before = values.length;
      const seen = new Set<string>();
      const walk = (k: string, depth: number): void => {
        if (seen.has(k) || depth > MAX_NESTING) return;
        seen.add(k);
        const v = j.values.get(k);
        if (v !== undefined) for (const x of typeof v === 'string' ? [v] : v) if (!values.includes(x)) values.push(x);
        const kids = j.contains.get(k);
        if (kids !== undefined) for (const c of kids) walk(c, depth + 1);
      };
      walk(key, 0);
      // A key whose value was already found through another key still resolves.
      if (values.length === before && !resolvesAny(j, key)) unresolved.push(key);
    }
    return { values, unresolved };
  }
}

function resolvesAny(j: CompiledJoin, key: string): boolean {
  const seen = new Set<string>();
  const walk = (k: string, depth: number): boolean => {
    if (seen.has(k) || depth > MAX_NESTING) return false;
    seen.add(k);
    if (j.values.has(k)) return true;
    for (const c of j.contains.get(k) ?? []) if (walk(c, depth + 1)) return true;
    return false;
  };
  return walk(key, 0);
}
