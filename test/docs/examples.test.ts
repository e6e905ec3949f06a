// The README and the guides under docs/ say what a user can type: every link leads somewhere,
// every `npx lotgate …` names a real command, shell examples do not assume a global install,
// lots named in examples exist in the demo, and nothing points at files the repository lacks.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/lotgate.js');
const DOCS = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
/** Guides other parts of the work add; links to them are checked once they exist. */
const PENDING = new Set(['docs/partners.md', 'docs/security.md', 'docs/acknowledgments.md', 'docs/reliability.md', 'docs/mapping-checks.md', 'docs/api.md']);

const text = (f: string) => readFileSync(path.join(root, f), 'utf8');

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const body = text(file).replace(/```[\s\S]*?```/g, '');
  return new Set([...body.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));
}

/** The bodies of fenced code blocks that are shell (```sh, ```bash, or no language). */
function codeBlocks(file: string): string[] {
  const blocks: string[] = [];
  let lang: string | null = null;
  let body: string[] = [];
  for (const line of text(file).split('\n')) {
    const fence = /^```(\w*)\s*$/.exec(line);
    if (fence) {
      if (lang === null) {
        lang = fence[1];
        body = [];
      } else {
        if (['', 'sh', 'bash', 'console'].includes(lang)) blocks.push(body.join('\n'));
        lang = null;
      }
    } else if (lang !== null) body.push(line);
  }
  return blocks;
}

/** `npx lotgate …` invocations in code blocks (comments stripped). */
function invocations(file: string): string[][] {
  return codeBlocks(file)
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s#.*$/, ''))
    .flatMap((l) => [...l.matchAll(/npx lotgate((?: [^|&;>)]+)?)/g)].map((m) => m[1].trim().split(/\s+/).filter(Boolean)));
}

describe('README and docs/', () => {
  it('every relative link leads to a file (and heading) that exists', () => {
    const broken: string[] = [];
    for (const f of DOCS) {
      for (const m of text(f).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split('#');
        const resolved = file ? path.relative(root, path.resolve(path.dirname(path.join(root, f)), file)) : f;
        if (!existsSync(path.join(root, resolved))) {
          if (!PENDING.has(resolved)) broken.push(`${f}: ${target}`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${f}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('shell examples run lotgate with npx (a bare `lotgate` needs a global install)', () => {
    const bare = DOCS.flatMap((f) =>
      codeBlocks(f)
        .flatMap((b) => b.split('\n'))
        .filter((l) => /^\s*lotgate\s/.test(l))
        .map((l) => `${f}: ${l.trim()}`),
    );
    expect(bare).toEqual([]);
  });

  it('every `npx lotgate` command in the docs exists', () => {
    const help = (args: string[]) => spawnSync(process.execPath, [bin, ...args, '--help'], { encoding: 'utf8' }).stdout;
    const commandsIn = (usage: string) => [...usage.slice(usage.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
    const top = commandsIn(help([]));
    const subsOf = new Map<string, string[]>();
    const unknown: string[] = [];
    for (const f of DOCS) {
      for (const words of invocations(f)) {
        // Global options come first: skip them and their values.
        const rest = ['-d', '--data-dir', '-c', '--config'].includes(words[0]) ? words.slice(2) : words;
        const [cmd, sub] = rest;
        if (!cmd) continue;
        if (!top.includes(cmd)) {
          unknown.push(`${f}: npx lotgate ${cmd}`);
          continue;
        }
        // A word after the command that looks like a subcommand must be one, when the command has any.
        if (!sub || !/^[a-z][a-z-]*$/.test(sub)) continue;
        if (!subsOf.has(cmd)) {
          const usage = help([cmd]);
          subsOf.set(cmd, usage.includes('Commands:') ? commandsIn(usage) : []);
        }
        const subs = subsOf.get(cmd)!;
        if (subs.length && !subs.includes(sub)) unknown.push(`${f}: npx lotgate ${cmd} ${sub}`);
      }
    }
    expect(unknown).toEqual([]);
  }, 120_000);

  it('lots named in examples exist in the demo data', () => {
    const batches = readdirSync(path.join(root, 'fixtures/erp'))
      .filter((f) => f.startsWith('ZMM_BATCHES'))
      .map((f) => readFileSync(path.join(root, 'fixtures/erp', f), 'utf8'))
      .join('\n');
    const named = DOCS.flatMap((f) => invocations(f).filter((w) => w[0] === 'lot' && w[1] && !w[1].startsWith('<')).map((w) => [f, w[1]]));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter(([, lot]) => !batches.includes(lot))).toEqual([]);
  });

  it('points at nothing outside the repository and carries no working notes', () => {
    for (const f of [...DOCS, 'config.yaml']) {
      expect(text(f), f).not.toMatch(/DESIGN\.md/);
      expect(text(f), f).not.toMatch(/\bthe lead\b/i);
    }
  });

  it('the README stays an entry page', () => {
    expect(text('README.md').split('\n').length).toBeLessThan(200);
  });
});
