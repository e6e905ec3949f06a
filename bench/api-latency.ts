// Latency of the HTTP API on loopback, standalone (the same measurement as `npm run bench --
// --only api`, scenario 7 in bench/run.ts): GET /api/v1/lots (50 per page, walking the cursor,
// with a filter, as a site-scoped token) and GET /api/v1/lots/{id}, over N lots (default 10 000).
//   node dist/bench/api-latency.js [--lots 10000] [--requests 500]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureApiLatency } from './scenarios/api-latency.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LOTS = arg('lots', 10_000);
const REQUESTS = arg('requests', 500);

const dir = mkdtempSync(path.join(tmpdir(), 'lotgate-api-bench-'));
try {
  console.log(`lotgate API latency: ${LOTS} lots, ${REQUESTS} sequential requests each, loopback HTTP`);
  await measureApiLatency(dir, LOTS, REQUESTS, (l) => console.log(l));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
