// `npm run bench` — lotgate's performance against reference tools, in one run (DESIGN.md §10).
//   --quick        small sizes, finishes in under two minutes
//   --only 1,3     run only these scenarios (numbers or names: `--only api` = 7, the API latency)
//   --runs N       timed repetitions per measurement (default 3; 2 with --quick)
//   --seed N       data generator seed (default 20261120)
//   --keep         keep the scratch folder (printed at the end)
//   --out FILE     where to write the JSON results (default bench/results.json)
//   --profile      run lotgate under `node --cpu-prof`; profiles and summaries in bench/profiles/
//                  (timings of a profiled run are inflated: use it to find where time goes)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchContext, ScenarioResult } from './lib/context.js';
import { BENCH_SRC } from './lib/paths.js';
import { machine, table, verdict } from './lib/report.js';
import { ensureTools, TOOLS, type Tool } from './lib/tools.js';
import { bulkIngest } from './scenarios/bulk-ingest.js';
import { memory } from './scenarios/memory.js';
import { readinessSweep } from './scenarios/readiness-sweep.js';
import { upload } from './scenarios/upload.js';
import { latency } from './scenarios/latency.js';
import { manyPartners } from './scenarios/many-partners.js';
import { apiLatency } from './scenarios/api-latency.js';
import { xlsxIngest } from './scenarios/xlsx-ingest.js';
import { pgBulk } from './scenarios/pg-bulk.js';
import { pgIngest } from './scenarios/pg-ingest.js';
import { pgManyPartners } from './scenarios/pg-many-partners.js';

interface ScenarioDef {
  id: number;
  name: string;
  /** Name accepted by --only besides the number. */
  alias?: string;
  tools: Tool[];
  run: (ctx: BenchContext) => Promise<ScenarioResult>;
}

const SCENARIOS: ScenarioDef[] = [
  { id: 1, name: 'bulk ingest', tools: [TOOLS.sqlite3, TOOLS.time], run: bulkIngest },
  { id: 2, name: 'memory', tools: [TOOLS.time], run: memory },
  { id: 3, name: 'upload', tools: [TOOLS.sftp, TOOLS.sshKeygen, TOOLS.sshd, TOOLS.redis], run: upload },
  { id: 4, name: 'latency', tools: [TOOLS.sshKeygen, TOOLS.redis, TOOLS.time], run: latency },
  { id: 5, name: 'many partners', tools: [TOOLS.sshKeygen, TOOLS.redis, TOOLS.time], run: manyPartners },
  { id: 6, name: 'readiness sweep', tools: [TOOLS.time], run: readinessSweep },
  { id: 7, name: 'api latency', alias: 'api', tools: [], run: apiLatency },
  { id: 8, name: 'xlsx ingest', alias: 'xlsx', tools: [TOOLS.time], run: xlsxIngest },
  { id: 9, name: 'PostgreSQL bulk fact path', alias: 'pg', tools: [TOOLS.psql, TOOLS.time], run: pgBulk },
  // Scenarios 1 and 5 on PostgreSQL (issue 13); they need the server of LOTGATE_BENCH_PG_URL, as 9 does.
  { id: 10, name: 'bulk ingest on PostgreSQL', alias: 'pg-ingest', tools: [TOOLS.psql, TOOLS.time], run: pgIngest },
  { id: 11, name: 'many partners on PostgreSQL', alias: 'pg-partners', tools: [TOOLS.psql, TOOLS.sshKeygen, TOOLS.redis, TOOLS.time], run: pgManyPartners },
];

interface Args {
  quick: boolean;
  only: number[] | null;
  runs: number | null;
  seed: number;
  keep: boolean;
  profile: boolean;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: null, runs: null, seed: 20261120, keep: false, profile: false, out: path.join(BENCH_SRC, 'results.json') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--quick') a.quick = true;
    else if (k === '--keep') a.keep = true;
    else if (k === '--profile') a.profile = true;
    else if (k === '--only') {
      a.only = val()
        .split(',')
        .map((x) => {
          const byName = SCENARIOS.find((s) => s.alias === x.trim());
          const n = byName ? byName.id : Number.parseInt(x, 10);
          if (!SCENARIOS.some((s) => s.id === n)) throw new Error(`--only: no scenario ${x} (1–${SCENARIOS.length}${SCENARIOS.filter((s) => s.alias).map((s) => `, ${s.alias}`).join('')})`);
          return n;
        });
    }
    else if (k === '--runs') a.runs = Math.max(1, Number.parseInt(val(), 10));
    else if (k === '--seed') a.seed = Number.parseInt(val(), 10);
    else if (k === '--out') a.out = path.resolve(val());
    else if (k === '--help' || k === '-h') {
      process.stdout.write('usage: npm run bench [-- --quick] [--only 1,2,6] [--runs N] [--seed N] [--keep] [--profile] [--out FILE]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${k} (see --help)`);
  }
  return a;
}

function failed(def: ScenarioDef, err: unknown): ScenarioResult {
  return {
    id: def.id,
    name: def.name,
    workload: '—',
    lotgate: null,
    reference: null,
    ratio: null,
    target: '—',
    met: false,
    outcome: `FAILED: ${String((err as Error)?.message ?? err).split('\n')[0]}`,
    notes: [String((err as Error)?.stack ?? err)],
    details: {},
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = SCENARIOS.filter((s) => !args.only || args.only.includes(s.id));
  const log = (line: string) => process.stdout.write(line + '\n');
  const installed = ensureTools([...new Set(selected.flatMap((s) => s.tools))], log);
  for (const n of installed) log(n);

  const workDir = mkdtempSync(path.join(tmpdir(), 'lotgate-bench-'));
  const runs = args.runs ?? (args.quick ? 2 : 3);
  const profileDir = args.profile ? path.join(BENCH_SRC, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : null;
  const ctx: BenchContext = { quick: args.quick, runs, seed: args.seed, workDir, log, profileDir, shared: new Map() };
  const m = machine();
  log(`lotgate bench (${args.quick ? 'quick' : 'full'}), ${runs} runs each, seed ${args.seed}`);
  log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}, sqlite3 ${m.sqlite3}, ${m.openssh}`);
  log(`scratch: ${workDir}`);
  if (profileDir) log(`profiling: CPU profiles in ${profileDir} (timings are inflated by the profiler)`);

  const results: ScenarioResult[] = [];
  const started = Date.now();
  try {
    for (const def of selected) {
      log(`\n[${def.id}] ${def.name}`);
      const t0 = performance.now();
      let r: ScenarioResult;
      try {
        r = await def.run(ctx);
      } catch (err) {
        r = failed(def, err);
        log(`  ${r.notes[0]}`);
      }
      log(`  → ${r.outcome} — target ${r.target}: ${verdict(r)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      results.push(r);
    }
  } finally {
    if (!args.keep) rmSync(workDir, { recursive: true, force: true });
  }

  log('\n' + table(results));
  const met = results.filter((r) => r.met === true).length;
  const notMet = results.filter((r) => r.met === false);
  log(`\ntargets met: ${met}/${results.length}` + (notMet.length ? `; not met: ${notMet.map((r) => `${r.id} ${r.name}`).join(', ')}` : ''));
  const doc = {
    generatedAt: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    profiled: args.profile,
    runs,
    seed: args.seed,
    totalSeconds: (Date.now() - started) / 1000,
    machine: m,
    installed,
    scenarios: results,
  };
  writeFileSync(args.out, JSON.stringify(doc, null, 2) + '\n');
  // Unmet targets are results; a scenario that could not run is a failure of the bench.
  if (results.some((r) => r.outcome.startsWith('FAILED'))) process.exitCode = 1;
  log(`results: ${args.out}${args.keep ? `\nscratch kept: ${workDir}` : ''}`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
