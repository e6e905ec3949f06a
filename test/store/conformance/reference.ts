// The reference answers: what the synchronous SQLite Store (the module the areas replaced, since
// removed) answered on the same rows, recorded once into reference/<name>.json. A conformance
// test asks ref(key) where it used to call the sync Store, so the areas are still held to the
// answers of the code they replaced, on both dialects. The encoding keeps what JSON would lose
// and toStrictEqual sees: undefined members and Maps.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference');

export function encode(v: unknown): unknown {
  if (v === undefined) return { $undefined: true };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (v instanceof Map) return { $map: [...v.entries()].map(([k, x]) => [encode(k), encode(x)]) };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (o.$undefined === true) return undefined;
    if (typeof o.$date === 'string') return new Date(o.$date);
    if (Array.isArray(o.$map)) return new Map((o.$map as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

// The file: { rows, answers, keys }. A key is the sha256 (first 16 hex) of the call; it names one
// of the distinct answers; an answer that is a list holds rows as { $row: index into rows }.
interface File {
  rows: unknown[];
  answers: unknown[];
  keys: Record<string, number>;
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

function readFile(name: string): File {
  const file = path.join(DIR, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as File) : { rows: [], answers: [], keys: {} };
}

/** The recorded answers of one test file: ref(key) is the answer, decoded; a missing key throws. */
export function reference(name: string): (key: string) => unknown {
  const f = readFile(name);
  const unpool = (a: unknown) => (Array.isArray(a) ? a.map((x) => (x && typeof x === 'object' && '$row' in x ? f.rows[(x as { $row: number }).$row] : x)) : a);
  return (key: string) => {
    const i = f.keys[hashKey(key)];
    if (i === undefined) throw new Error(`no reference answer for ${key} in reference/${name}.json`);
    return decode(unpool(f.answers[i]));
  };
}

/** The key of a call: the method and its arguments. */
export const call = (method: string, ...args: unknown[]): string => `${method}(${args.map((a) => JSON.stringify(encode(a))).join(', ')})`;

/** Recording (used once, while the sync Store still existed). */
export function recorder(name: string): { put(key: string, value: unknown): unknown; flush(): void } {
  const f = readFile(name);
  const rowIndex = new Map(f.rows.map((r, i) => [JSON.stringify(r), i]));
  const answerIndex = new Map(f.answers.map((a, i) => [JSON.stringify(a), i]));
  const pool = (e: unknown): unknown => {
    if (!Array.isArray(e)) return e;
    return e.map((x) => {
      if (!x || typeof x !== 'object' || Array.isArray(x)) return x;
      const k = JSON.stringify(x);
      let i = rowIndex.get(k);
      if (i === undefined) rowIndex.set(k, (i = f.rows.push(x) - 1));
      return { $row: i };
    });
  };
  return {
    put(key, value) {
      const a = pool(encode(value));
      const k = JSON.stringify(a);
      let i = answerIndex.get(k);
      if (i === undefined) answerIndex.set(k, (i = f.answers.push(a) - 1));
      f.keys[hashKey(key)] = i;
      return value;
    },
    flush() {
      const lines = (xs: unknown[]) => xs.map((x) => `    ${JSON.stringify(x)}`).join(',\n');
      const keys = Object.entries(f.keys).map(([k, i]) => `    ${JSON.stringify(k)}: ${i}`).join(',\n');
      writeFileSync(path.join(DIR, `${name}.json`), `{\n  "rows": [\n${lines(f.rows)}\n  ],\n  "answers": [\n${lines(f.answers)}\n  ],\n  "keys": {\n${keys}\n  }\n}\n`);
    },
  };
}
