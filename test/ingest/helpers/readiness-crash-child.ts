// Child process for the readiness crash test: ingests one file and kills itself (SIGKILL, no
// clean-up of any kind) at the `readiness` crash point — after the file's commit and its
// acknowledgment, before the touched lots are recomputed.
//   node --import test/scheduler/helpers/ts-register.mjs test/ingest/helpers/readiness-crash-child.ts <config.yaml> <partner> <file>

import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../../pipeline/config/config.js';
import type { IngestDeps } from '../../../pipeline/ingest/deps.js';
import { processSubmission } from '../../../pipeline/ingest/process-submission.js';
import { registerFile } from '../../../pipeline/intake/register-file.js';
import { createLotgate } from '../../../pipeline/lotgate.js';

const [configPath, partner, file] = process.argv.slice(2);
const lg = await createLotgate(loadConfig({ configPath, env: {} }), { log: pino({ level: 'silent' }) });
const id = await registerFile(lg, { partner, path: file, name: path.basename(file), source: 'cli', removeSource: false });
const deps: IngestDeps = {
  ...lg,
  crashPoint: (name) => {
    if (name !== 'readiness') return;
    process.stdout.write(`crashing at ${name} of submission ${id}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
};
await processSubmission(deps, id);
process.stdout.write('finished without crashing\n');
