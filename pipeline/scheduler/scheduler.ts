// The scheduler role of `lotgate start`: every enabled job on its cron schedule (node-cron, in
// the job's time zone). Each tick tries the job's lease; when another process holds it, this one
// skips the tick — several `lotgate start` processes sharing a store run each job once.
//
// On PostgreSQL the outbox job (push: `wakeOnOutbox`) is also woken by LISTEN/NOTIFY soon after a message is
// stored (outbox-wake.ts), through the same runJob as a tick; its schedule stays, since
// notifications sent while nobody listened are lost. On SQLite there is nothing to listen to.

import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import type { Lotgate } from '../lotgate.js';
import { listenOutbox } from '../store/dialect/postgres/outbox-listen.js';
import { databaseKind } from '../store/url.js';
import { parseJobsConfig, type JobsConfig } from './config.js';
import type { AnyJob, JobServices } from './job.js';
import { coalescingTrigger, keepListening, type Closable, type CoalescingTrigger } from './outbox-wake.js';
import { defaultHolder, runJob, type RunOutcome } from './runner.js';

export interface SchedulerDeps {
  config: LotgateConfig;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** A fresh Lotgate per job run (own store connection); default createLotgate(config). */
  openLotgate?: () => Promise<Lotgate>;
  /** Puts pulled files on the partner queues (the server's queues); absent → processed in the job. */
  enqueue?: (partner: string, submissionId: number) => Promise<void>;
  services?: JobServices;
}

export interface SchedulerOptions {
  /** Run only these jobs (default: every enabled job). */
  only?: string[];
  /** This process's identity in leases and run records. */
  holder?: string;
  /** The jobs to run: the composition root passes jobs/index.ts's JOBS; the scheduler knows none itself. */
  jobs: readonly AnyJob[];
  /** Lease renewal interval override (tests). */
  renewMs?: number;
  /** Called after every run that was not skipped. */
  onRun?: (outcome: RunOutcome) => void;
  /**
   * PostgreSQL: the job that says `wakeOnOutbox` (push), when it is enabled here, also runs soon
   * after the outbox gets a message; false: the schedule only. delayMs gathers a burst into one
   * run (default 200).
   */
  outboxWake?: false | { delayMs?: number; backoffMs?: number };
}

export interface RunningScheduler {
  jobs: { name: string; schedule: string; timezone: string; nextRun: string | null }[];
  banner: string[];
  /** Runs a job now through the same lease (as a tick would). */
  runNow(name: string): Promise<RunOutcome>;
  stop(): Promise<void>;
}

export function loadJobsConfig(config: LotgateConfig, jobs: readonly AnyJob[]): JobsConfig {
  const { config: parsed, problems } = parseJobsConfig(config.jobs, jobs);
  if (problems.length) {
    throw new ConfigError(`${config.configPath ?? 'config'}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  return parsed;
}

export function startScheduler(deps: SchedulerDeps, opts: SchedulerOptions): RunningScheduler {
  const defs = opts.jobs;
  const jobsConfig = loadJobsConfig(deps.config, defs);
  const holder = opts.holder ?? defaultHolder();
  const log = deps.log.child({ part: 'scheduler' });
  const unknown = (opts.only ?? []).filter((n) => !defs.some((d) => d.name === n));
  if (unknown.length) throw new ConfigError(`unknown job(s): ${unknown.join(', ')}; known: ${defs.map((d) => d.name).join(', ')}`);
  const stopping = new AbortController();
  const running = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  // The scheduled (tick or wake) run of each job under way in this process.
  const scheduled = new Map<string, Promise<RunOutcome>>();

  const run = (def: AnyJob, trigger: 'schedule' | 'manual'): Promise<RunOutcome> => {
    const settings = jobsConfig.jobs.get(def.name)!;
    const p = runJob(def, settings, deps, { holder, trigger, signal: stopping.signal, renewMs: opts.renewMs }).then((outcome) => {
      if (outcome.status !== 'busy') opts.onRun?.(outcome);
      return outcome;
    });
    running.add(p);
    void p.catch(() => undefined).finally(() => running.delete(p));
    if (trigger === 'schedule') {
      scheduled.set(def.name, p);
      void p.catch(() => undefined).finally(() => scheduled.get(def.name) === p && scheduled.delete(def.name));
    }
    return p;
  };

  const listed: RunningScheduler['jobs'] = [];
  for (const def of defs) {
    const s = jobsConfig.jobs.get(def.name)!;
    if (!s.enabled || (opts.only && !opts.only.includes(def.name))) continue;
    const task = cron.schedule(
      s.schedule,
      async () => {
        // A wake run of this job is under way: this tick is skipped, as noOverlap skips its own.
        if (stopping.signal.aborted || scheduled.has(def.name)) return;
        try {
          await run(def, 'schedule');
        } catch (err) {
          log.error({ err, job: def.name }, 'scheduled job could not run');
        }
      },
      // noOverlap: a tick while the previous run of this job is still going is skipped here;
      // the lease does the same across processes.
      { name: `lotgate:${def.name}:${holder}`, timezone: s.timezone, noOverlap: true, logger: cronLogger(log) },
    );
    tasks.push(task);
    listed.push({ name: def.name, schedule: s.schedule, timezone: s.timezone, nextRun: task.getNextRun()?.toISOString() ?? null });
  }
  const wake = startOutboxWake(deps, opts, listed, log, async (def) => {
    // After the tick's run of the job (it may have claimed before the message was stored).
    for (let p = scheduled.get(def.name); p; p = scheduled.get(def.name)) await p.catch(() => undefined);
    if (stopping.signal.aborted) return;
    await run(def, 'schedule');
  });
  log.info({ jobs: listed.map((j) => j.name), holder, ...(wake ? { outboxWake: wake.job } : {}) }, 'scheduler started');

  return {
    jobs: listed,
    banner: [
      `  scheduler  ${listed.length ? listed.map((j) => `${j.name} (${j.schedule})`).join(', ') : '(no jobs enabled)'}${listed[0] ? `, time zone ${listed[0].timezone}` : ''}`,
    ],
    runNow(name) {
      const def = defs.find((d) => d.name === name);
      if (!def) return Promise.reject(new Error(`unknown job ${name}`));
      return run(def, 'manual');
    },
    async stop() {
      // No new wake runs from here; one under way is stopped with the others below.
      const wakeStopped = wake?.stop();
      for (const t of tasks) await t.destroy();
      // Running jobs stop at their next safe point; their leases are released as they finish.
      stopping.abort(new Error('the scheduler is stopping'));
      await Promise.allSettled([...running]);
      await wakeStopped;
      log.info('scheduler stopped');
    },
  };
}

/** LISTEN on the outbox channel (PostgreSQL) and run the outbox job on a coalescing trigger. */
function startOutboxWake(
  deps: SchedulerDeps,
  opts: SchedulerOptions,
  listed: RunningScheduler['jobs'],
  log: Logger,
  runJobNow: (def: AnyJob) => Promise<void>,
): { job: string; stop(): Promise<void> } | null {
  if (opts.outboxWake === false || databaseKind(deps.config.store.url) !== 'postgres') return null;
  const def = opts.jobs.find((d) => d.wakeOnOutbox && listed.some((j) => j.name === d.name));
  if (!def) return null;
  const name = def.name;
  const trigger: CoalescingTrigger = coalescingTrigger(() => runJobNow(def), {
    delayMs: opts.outboxWake?.delayMs,
    onError: (err) => log.error({ err, job: name }, 'job woken by the outbox could not run'),
  });
  const url = deps.config.store.url;
  const listener: Closable = keepListening((onError) => listenOutbox(url, () => trigger.poke(), { onError }), () => trigger.poke(), {
    log,
    backoffMs: opts.outboxWake?.backoffMs,
  });
  return {
    job: name,
    async stop() {
      const ended = trigger.stop(); // stops at once; resolves when a run under way has ended
      await listener.close();
      await ended;
    },
  };
}

function cronLogger(log: Logger) {
  return {
    info: (m: string) => log.debug(m),
    // A tick while the job still runs is routine for a slow job (the tick is skipped): not a warning.
    warn: (m: string) => (m.includes('overlap') ? log.debug(m) : log.warn(m)),
    error: (m: string | Error, err?: Error) => log.error({ err: err ?? m }, typeof m === 'string' ? m : m.message),
    debug: (m: string | Error) => log.debug(typeof m === 'string' ? m : m.message),
  };
}
