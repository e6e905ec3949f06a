// `npm run chaos` — lotgate's fault campaign against a real `lotgate start` (real SQLite store,
// a private redis-server, the SFTP drop zone, uploads with OpenSSH `sftp -b`): a clean run of
// a set of files, then the same files under each fault, compared with the clean run.
//   --quick      smaller files and shorter waits (about 2 minutes)
//   --only 2,4   only these faults (the clean run always runs)
//   --seed N     data generator seed (default 20261120)
//   --keep       keep the scratch folder (stores, logs, acknowledgments)
// Exits 1 when any run shows a discrepancy (or could not run), 0 otherwise. See docs/chaos.md.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureTools, TOOLS } from '../bench/lib/tools.js';
import { cleanRun } from './faults/clean.js';
import { diskFull } from './faults/disk-full.js';
import { redisLost } from './faults/redis-lost.js';
import { sigkillMidRun } from './faults/sigkill.js';
import { sigtermDuringLargeFile } from './faults/sigterm-large.js';
import type { FaultDef, FaultOutcome } from './faults/types.js';
import { cleanupOnSignals, onCleanup, runCleanup } from './lib/cleanup.js';
import { buildFixture, RECONCILE_SECONDS } from './lib/fixture.js';
import type { ChaosContext } from './lib/harness.js';
import { compare, renderDiscrepancies, renderTable, summarize, type Discrepancy } from './report.js';

const FAULTS: FaultDef[] = [
  { id: 1, name: 'SIGKILL of lotgate mid-run, restart', run: (ctx) => sigkillMidRun(ctx) },
  { id: 2, name: 'Redis lost and restarted empty mid-run', run: (ctx) => redisLost(ctx) },
  { id: 3, name: 'SIGTERM during a large file, restart', run: (ctx) => sigtermDuringLargeFile(ctx) },
  { id: 4, name: 'disk full at upload / apply / ack, freed, restart', run: (ctx, clean) => diskFull(ctx, clean) },
];

interface Args {
  quick: boolean;
  only: number[] | null;
  seed: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, only: null, seed: 20261120, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--quick') a.quick = true;
    else if (k === '--keep') a.keep = true;
    else if (k === '--only') {
      a.only = val().split(',').map((x) => Number.parseInt(x, 10));
      const bad = a.only.filter((n) => !FAULTS.some((f) => f.id === n));
      if (bad.length) throw new Error(`--only: no fault ${bad.join(', ')} (faults are ${FAULTS.map((f) => f.id).join(', ')})`);
    } else if (k === '--seed') a.seed = Number.parseInt(val(), 10);
    else if (k === '--help' || k === '-h') {
      process.stdout.write('usage: npm run chaos [-- --quick] [--only 1,3] [--seed N] [--keep]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${k} (see --help)`);
  }
  return a;
}

const SIZES = {
  quick: { lots: 400, goodFilesPerLab: 3, rowsPerLimsFile: 2_000, stageFilesPerCmo: 2, largeRows: 30_000 },
  full: { lots: 1_000, goodFilesPerLab: 6, rowsPerLimsFile: 6_000, stageFilesPerCmo: 3, largeRows: 200_000 },
};

interface Verdict {
  id: number;
  name: string;
  discrepancies: number;
  outcome: string;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(line + '\n');
  cleanupOnSignals(log);
  for (const n of ensureTools([TOOLS.redis, TOOLS.sftp, TOOLS.sshKeygen], log)) log(n);
  const started = Date.now();
  const workDir = mkdtempSync(path.join(tmpdir(), 'lotgate-chaos-'));
  if (!args.keep) onCleanup(`rm -r ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const sizes = args.quick ? SIZES.quick : SIZES.full;
  log(`lotgate chaos (${args.quick ? 'quick' : 'full'}), seed ${args.seed}, scratch ${workDir}`);

  const fx = await buildFixture(workDir, sizes, args.seed);
  const rows = fx.files.rows.toLocaleString('en-US');
  log(`files: ${fx.files.standard.length} (${rows} rows: good, with row errors, one broken, one duplicate) + ${fx.files.large.name} (${sizes.largeRows.toLocaleString('en-US')} rows)`);
  log(`reconcile scan every ${RECONCILE_SECONDS} s; each wait for the files to settle is bounded`);
  const ctx: ChaosContext = {
    quick: args.quick,
    keep: args.keep,
    workDir,
    fx,
    log,
    settleMs: args.quick ? 100_000 : 150_000,
    deadline: started + (args.quick ? 6 : 10) * 60_000,
  };

  const verdicts: Verdict[] = [];
  log('\n[0] clean run');
  const clean = await cleanRun(ctx);
  const cleanCmp = compare(clean.sent, clean.snap, null, clean.findings);
  const cleanSummary = summarize(clean.sent, clean.snap, cleanCmp);
  for (const n of clean.notes) log(`  note: ${n}`);
  log(renderTable(cleanSummary, null, null));
  log(renderDiscrepancies(cleanCmp.discrepancies));
  verdicts.push({ id: 0, name: 'clean run', discrepancies: cleanCmp.discrepancies.length, outcome: cleanCmp.discrepancies.length ? 'DISCREPANCIES' : 'ok' });

  for (const def of FAULTS.filter((f) => !args.only || args.only.includes(f.id))) {
    log(`\n[${def.id}] ${def.name}`);
    if (Date.now() > ctx.deadline) {
      log('  skipped: the campaign ran out of its time bound');
      // An incomplete campaign is not a pass.
      verdicts.push({ id: def.id, name: def.name, discrepancies: 1, outcome: 'NOT RUN: the campaign reached its time bound' });
      continue;
    }
    let res: FaultOutcome | string;
    try {
      res = await def.run(ctx, clean);
    } catch (e) {
      log(`  FAILED: ${(e as Error).stack ?? String(e)}`);
      verdicts.push({ id: def.id, name: def.name, discrepancies: 1, outcome: `FAILED: ${String((e as Error).message).split('\n')[0]}` });
      continue;
    }
    if (typeof res === 'string') {
      log(`  skipped: ${res}`);
      verdicts.push({ id: def.id, name: def.name, discrepancies: 0, outcome: `SKIPPED: ${res}` });
      continue;
    }
    const cmp = compare(res.sent, res.snap, { sent: clean.sent, snap: clean.snap }, res.findings);
    // The clean run's figures for exactly the files this run sent.
    const cleanFor = summarize(res.sent, clean.snap, compare(res.sent, clean.snap, null));
    for (const n of res.notes) log(`  note: ${n}`);
    log(renderTable(summarize(res.sent, res.snap, cmp), cleanFor, cmp.expectedTotals));
    log(renderDiscrepancies(cmp.discrepancies));
    verdicts.push({ id: def.id, name: def.name, discrepancies: cmp.discrepancies.length, outcome: cmp.discrepancies.length ? `${cmp.discrepancies.length} DISCREPANCIES (${kinds(cmp.discrepancies)})` : 'ok' });
  }

  log(`\nsummary (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  for (const v of verdicts) log(`  [${v.id}] ${v.name.padEnd(50)} ${v.outcome}`);
  if (verdicts.some((v) => v.discrepancies > 0)) process.exitCode = 1;
  if (args.keep) log(`scratch kept: ${workDir}`);
}

function kinds(d: readonly Discrepancy[]): string {
  const c = new Map<string, number>();
  for (const x of d) c.set(x.kind, (c.get(x.kind) ?? 0) + 1);
  return [...c].map(([k, n]) => `${k} ${n}`).join(', ');
}

const log = (line: string) => process.stdout.write(line + '\n');
main()
  .catch((err) => {
    process.stderr.write(`chaos: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  })
  .finally(() => runCleanup(log));
