// The `jobs:` section of config.yaml: when each job runs (cron expression + IANA time zone),
// whether it runs at all, its lease, and the job's own options. Validated as a whole so an
// operator sees every mistake at once, with paths like `jobs.push.schedule`.

import { Ajv } from 'ajv';
import { IANAZone } from 'luxon';
import cron from 'node-cron';
import type { ConfigProblem } from '../outbound/errors.js';
import { schemaProblem } from '../outbound/schema-problems.js';
import type { AnyJob } from './job.js';

export interface JobSettings<O = Record<string, unknown>> {
  name: string;
  enabled: boolean;
  schedule: string;
  timezone: string;
  /** How long a lease lasts without renewal: how soon another process takes over after a crash. */
  leaseSeconds: number;
  options: O;
}

export interface JobsConfig {
  timezone: string;
  leaseSeconds: number;
  jobs: Map<string, JobSettings>;
}

export const DEFAULT_LEASE_SECONDS = 120;

/** The machine's time zone: cron expressions mean local wall-clock time unless told otherwise. */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const COMMON = {
  enabled: { type: 'boolean' },
  schedule: { type: 'string', minLength: 1 },
  timezone: { type: 'string', minLength: 1 },
  leaseSeconds: { type: 'integer', minimum: 10 },
} as const;

export function checkCron(expr: string, where: string): ConfigProblem[] {
  const v = cron.validateDetailed(expr);
  if (v.valid) return [];
  const why = v.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return [{ code: 'E_CONFIG_INVALID', path: where, message: `not a valid cron expression ${JSON.stringify(expr)} (${why}); five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"` }];
}

export function checkZone(zone: string, where: string): ConfigProblem[] {
  return IANAZone.isValidZone(zone) ? [] : [{ code: 'E_CONFIG_INVALID', path: where, message: `unknown time zone ${JSON.stringify(zone)}; use an IANA name such as Europe/Berlin, America/New_York or UTC` }];
}

/**
 * The checks of the `jobs:` section a JSON Schema cannot make (cron expressions, time zones), for
 * the whole-configuration check that runs before anything starts.
 */
export function jobScheduleProblems(raw: Record<string, unknown>, defs: readonly AnyJob[], where = 'jobs'): ConfigProblem[] {
  const sec = raw.jobs;
  if (sec === null || typeof sec !== 'object' || Array.isArray(sec)) return [];
  const s = sec as Record<string, unknown>;
  const problems: ConfigProblem[] = [];
  if (typeof s.timezone === 'string') problems.push(...checkZone(s.timezone, `${where}.timezone`));
  for (const def of defs) {
    const e = s[def.name];
    if (e === null || typeof e !== 'object') continue;
    const { schedule, timezone } = e as Record<string, unknown>;
    if (typeof schedule === 'string') problems.push(...checkCron(schedule, `${where}.${def.name}.schedule`));
    if (typeof timezone === 'string') problems.push(...checkZone(timezone, `${where}.${def.name}.timezone`));
  }
  return problems;
}

export function parseJobsConfig(raw: unknown, defs: readonly AnyJob[], where = 'jobs', fallbackZone = systemTimeZone()): { config: JobsConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const section = raw === undefined || raw === null ? {} : raw;
  const out: JobsConfig = { timezone: fallbackZone, leaseSeconds: DEFAULT_LEASE_SECONDS, jobs: new Map() };
  if (typeof section !== 'object' || Array.isArray(section)) {
    problems.push({ code: 'E_CONFIG_INVALID', path: where, message: 'must be a map: timezone, leaseSeconds and one entry per job' });
    return { config: withDefaults(out, defs), problems };
  }
  const sec = section as Record<string, unknown>;
  const known = new Set(defs.map((d) => d.name));
  for (const key of Object.keys(sec)) {
    if (key === 'timezone' || key === 'leaseSeconds' || known.has(key)) continue;
    problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.${key}`, message: `unknown job "${key}"; known jobs: ${[...known].join(', ')} (or timezone, leaseSeconds)` });
  }
  if (sec.timezone !== undefined) {
    if (typeof sec.timezone !== 'string') problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.timezone`, message: 'must be an IANA time zone name' });
    else {
      problems.push(...checkZone(sec.timezone, `${where}.timezone`));
      out.timezone = sec.timezone;
    }
  }
  if (sec.leaseSeconds !== undefined) {
    if (!Number.isInteger(sec.leaseSeconds) || (sec.leaseSeconds as number) < 10) problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.leaseSeconds`, message: 'must be a whole number of seconds, at least 10' });
    else out.leaseSeconds = sec.leaseSeconds as number;
  }
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const def of defs) {
    const at = `${where}.${def.name}`;
    const entry = sec[def.name] ?? {};
    const validate = ajv.compile({ type: 'object', additionalProperties: false, properties: { ...COMMON, ...def.optionsSchema } });
    if (!validate(entry)) {
      problems.push(...(validate.errors ?? []).map((e) => schemaProblem(e, at)));
      out.jobs.set(def.name, settingsOf(def, {}, out));
      continue;
    }
    const e = entry as Record<string, unknown>;
    const s = settingsOf(def, e, out);
    problems.push(...checkCron(s.schedule, `${at}.schedule`));
    if (typeof e.timezone === 'string') problems.push(...checkZone(e.timezone, `${at}.timezone`));
    out.jobs.set(def.name, s);
  }
  return { config: out, problems };
}

function settingsOf(def: AnyJob, e: Record<string, unknown>, top: JobsConfig): JobSettings {
  const { enabled, schedule, timezone, leaseSeconds, ...rest } = e;
  return {
    name: def.name,
    enabled: enabled !== false,
    schedule: typeof schedule === 'string' ? schedule : def.defaultSchedule,
    timezone: typeof timezone === 'string' ? timezone : top.timezone,
    leaseSeconds: typeof leaseSeconds === 'number' ? leaseSeconds : top.leaseSeconds,
    options: { ...(def.defaults as Record<string, unknown>), ...rest },
  };
}

function withDefaults(out: JobsConfig, defs: readonly AnyJob[]): JobsConfig {
  for (const def of defs) out.jobs.set(def.name, settingsOf(def, {}, out));
  return out;
}

/** The next run times of a cron expression in a zone (none when it never fires). */
export function nextRuns(schedule: string, timezone: string, count = 1): Date[] {
  if (!cron.validate(schedule) || !IANAZone.isValidZone(timezone)) return [];
  // createTask registers the task in node-cron's process-wide list; destroy takes it out again.
  const task = cron.createTask(schedule, () => undefined, { timezone });
  try {
    return task.getNextRuns(count);
  } finally {
    void task.destroy();
  }
}
