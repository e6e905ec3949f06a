// Renders the code tables of docs/codes.md from the registry (pipeline/codes.ts):
// `npm run build && node dist/pipeline/codes-doc.js [docs/codes.md]` rewrites the part between the
// markers and keeps the prose around it. test/codes/registry.test.ts fails when the file and the
// registry disagree, so the table partners read cannot drift from the codes lotgate sends.

import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ALL_CODES, partnerCodes, type CodeEntry } from './codes.js';

export const BEGIN = '<!-- codes:begin (generated from pipeline/codes.ts: npm run build && node dist/pipeline/codes-doc.js) -->';
export const END = '<!-- codes:end -->';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(entries: readonly CodeEntry[], withAudience = false): string {
  const head = withAudience ? '| code | who sees it | what went wrong | what to do |\n|---|---|---|---|' : '| code | what went wrong | what to do |\n|---|---|---|';
  const rows = entries.map((e) =>
    withAudience
      ? `| \`${e.code}\` | ${e.audience.join(', ')} | ${cell(e.message)} | ${cell(e.todo)} |`
      : `| \`${e.code}\` | ${cell(e.message)} | ${cell(e.todo)} |`,
  );
  return [head, ...rows].join('\n');
}

/** The generated part of docs/codes.md, markers included. */
export function codesDocSection(): string {
  const partner = partnerCodes();
  const inPartner = new Set(partner.map((e) => e.code));
  const others = ALL_CODES.filter((e) => (e.kind === 'error' || e.kind === 'warning') && !inPartner.has(e.code));
  return [
    BEGIN,
    '',
    '### Codes an acknowledgment can carry (partners)',
    '',
    table(partner),
    '',
    '### Mapping, configuration and operations codes (analysts, operators)',
    '',
    table(others, true),
    '',
    '### Readiness reasons (QA, analysts)',
    '',
    table(ALL_CODES.filter((e) => e.kind === 'reason')),
    '',
    '### Audit-trail actions (operators)',
    '',
    table(ALL_CODES.filter((e) => e.kind === 'audit')),
    '',
    END,
  ].join('\n');
}

/** `text` with its generated section replaced (or appended when it has none). */
export function withCodesSection(text: string): string {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) return `${text.trimEnd()}\n\n${codesDocSection()}\n`;
  return text.slice(0, a) + codesDocSection() + text.slice(b + END.length);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2] ?? 'docs/codes.md';
  writeFileSync(target, withCodesSection(readFileSync(target, 'utf8')));
  console.log(`wrote ${target}`);
}
