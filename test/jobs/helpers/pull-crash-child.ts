// Child process for the pull crash test: runs the pull job once and kills itself (SIGKILL, no
// clean-up of any kind) at a named point — after cutting the downloaded temp file to half its
// size, as a download interrupted half-way leaves it.
//   node --import test/scheduler/helpers/ts-register.mjs test/jobs/helpers/pull-crash-child.ts <config.yaml> <crash point>

import { truncateSync, statSync } from 'node:fs';
import { pino } from 'pino';
import { loadConfig } from '../../../pipeline/config/config.js';
import { findJob, JOBS } from '../../../jobs/index.js';
import { runJob } from '../../../pipeline/scheduler/runner.js';
import { loadJobsConfig } from '../../../pipeline/scheduler/scheduler.js';

const [configPath, point] = process.argv.slice(2);
const config = loadConfig({ configPath, env: {} });
const job = findJob('pull')!;
await runJob(job, loadJobsConfig(config, JOBS).jobs.get('pull')!, {
  config,
  env: {},
  log: pino({ level: 'silent' }),
  services: {
    crashPoint: (name, info) => {
      if (name !== point) return;
      if (typeof info.tmp === 'string') truncateSync(info.tmp, Math.floor(statSync(info.tmp).size / 2));
      process.stdout.write(`crashing at ${name}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  },
});
process.stdout.write('finished without crashing\n');
