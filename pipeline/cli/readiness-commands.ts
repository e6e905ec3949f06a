// `lotgate readiness recompute [--all]`: the readiness sweep, now. Without --all it does what the
// scheduled run does — lots left dirty by a crash, then open lots whose clock-due day has come or
// whose rules changed; with --all every open lot is recomputed (after a rule change made outside
// the config file, or to check). It runs as the readiness-sweep job under the job's lease, so it
// never overlaps a scheduled sweep; every change is audited and put in the outbox like any other.

import type { Command } from 'commander';
import { findJob, JOBS } from '../../jobs/index.js';
import { createLogger, createLotgate } from '../lotgate.js';
import { runJob } from '../scheduler/runner.js';
import { loadJobsConfig } from '../scheduler/scheduler.js';
import { FULL_CONFIG_CHECK } from './config-parts.js';
import { configFrom, printJson } from './context.js';
import { EXIT_BUSY } from './job-commands.js';

export function registerReadinessCommands(program: Command): void {
  const readiness = program.command('readiness').description('Lot readiness: recompute it now.');

  readiness
    .command('recompute')
    .description('Recompute readiness now: lots awaiting recomputation and lots the clock changed; --all: every open lot.')
    .option('--all', 'recompute every open lot (no final disposition), not only those due')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const def = findJob('readiness-sweep')!;
      const config = configFrom(cmd, FULL_CONFIG_CHECK);
      const settings = loadJobsConfig(config, JOBS).jobs.get(def.name)!;
      const log = createLogger();
      const outcome = await runJob(def, { ...settings, options: { ...settings.options, all: opts.all === true } }, { config, log, openLotgate: () => createLotgate(config, { log }) }, { trigger: 'manual' });
      if (opts.json) printJson(outcome);
      else if (outcome.status === 'busy') process.stderr.write(`lotgate: the readiness sweep is running in ${outcome.holder ?? 'another process'} (lease until ${outcome.until ?? '?'}); try again later\n`);
      else {
        const c = outcome.counts as { lots?: number; recomputed?: number; changed?: number; dirtyLots?: number };
        process.stdout.write(
          outcome.status === 'ok'
            ? `readiness: ${c.recomputed ?? 0} of ${c.lots ?? 0} open lot(s) recomputed${c.dirtyLots ? `, ${c.dirtyLots} awaiting recomputation after new facts` : ''}; ${c.changed ?? 0} changed\n`
            : `readiness: ${outcome.status}\n${outcome.error ? `${outcome.error}\n` : ''}`,
        );
      }
      process.exitCode = outcome.status === 'busy' ? EXIT_BUSY : outcome.status === 'error' ? 1 : 0;
    });
}
