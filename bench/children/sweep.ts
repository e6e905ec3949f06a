// Child process of scenario 6: one readiness sweep over every lot of a store, timed from the
// first lot to the commit (start-up and store opening are not part of the sweep).
// Usage: node dist/bench/children/sweep.js <config.yaml> <dataDir> <now ISO> [batch]
// Prints {"lots":…, "changed":…, "seconds":…} on stdout.

import { loadConfig } from '../../pipeline/config/config.js';
import { createLogger, createLotgate } from '../../pipeline/lotgate.js';
import { recomputeReadiness } from '../../pipeline/readiness/recompute.js';

const [configPath, dataDir, nowIso, batchArg] = process.argv.slice(2);
if (!configPath || !dataDir || !nowIso) {
  process.stderr.write('usage: sweep.js <config.yaml> <dataDir> <now ISO> [batch]\n');
  process.exit(2);
}
const lg = createLotgate(loadConfig({ configPath, dataDir }), { log: createLogger('warn') });
try {
  const now = new Date(nowIso);
  // A nightly job commits in batches so the writer lock is never held for the whole sweep.
  const batch = Number(batchArg ?? 1000);
  const started = performance.now();
  const ids = lg.store.listAllLotIds();
  let lots = 0;
  let changed = 0;
  for (let i = 0; i < ids.length; i += batch) {
    const slice = ids.slice(i, i + batch);
    const s = lg.store.transaction(() => recomputeReadiness(lg, slice, now, 'job:readiness-sweep'));
    lots += s.lots;
    changed += s.changed;
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ lots, changed, seconds }) + '\n');
} finally {
  lg.close();
}
