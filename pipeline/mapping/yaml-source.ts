// YAML text → plain JSON-like data plus, for every JSON pointer, where its key and value sit in
// the file, so schema errors (reported by JSON pointer) and semantic checks point at the exact
// line:col. Scalars in string positions keep their source text: YAML reads `00123` as 123 and
// `1.10` as 1.1, but a header named 2024 or a code 01 must stay exactly as written.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ErrorCode, ProblemCode } from '../codes.js';

export interface NodeLoc {
  key?: [number, number];
  value?: [number, number];
}

export interface YamlProblem {
  offset: number;
  code: ProblemCode;
  message: string;
  severity: 'error' | 'warning';
}

export interface YamlSource {
  value: unknown;
  /** JSON pointer → where its key and value are. */
  locs: Map<string, NodeLoc>;
  /** JSON pointer → source text of a non-string scalar (numbers, booleans) as written. */
  sourceText: Map<string, string>;
  problems: YamlProblem[];
  position(offset: number): { line: number; col: number };
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => '/' + escapePointer(String(s))).join('');
}

const DIALECT_STRINGS = new Set(['delimiter', 'quote', 'escape', 'encoding', 'comment', 'decimal', 'thousands']);
const FIELD_STRINGS = new Set(['from', 'format', 'tz', 'locale', 'extract', 'separator', 'decimal', 'xref', 'unmapped', 'type', 'template', 'split']);
const FIELD_STRING_LISTS = new Set(['from', 'format', 'missing']);
const CONDITION_STRINGS = new Set(['field', 'equals', 'matches']);
const TOP_STRINGS = new Set(['partner', 'feed', 'version', 'description', 'format', 'match', 'unclaimedColumns']);

function isConditionPath(p: string[], at: number): boolean {
  return (p[0] === 'filter' && at === 2) || (p[0] === 'records' && p[2] === 'when' && at === 4);
}

/** Positions where the mapping expects text, whatever YAML would make of an unquoted scalar. */
function isStringPosition(p: string[]): boolean {
  const n = p.length;
  if (n === 1) return TOP_STRINGS.has(p[0]);
  if (n === 2) return (p[0] === 'dialect' && DIALECT_STRINGS.has(p[1])) || (p[0] === 'xml' && p[1] === 'record') || p[0] === 'match' || p[0] === 'missing' || p[0] === 'ignoreColumns' || p[0] === 'sections';
  if (isConditionPath(p, n - 1)) return CONDITION_STRINGS.has(p[n - 1]);
  if (isConditionPath(p, n - 2)) return p[n - 2] === 'in' || p[n - 2] === 'notIn';
  if (p[0] === 'tests' && n === 3) return true;
  if (p[0] !== 'records') return false;
  if (p[2] === 'each' && n === 5) return p[4] === 'column' || p[4] === 'columns';
  if (p[2] === 'each' && n === 6) return p[4] === 'column' || p[4] === 'allExcept';
  if (p[2] === 'fields' && n === 5) return FIELD_STRINGS.has(p[4]);
  // from: { block: …, column: 3 }: labels and header texts are text, positions are numbers.
  if (p[2] === 'fields' && n === 6 && p[4] === 'from') return /^\d+$/.test(p[5]) || p[5] === 'block' || p[5] === 'header' || p[5] === 'rightOf';
  if (p[2] === 'fields' && n === 6) return FIELD_STRING_LISTS.has(p[4]);
  return false;
}

export function readYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const locs = new Map<string, NodeLoc>();
  const sourceText = new Map<string, string>();
  const problems: YamlProblem[] = [];
  for (const e of doc.errors) problems.push({ offset: e.pos[0], code: yamlCode(e.code), message: e.message.split('\n')[0], severity: 'error' });
  for (const w of doc.warnings) problems.push({ offset: w.pos[0], code: 'W_YAML', message: w.message.split('\n')[0], severity: 'warning' });

  const slice = (node: Node): string | undefined => (node.range ? text.slice(node.range[0], node.range[1]) : undefined);
  const onStack = new Set<Node>();
  // Aliases are expanded by hand here; a cap keeps a "billion laughs" file from exploding.
  let aliasBudget = 1000;

  const convert = (node: Node | null | undefined, path: string[], ptr: string): unknown => {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc as Document) as Node | undefined;
      if (target === undefined || onStack.has(target)) return null;
      if (--aliasBudget < 0) {
        if (aliasBudget === -1) problems.push({ offset: node.range?.[0] ?? 0, code: 'E_YAML_SYNTAX', message: 'too many alias expansions (more than 1000)', severity: 'error' });
        return null;
      }
      return convert(target, path, ptr);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'string') return v;
      const src = slice(node) ?? String(v ?? '');
      if (v === null || v === undefined) {
        // `unmapped: null` is the policy named "null", not an empty value; an empty `from:` stays empty.
        return isStringPosition(path) && src.trim() !== '' && src.trim() !== '~' ? src.trim() : null;
      }
      sourceText.set(ptr, src);
      return isStringPosition(path) ? src : v;
    }
    onStack.add(node);
    try {
      if (isSeq(node)) {
        return node.items.map((item, i) => {
          const childPtr = `${ptr}/${i}`;
          const it = item as Node | null;
          locs.set(childPtr, { value: it?.range ? [it.range[0], it.range[1]] : undefined });
          return convert(it, [...path, String(i)], childPtr);
        });
      }
      if (isMap(node)) {
        const obj: Record<string, unknown> = {};
        for (const pair of node.items) {
          const keyNode = pair.key as Node | null;
          let key: string;
          if (isScalar(keyNode)) key = typeof keyNode.value === 'string' ? keyNode.value : keyNode.value === null ? '' : (slice(keyNode) ?? String(keyNode.value));
          else {
            if (keyNode?.range) problems.push({ offset: keyNode.range[0], code: 'E_YAML_SYNTAX', message: 'keys must be plain text', severity: 'error' });
            continue;
          }
          const valueNode = pair.value as Node | null;
          const childPtr = `${ptr}/${escapePointer(key)}`;
          locs.set(childPtr, {
            key: keyNode.range ? [keyNode.range[0], keyNode.range[1]] : undefined,
            value: valueNode?.range ? [valueNode.range[0], valueNode.range[1]] : undefined,
          });
          const value = convert(valueNode, [...path, key], childPtr);
          Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
        }
        return obj;
      }
      return null;
    } finally {
      onStack.delete(node);
    }
  };

  const root = doc.contents as Node | null;
  locs.set('', { value: root?.range ? [root.range[0], root.range[1]] : [0, 0] });
  const value = problems.some((p) => p.severity === 'error') ? undefined : convert(root, [], '');
  return {
    value,
    locs,
    sourceText,
    problems,
    position(offset: number) {
      const { line, col } = lineCounter.linePos(offset);
      return { line: Math.max(1, line), col: Math.max(1, col) };
    },
  };
}

function yamlCode(code: string): ErrorCode {
  if (code === 'DUPLICATE_KEY') return 'E_DUPLICATE_KEY';
  return 'E_YAML_SYNTAX';
}
