// `--profile`: the lotgate processes a scenario starts run with `node --cpu-prof` (one profile
// per thread, workers included), and the scenario ends with a summary of where the time went.
// Profiling slows lotgate down, so timings of a profiled run are not comparable.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from './context.js';
import { formatSummary, summarizeProfile } from './cpuprofile.js';
import { REPO_ROOT } from './paths.js';

/** Extra `node` flags for a lotgate child of scenario `label`. */
export function nodeFlags(ctx: BenchContext, label: string): string[] {
  return ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(ctx.profileDir, label)}`] : [];
}

/**
 * Summarizes every profile of `label` that was busy at least `minMs` (idle worker threads and
 * short helper commands are skipped), writes <profile>.txt next to each, and logs the top lines.
 */
export function reportProfiles(ctx: BenchContext, label: string, minMs = 1000): string[] {
  if (!ctx.profileDir) return [];
  const dir = path.join(ctx.profileDir, label);
  if (!existsSync(dir)) return [];
  const written: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile')).sort()) {
    const file = path.join(dir, f);
    const s = summarizeProfile(file, REPO_ROOT, 40);
    if (s.totalMs < minMs) continue;
    const text = formatSummary(s, 40);
    writeFileSync(`${file}.txt`, text + '\n');
    written.push(`${file}.txt`);
    ctx.log(`  profile ${path.relative(REPO_ROOT, file)} (${(s.totalMs / 1000).toFixed(1)} s busy), top self time:`);
    for (const l of s.selfByFunction.slice(0, 12)) ctx.log(`    ${l.pct.toFixed(1).padStart(5)}%  ${l.name}  ${l.where}`);
  }
  return written;
}
