// Every scheduled job lotgate knows, in the order `lotgate job list` shows them. Each job lives in
// jobs/<name>.ts (its helpers in jobs/<name>-*.ts); the scheduler (pipeline/scheduler/) only runs
// the list it is given. The composition root (pipeline/cli) hands this list to the scheduler role,
// the job commands and the configuration schema.

import type { AnyJob } from '../pipeline/scheduler/job.js';
import { auditAnchorJob } from './audit-anchor.js';
import { digestJob } from './digest.js';
import { notifyJob } from './notify.js';
import { pullJob } from './pull.js';
import { pushJob } from './push.js';
import { readinessSweepJob } from './readiness-sweep.js';

export const JOBS: readonly AnyJob[] = [readinessSweepJob, pushJob, pullJob, notifyJob, digestJob, auditAnchorJob];

export function findJob(name: string, jobs: readonly AnyJob[] = JOBS): AnyJob | undefined {
  return jobs.find((j) => j.name === name);
}
