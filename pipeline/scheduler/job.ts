// What a scheduled job is, and what it gets to work with. Jobs live in jobs/ (one file each,
// listed in jobs/index.ts); the runner (runner.ts) wraps every run in a lease, a run record and an
// audit event. Nothing in pipeline/scheduler/ imports a job.

import type { Logger } from 'pino';
import type { Lotgate } from '../lotgate.js';
import type { BuildOptions } from '../outbound/connectors/connectors.js';
import type { NotifyBuildOptions } from '../outbound/notify/channels.js';

/** Numbers (and a few words) a run reports: recorded with the run, shown by `lotgate job list`. */
export type JobCounts = Record<string, number | string | boolean | null>;

export interface JobResult {
  counts: JobCounts;
  /**
   * Things that went wrong without stopping the run (one partner's server down, one channel
   * failing). A run with problems is recorded as `error`, with these as its error text.
   */
  problems?: string[];
}

/**
 * The edges a job talks to, replaceable in tests (defaults: the real ones). A job that needs an
 * edge of its own adds it by declaration merging in its file (jobs/pull.ts: `pullClient`).
 */
export interface JobServices {
  fetch?: typeof fetch;
  mailTransport?: NotifyBuildOptions['mailTransport'];
  sftpClientFactory?: BuildOptions['sftpClientFactory'];
  random?: () => number;
  /**
   * Named points inside a job where a test may stop the process (crash simulation), e.g.
   * `pull:after-download`. Never set outside tests.
   */
  crashPoint?: (name: string, info: Record<string, unknown>) => void | Promise<void>;
}

export interface JobContext<O = Record<string, unknown>> {
  name: string;
  /** This run's own Lotgate (own store connection), closed when the run ends. */
  lg: Lotgate;
  options: O;
  /** The job's time zone (config): what "today" means for a daily job. */
  timezone: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  now: () => Date;
  /** Aborted when the lease is lost or the scheduler stops: stop at the next safe point. */
  signal: AbortSignal;
  /** Puts a pulled submission on its partner's queue; absent → the job processes it itself. */
  enqueue?: (partner: string, submissionId: number) => Promise<void>;
  /** Progress for a terminal (`lotgate job run` on a TTY). */
  progress?: (done: number, total: number) => void;
  services: JobServices;
}

export interface JobDefinition<O = Record<string, unknown>> {
  name: string;
  description: string;
  /** Cron expression used when config.yaml gives none. */
  defaultSchedule: string;
  /** JSON Schema properties of the job's own keys under `jobs.<name>` (besides schedule, timezone, enabled, leaseSeconds). */
  optionsSchema: Record<string, object>;
  defaults: O;
  run(ctx: JobContext<O>): Promise<JobResult>;
  /** Also run soon after the outbox gets a message (PostgreSQL's LISTEN/NOTIFY), besides the schedule. */
  wakeOnOutbox?: boolean;
}

// A list of jobs with different option types: the registry holds them with their options erased.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJob = JobDefinition<any>;

export function defineJob<O>(job: JobDefinition<O>): JobDefinition<O> {
  return job;
}

/** Throws the signal's reason when aborted: call between units of work. */
export function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
}
