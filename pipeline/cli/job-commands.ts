// `lotgate job list` and `lotgate job run <name>`: the scheduled jobs, on demand. A manual run
// takes the same lease as the scheduler, so it never overlaps a scheduled run in another process.

import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { findJob, JOBS } from '../../jobs/index.js';
import type { LotgateConfig } from '../config/config.js';
import { createLogger, createLotgate } from '../lotgate.js';
import { nextRuns } from '../scheduler/config.js';
import { leaseName, runJob, type RunOutcome } from '../scheduler/runner.js';
import { loadJobsConfig } from '../scheduler/scheduler.js';
import { UNFINISHED_RUN_ERROR, type Store } from '../store/store.js';
import type { JobRunRow } from '../store/types.js';
import { FULL_CONFIG_CHECK } from './config-parts.js';
import { configFrom, printJson, UserError } from './context.js';
import { renderTable } from './render.js';

export interface JobListing {
  name: string;
  description: string;
  enabled: boolean;
  schedule: string;
  timezone: string;
  nextRun: string | null;
  running: { holder: string; leaseUntil: string } | null;
  lastRun: {
    id: number;
    startedAt: string;
    finishedAt: string | null;
    outcome: 'ok' | 'error' | 'skipped' | 'running' | 'unfinished';
    counts: Record<string, unknown>;
    error: string | null;
  } | null;
}

/** Exit code of `job run` when another process is running the job. */
export const EXIT_BUSY = 5;

export async function listJobs(config: LotgateConfig, store: Store, now: Date): Promise<JobListing[]> {
  const jobsConfig = loadJobsConfig(config, JOBS);
  const out: JobListing[] = [];
  for (const def of JOBS) {
    const s = jobsConfig.jobs.get(def.name)!;
    const lease = await store.jobs.getLease(leaseName(def.name));
    const live = lease && Date.parse(lease.expiresAt) > now.getTime() ? lease : undefined;
    const last = (await store.jobs.listJobRuns({ name: def.name, limit: 1 }))[0];
    out.push({
      name: def.name,
      description: def.description,
      enabled: s.enabled,
      schedule: s.schedule,
      timezone: s.timezone,
      nextRun: s.enabled ? nextRuns(s.schedule, s.timezone, 1)[0]?.toISOString() ?? null : null,
      running: live ? { holder: live.holder, leaseUntil: live.expiresAt } : null,
      lastRun: last ? lastRunOf(last, live?.holder) : null,
    });
  }
  return out;
}

function lastRunOf(r: JobRunRow, liveHolder: string | undefined): NonNullable<JobListing['lastRun']> {
  const unfinished = r.finishedAt === null && r.error === UNFINISHED_RUN_ERROR;
  const outcome = unfinished ? (r.holder === liveHolder ? 'running' : 'unfinished') : r.status;
  const details = (r.details ?? {}) as { counts?: Record<string, unknown> };
  return { id: r.id, startedAt: r.startedAt, finishedAt: r.finishedAt, outcome, counts: details.counts ?? {}, error: unfinished ? null : r.error };
}

function countsText(c: Record<string, unknown>): string {
  return Object.entries(c)
    .filter(([, v]) => v !== 0 && v !== null && v !== '')
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
}

function progressBar(): { progress?: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { stop: () => {} };
  const bar = new SingleBar({ format: '  {bar} {value}/{total}', stream: process.stderr, hideCursor: true }, undefined);
  let started = false;
  return {
    progress: (done, total) => {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('Scheduled jobs: list them, run one now.');

  job
    .command('list')
    .description('Every job with its schedule, last run and outcome, and next run.')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd, FULL_CONFIG_CHECK);
      const lg = await createLotgate(config);
      let rows: JobListing[];
      try {
        rows = await listJobs(config, lg.store, lg.now());
      } finally {
        await lg.close();
      }
      if (opts.json) return printJson(rows);
      process.stdout.write(
        renderTable(
          ['JOB', 'SCHEDULE', 'NEXT RUN', 'LAST RUN', 'OUTCOME', 'DETAILS'],
          rows.map((r) => [
            r.name,
            r.enabled ? `${r.schedule} (${r.timezone})` : 'disabled',
            r.nextRun ?? '-',
            r.lastRun?.startedAt ?? 'never',
            r.running ? `running in ${r.running.holder}` : r.lastRun?.outcome ?? '',
            r.lastRun ? (r.lastRun.error ? r.lastRun.error.split('\n')[0] : countsText(r.lastRun.counts)) : r.description,
          ]),
          { timeZone: config.timezone },
        ),
      );
    });

  job
    .command('run')
    .description('Run a job now (waits for nothing: if another process is running it, says so and exits 5).')
    .argument('<name>', `job name: ${JOBS.map((j) => j.name).join(', ')}`)
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const def = findJob(name);
      if (!def) throw new UserError(`unknown job "${name}"; jobs: ${JOBS.map((j) => j.name).join(', ')} (see \`lotgate job list\`)`, 2);
      const config = configFrom(cmd, FULL_CONFIG_CHECK);
      const settings = loadJobsConfig(config, JOBS).jobs.get(def.name)!;
      const log = createLogger();
      const bar = opts.json ? { stop: () => {} } : progressBar();
      let outcome: RunOutcome;
      try {
        outcome = await runJob(def, settings, { config, log, openLotgate: () => createLotgate(config, { log }) }, { trigger: 'manual', progress: 'progress' in bar ? bar.progress : undefined });
      } finally {
        bar.stop();
      }
      if (opts.json) printJson(outcome);
      else if (outcome.status === 'busy') process.stderr.write(`lotgate: job ${name} is running in ${outcome.holder ?? 'another process'} (lease until ${outcome.until ?? '?'}); try again later\n`);
      else process.stdout.write(`${name}: ${outcome.status}${countsText(outcome.counts) ? ` — ${countsText(outcome.counts)}` : ''}\n${outcome.error ? `${outcome.error}\n` : ''}`);
      process.exitCode = outcome.status === 'busy' ? EXIT_BUSY : outcome.status === 'error' ? 1 : 0;
    });
}
