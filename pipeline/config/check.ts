// Validates a parsed config.yaml against the schema (schema.ts) plus the checks a schema cannot
// express (readiness rules, and whatever the composition root adds: cron expressions, time zones),
// and places every problem at its file:line:col. Pure: the caller reads the file.

import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ErrorCode } from '../codes.js';
import type { ConfigProblem } from '../outbound/errors.js';
import { parseReadinessConfig } from '../readiness/rule-set.js';
import { configSchema, type SchemaParts } from './schema.js';

export interface ConfigIssue {
  code: ErrorCode;
  /** Where in the configuration: `sftp.port`, `jobs.push.schedule`, `connectors[0].auth`. */
  path: string;
  file: string;
  /** 1-based; 0 when the configuration has no file (embedded defaults). */
  line: number;
  col: number;
  message: string;
}

/** A check beyond the schema: gets the whole parsed configuration, returns problems with paths. */
export type ConfigCheck = (raw: Record<string, unknown>) => ConfigProblem[];

export interface CheckOptions extends SchemaParts {
  checks?: readonly ConfigCheck[];
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}${i.line ? `:${i.line}:${i.col}` : ''}: error ${i.code}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

type Segment = string | number;

/** Edit distance where swapping two neighbouring letters counts once (`prot` → `port`). */
function typoDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The allowed key a typo most likely meant, if any is close enough. */
export function suggestKey(word: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of allowed) {
    const score = typoDistance(word.toLowerCase(), c.toLowerCase());
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(Math.max(word.length, best.length) / 3)));
  return bestScore <= limit ? best : undefined;
}

/** `connectors[0].auth.tokenEnv` or `readiness.families["oral solid"]` → segments. */
export function pathSegments(p: string): Segment[] {
  const out: Segment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const m of p.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]) as string);
  }
  return out;
}

export function pathText(segments: readonly Segment[]): string {
  let p = '';
  for (const s of segments) p += typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$-]*$/.test(s) ? (p ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
  return p;
}

export interface Located {
  doc: Document.Parsed;
  lines: LineCounter;
  file: string;
}

export function parseConfigText(text: string, file: string): Located | ConfigIssue {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const at = lines.linePos(e.pos[0]);
    const code: ErrorCode = e.code === 'DUPLICATE_KEY' ? 'E_DUPLICATE_KEY' : 'E_CONFIG_SYNTAX';
    return { code, path: '', file, line: at.line, col: at.col, message: e.message.split('\n')[0] };
  }
  return { doc, lines, file };
}

/** The line and column of a key (or of its value) in the document; the nearest existing parent when absent. */
export function locate(src: Located, segments: readonly Segment[], part: 'key' | 'value'): { line: number; col: number } {
  let node: unknown = src.doc.contents;
  let best: [number, number] | undefined = rangeOf(node);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (pair) {
        keyNode = pair.key;
        next = pair.value;
      }
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    }
    if (next === undefined && keyNode === undefined) break;
    const last = i === segments.length - 1;
    best = (last && part === 'key' && keyNode ? rangeOf(keyNode) : rangeOf(next ?? keyNode)) ?? best;
    node = next;
  }
  if (!best) return { line: 1, col: 1 };
  const pos = src.lines.linePos(best[0]);
  return { line: pos.line, col: pos.col };
}

function rangeOf(n: unknown): [number, number] | undefined {
  const r = (n as Node | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}

const validators = new Map<string, ReturnType<Ajv['compile']>>();

function validatorFor(parts: SchemaParts): ReturnType<Ajv['compile']> {
  const schema = configSchema({ jobs: parts.jobs, connectors: parts.connectors, notifications: parts.notifications });
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    v = new Ajv({ allErrors: true, strict: false, discriminator: true, verbose: true }).compile(schema);
    validators.set(key, v);
  }
  return v;
}

/** The schema errors as problems: unknown keys with a did-you-mean, everything else as ajv says it. */
function schemaProblems(errors: readonly ErrorObject[]): { segments: Segment[]; part: 'key' | 'value'; code: ErrorCode; message: string }[] {
  const out: { segments: Segment[]; part: 'key' | 'value'; code: ErrorCode; message: string }[] = [];
  for (const e of errors) {
    // oneOf/discriminator summaries repeat what the branch errors say.
    if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
    const segments: Segment[] = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(((e.parentSchema as Record<string, unknown> | undefined)?.properties as Record<string, unknown> | undefined) ?? {});
      const near = suggestKey(key, allowed);
      const where = segments.length ? ` in ${pathText(segments)}` : ' at the top level';
      out.push({
        segments: [...segments, key],
        part: 'key',
        code: 'E_CONFIG_UNKNOWN_KEY',
        message: `unknown key "${key}"${near ? `; did you mean "${near}"?` : ''}${allowed.length ? ` (allowed${where}: ${allowed.join(', ')})` : ''}`,
      });
      continue;
    }
    let message = e.message ?? e.keyword;
    if (e.keyword === 'enum') message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'required') message = `missing required key "${String(params.missingProperty)}"`;
    if (e.keyword === 'discriminator' && params.error === 'mapping') message = `unknown ${String(params.tag)} ${JSON.stringify(params.tagValue)}`;
    if (e.keyword === 'type' || e.keyword === 'minimum' || e.keyword === 'maximum' || e.keyword === 'pattern' || e.keyword === 'minLength') {
      message += `; got ${JSON.stringify(e.data)}`;
    }
    out.push({ segments, part: 'value', code: 'E_CONFIG_INVALID', message });
  }
  return out;
}

/**
 * Every problem of one configuration, in file order. `raw` is the parsed document (what
 * `src.doc.toJS()` returns); `src` places the problems (absent for embedded defaults).
 */
export function checkConfig(raw: unknown, src: Located | null, opts: CheckOptions = {}): ConfigIssue[] {
  const file = src?.file ?? 'config';
  const at = (segments: readonly Segment[], part: 'key' | 'value') => (src ? locate(src, segments, part) : { line: 0, col: 0 });
  const issues: ConfigIssue[] = [];
  const add = (code: ErrorCode, segments: readonly Segment[], part: 'key' | 'value', message: string) => {
    const path = pathText(segments);
    if (issues.some((i) => i.path === path && i.message === message)) return;
    issues.push({ code, path, file, ...at(segments, part), message });
  };
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    add('E_CONFIG_INVALID', [], 'value', 'the configuration must be a map of settings (sftp:, intake:, queue:, …)');
    return issues;
  }
  const obj = (raw ?? {}) as Record<string, unknown>;
  const validate = validatorFor(opts);
  if (!validate(obj)) for (const p of schemaProblems(validate.errors ?? [])) add(p.code, p.segments, p.part, p.message);

  if (obj.readiness !== undefined) {
    const r = parseReadinessConfig(obj.readiness ?? null, 'readiness');
    if (!r.ok) {
      for (const text of r.problems) {
        const cut = text.indexOf(': ');
        const segs = cut > 0 ? pathSegments(text.slice(0, cut)) : ['readiness'];
        const unknown = /unknown setting/.test(text);
        add(unknown ? 'E_CONFIG_UNKNOWN_KEY' : 'E_CONFIG_INVALID', segs, unknown ? 'key' : 'value', cut > 0 ? text.slice(cut + 2) : text);
      }
    }
  }
  for (const check of opts.checks ?? []) {
    for (const p of check(obj)) add(p.code, pathSegments(p.path), 'value', p.message);
  }
  return issues.sort((a, b) => a.line - b.line || a.col - b.col);
}
