// The code registry (pipeline/codes.ts) is the one list of codes: every E_/W_/R_ literal in the
// sources is registered, docs/codes.md shows exactly the registered partner-facing codes, and
// every entry says what went wrong and what to do. Modelled on fastify's test/internals/errors.test.js.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CODES, AUDIT_ACTIONS, ERROR_CODES, formatMessage, isCode, lookupCode, partnerCodes, REASON_CODES, WARNING_CODES } from '../../pipeline/codes.js';
import { codesDocSection } from '../../pipeline/codes-doc.js';

const root = process.cwd();
// A code as a whole string literal ('E_NO_FEED') or at the start of a message ('E_HOST_KEY: …').
const CODE_LITERAL = /['"`]((?:E|W|R)_[A-Z0-9_]+)(?:['"`]|: )/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return tsFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Code literals found in the sources: code -> first place it occurs. */
export function codeLiterals(dirs: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of dirs.flatMap((d) => tsFiles(path.join(root, d)))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(CODE_LITERAL)) if (!found.has(m[1])) found.set(m[1], `${path.relative(root, file)}:${i + 1}`);
    });
  }
  return found;
}

/** The codes of the partner table in docs/codes.md (the section that lists acknowledgment codes). */
export function partnerTableCodes(markdown: string): string[] {
  const start = markdown.indexOf('### Codes an acknowledgment can carry');
  if (start < 0) return [];
  const rest = markdown.slice(start + 3);
  const end = rest.search(/^#{1,3} /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`/gm)].map((m) => m[1]);
}

describe('code registry', () => {
  it('registers every E_/W_/R_ code literal under pipeline/ and jobs/', () => {
    const unregistered = [...codeLiterals(['pipeline', 'jobs'])].filter(([code]) => lookupCode(code) === undefined).map(([code, at]) => `${code} (${at})`);
    expect(unregistered, 'add each to pipeline/codes.ts (one line: audience, message, what to do)').toEqual([]);
  });

  it('the scan finds codes (guards against a scan that silently matches nothing)', () => {
    const found = codeLiterals(['pipeline', 'jobs']);
    expect(found.has('E_UNKNOWN_LOT')).toBe(true);
    expect(found.has('R_COA_MISSING')).toBe(true);
    expect(found.has('W_NO_TZ')).toBe(true);
  });

  it('every entry has an audience, a message and a what-to-do', () => {
    const bad = ALL_CODES.filter((e) => e.audience.length === 0 || e.message.trim().length < 5 || e.todo.trim().length < 3).map((e) => e.code);
    expect(bad).toEqual([]);
  });

  it('prefixes match the table a code is in, and no code is in two tables', () => {
    for (const c of Object.keys(ERROR_CODES)) expect(c).toMatch(/^E_[A-Z0-9_]+$/);
    for (const c of Object.keys(WARNING_CODES)) expect(c).toMatch(/^W_[A-Z0-9_]+$/);
    for (const c of Object.keys(REASON_CODES)) expect(c).toMatch(/^R_[A-Z0-9_]+$/);
    for (const c of Object.keys(AUDIT_ACTIONS)) expect(c).toMatch(/^[a-z]+(\.[a-z_]+)+$/);
    const all = ALL_CODES.map((e) => e.code);
    expect(new Set(all).size).toBe(all.length);
  });

  it('looks codes up and fills message templates', () => {
    expect(lookupCode('E_NO_FEED')?.kind).toBe('error');
    expect(lookupCode('submission.applied')?.kind).toBe('audit');
    expect(lookupCode('E_NOT_A_CODE')).toBeUndefined();
    expect(isCode('R_TEST_OOS')).toBe(true);
    expect(isCode('sftp.auth')).toBe(false);
    expect(formatMessage('E_NO_FEED', { partner: 'acme-cmo', file: 'x.csv' })).toBe('No feed of partner acme-cmo accepts a file named x.csv.');
  });
});

describe('docs/codes.md', () => {
  const doc = readFileSync(path.join(root, 'docs', 'codes.md'), 'utf8');

  it('lists exactly the partner-facing codes of the registry (both directions)', () => {
    const inDoc = new Set(partnerTableCodes(doc));
    const inRegistry = new Set(partnerCodes().map((e) => e.code as string));
    expect(inDoc.size, 'the partner table in docs/codes.md is missing or empty').toBeGreaterThan(0);
    expect([...inRegistry].filter((c) => !inDoc.has(c)), 'registered partner codes missing from docs/codes.md').toEqual([]);
    expect([...inDoc].filter((c) => !inRegistry.has(c)), 'codes in docs/codes.md that the registry does not give partners').toEqual([]);
  });

  it('is up to date with the registry (regenerate: npm run build && node dist/pipeline/codes-doc.js)', () => {
    expect(doc).toContain(codesDocSection());
  });

  it('the table parser sees a drift in either direction', () => {
    const section = codesDocSection();
    const dropped = section.replace(/^\| `E_NO_FEED` .*\n/m, '');
    expect(partnerTableCodes(dropped)).not.toContain('E_NO_FEED');
    const added = section.replace('| `E_NO_FEED` |', '| `E_INVENTED` |\n| `E_NO_FEED` |');
    expect(partnerTableCodes(added)).toContain('E_INVENTED');
  });
});
