// Scenario 6 — readiness sweep. `lotgate job run readiness-sweep` over a store holding 100k
// open lots (10k in quick mode) with realistic facts. The store is seeded by ingesting
// generated ERP, CMO and lab files through `lotgate ingest` (untimed); each timed sweep runs on
// a fresh copy of it. The sweep's time is the job run's startedAt → finishedAt (what the job
// ledger records); the whole command, start-up included, is reported next to it.

import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { side } from '../lib/context.js';
import { generateMasterData, writeErpFiles } from '../gen/erp.js';
import { cmoMappings, writeFactFiles } from '../gen/facts.js';
import { LOTGATE_BIN, REPO_ROOT } from '../lib/paths.js';
import { describeFailure, runMeasured } from '../lib/proc.js';
import { nodeFlags, reportProfiles } from '../lib/profiling.js';
import { createWorkspace, repoMapping } from '../lib/workspace.js';
import { checkApplied, ERP_MAPPINGS, lotgateIngest, STANDARD_PARTNERS } from './ingest-fixture.js';

export const SWEEP_TARGET_SECONDS = 5;

export async function readinessSweep(ctx: BenchContext): Promise<ScenarioResult> {
  const lotCount = ctx.quick ? 10_000 : 100_000;
  const dir = path.join(ctx.workDir, 'sweep');
  const partners = STANDARD_PARTNERS.map((p) => (p.role === 'cmo' ? { ...p, feeds: ['stages', 'documents', 'deviations'] } : p));
  const ws = createWorkspace(path.join(dir, 'ws'), {
    partners,
    mappings: [...ERP_MAPPINGS, repoMapping('bravo-lab', 'lims-results'), ...cmoMappings('acme-cmo'), ...cmoMappings('delta-cmo')],
  });
  const input = path.join(dir, 'input');
  mkdirSync(input, { recursive: true });
  const md = generateMasterData(ctx.seed + 6, lotCount);
  const erpFiles = await writeErpFiles(input, md);
  const facts = await writeFactFiles(input, md, ctx.seed + 66);
  const seeded = path.join(dir, 'seeded-data');
  ctx.log(`  seeding ${lotCount.toLocaleString('en-US')} lots and ${facts.rows.toLocaleString('en-US')} fact rows through lotgate ingest`);
  const seedStart = performance.now();
  checkApplied('seeding ERP master data', await lotgateIngest(ws, seeded, 'erp', erpFiles));
  for (const [partner, files] of facts.byPartner) checkApplied(`seeding ${partner} files`, await lotgateIngest(ws, seeded, partner, files));
  ctx.log(`  seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  // The scheduled sweep (only lots the clock may have changed), then a full recompute of every
  // open lot (the job's option all, through a copy of the config), both timed by the job itself.
  const fullConfig = path.join(path.dirname(ws.configPath), 'config-full-recompute.yaml');
  const cfg = (YAML.parse(readFileSync(ws.configPath, 'utf8')) ?? {}) as Record<string, unknown>;
  writeFileSync(fullConfig, YAML.stringify({ ...cfg, jobs: { ...((cfg.jobs as object) ?? {}), 'readiness-sweep': { all: true } } }));
  type Sweep = { seconds: number; wall: number; cpu: number | null; rss: number | null; changed: number; lots: number; recomputed: number };
  const sweepOnce = async (configPath: string, what: string): Promise<Sweep> => {
    const dataDir = path.join(dir, 'run-data');
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(seeded, dataDir, { recursive: true });
    const r = await runMeasured(process.execPath, [...nodeFlags(ctx, 'scenario-6'), LOTGATE_BIN, '--config', configPath, '--data-dir', dataDir, 'job', 'run', 'readiness-sweep', '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOTGATE_LOG_LEVEL: process.env.LOTGATE_LOG_LEVEL ?? 'warn' },
    });
    rmSync(dataDir, { recursive: true, force: true });
    if (r.code !== 0) throw describeFailure(`lotgate job run readiness-sweep (${what})`, r);
    const out = JSON.parse(r.stdout) as { status: string; startedAt: string; finishedAt: string; counts: { lots: number; changed: number; recomputed?: number } };
    if (out.status !== 'ok' || out.counts.lots !== lotCount) throw new Error(`the sweep ended ${out.status} after ${out.counts.lots} lots, expected ${lotCount}`);
    const seconds = (Date.parse(out.finishedAt) - Date.parse(out.startedAt)) / 1000;
    const recomputed = out.counts.recomputed ?? out.counts.lots;
    return { seconds, wall: r.seconds, cpu: r.cpuSeconds, rss: r.peakRssMb, changed: out.counts.changed, lots: out.counts.lots, recomputed };
  };
  const sweeps: Sweep[] = [];
  const fulls: Sweep[] = [];
  for (let i = 0; i < ctx.runs; i++) {
    const s = await sweepOnce(ws.configPath, 'scheduled');
    sweeps.push(s);
    ctx.log(`  run ${i + 1}/${ctx.runs}: sweep ${s.seconds.toFixed(2)} s for ${s.lots} open lots (${s.recomputed} recomputed, ${s.changed} changed), whole command ${s.wall.toFixed(2)} s (CPU ${s.cpu?.toFixed(2) ?? 'n/a'} s), peak RSS ${s.rss?.toFixed(0)} MB`);
    const f = await sweepOnce(fullConfig, 'full recompute');
    fulls.push(f);
    ctx.log(`  run ${i + 1}/${ctx.runs}: full recompute ${f.seconds.toFixed(2)} s for ${f.recomputed} lots (${f.changed} changed), whole command ${f.wall.toFixed(2)} s (CPU ${f.cpu?.toFixed(2) ?? 'n/a'} s)`);
  }
  const fullMedian = side(fulls.map((s) => s.seconds), []).medianSeconds;
  const profiles = reportProfiles(ctx, 'scenario-6');
  const l = side(sweeps.map((s) => s.seconds), sweeps.map((s) => s.rss), (m) => ({ value: lotCount / m, unit: 'lots/s' }));
  const extrapolated = (l.medianSeconds * 100_000) / lotCount;
  return {
    id: 6,
    name: 'readiness sweep',
    workload: `${lotCount.toLocaleString('en-US')} lots, ${facts.rows.toLocaleString('en-US')} fact rows`,
    lotgate: l,
    reference: null,
    ratio: null,
    target: `full sweep of 100k lots < ${SWEEP_TARGET_SECONDS} s`,
    met: ctx.quick ? extrapolated < SWEEP_TARGET_SECONDS : l.medianSeconds < SWEEP_TARGET_SECONDS,
    outcome: `${l.medianSeconds.toFixed(2)} s, ${Math.round(lotCount / l.medianSeconds).toLocaleString('en-US')} lots/s` + (ctx.quick ? ` (100k extrapolated: ${extrapolated.toFixed(1)} s)` : ''),
    notes: [
      `whole command (node start-up, store open, sweep): median ${side(sweeps.map((s) => s.wall), []).medianSeconds.toFixed(2)} s`,
      `lots whose readiness changed: ${sweeps.map((s) => s.changed).join(', ')} (the job judges lots against the real clock; the store was computed minutes earlier)`,
      `lots recomputed by the scheduled sweep: ${sweeps.map((s) => s.recomputed).join(', ')} of ${lotCount} open (the others' clock-due day has not come)`,
      `full recompute of every open lot (option all): median ${fullMedian.toFixed(2)} s` + (ctx.quick ? ` (100k extrapolated: ${((fullMedian * 100_000) / lotCount).toFixed(1)} s)` : '') + `, CPU ${fulls.map((s) => s.cpu?.toFixed(2) ?? 'n/a').join(' / ')} s`,
      ...(ctx.quick ? ['quick mode: 10k lots; the target is judged on the linear extrapolation to 100k'] : []),
    ],
    details: { lots: lotCount, factRows: facts.rows, sweeps, fullRecomputes: fulls, command: 'lotgate job run readiness-sweep --json', profiles },
  };
}
