// Every scheduled job lotgate knows, in the order `lotgate job list` shows them.

import { auditAnchorJob } from '../../jobs/audit-anchor.js';
import { digestJob } from '../../jobs/digest.js';
import { notifyJob } from '../../jobs/notify.js';
import { pullJob } from '../../jobs/pull.js';
import { pushJob } from '../../jobs/push.js';
import { readinessSweepJob } from '../../jobs/readiness-sweep.js';
import type { AnyJob } from './job.js';

export const JOBS: readonly AnyJob[] = [readinessSweepJob, pushJob, pullJob, notifyJob, digestJob, auditAnchorJob];

export function findJob(name: string, jobs: readonly AnyJob[] = JOBS): AnyJob | undefined {
  return jobs.find((j) => j.name === name);
}
