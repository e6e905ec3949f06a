// Child process: applies one submission from the ledger (what a queue worker does) and prints
// the resulting state.
//   node --import test/scheduler/helpers/ts-register.mjs test/jobs/helpers/process-child.ts <config.yaml> <submission id>

import { pino } from 'pino';
import { loadConfig } from '../../../pipeline/config/config.js';
import { processSubmission } from '../../../pipeline/ingest/process-submission.js';
import { createLotgate } from '../../../pipeline/lotgate.js';

const [configPath, id] = process.argv.slice(2);
const lg = await createLotgate(loadConfig({ configPath, env: {} }), { log: pino({ level: 'silent' }) });
try {
  const r = await processSubmission(lg, Number(id));
  process.stdout.write(`${JSON.stringify({ state: r.state })}\n`);
} finally {
  await lg.close();
}
