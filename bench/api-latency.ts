// Latency of the HTTP API on loopback: GET /api/v1/lots (50 per page, walking the cursor, and
// with a filter) and GET /api/v1/lots/{id}, over a store of N lots (default 10 000), as a
// service-token client and as a site-scoped one. Prints p50/p95/p99 in milliseconds.
//   node dist/bench/api-latency.js [--lots 10000] [--requests 500]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { buildApi } from '../pipeline/api/app.js';
import { AuthService } from '../pipeline/auth/service.js';
import { loadConfig } from '../pipeline/config/config.js';
import type { ReadinessState } from '../pipeline/model/types.js';
import { Store } from '../pipeline/store/store.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LOTS = arg('lots', 10_000);
const REQUESTS = arg('requests', 500);
const STATES: ReadinessState[] = ['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED'];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotgate-api-bench-'));
  try {
    const config = loadConfig({ configPath: path.resolve('config.yaml'), dataDir: dir, env: {} });
    const store = Store.open(path.join(dir, 'lotgate.db'));
    const prov = { submissionId: null, partner: 'erp' };
    const at = new Date().toISOString();
    store.transaction(() => {
      for (let m = 0; m < 50; m++) store.upsertMaterial({ materialId: `MAT-${m}`, description: `Material ${m}`, productFamily: m % 2 ? 'oral-solid' : 'sterile-injectable' }, prov);
      for (let i = 0; i < LOTS; i++) {
        const { lotId } = store.upsertLot(`MAT-${i % 50}`, `L${String(i).padStart(6, '0')}`, { site: String(1000 + (i % 4)), vendor: `cmo-${i % 7}`, expiryDate: '2028-01-01' }, prov);
        const state = STATES[i % 4];
        store.saveReadiness(lotId, { state, late: i % 5 === 0, reasons: state === 'READY' ? [] : [{ code: 'R_STAGE_INCOMPLETE', severity: state === 'BLOCKED' ? 'BLOCKED' : 'NOT_READY', message: 'stage packaging not completed', evidence: [{ kind: 'stage', ref: 'packaging' }] }] }, at);
      }
    });
    const auth = new AuthService(store, config);
    const all = auth.createToken({ name: 'bench', days: 1 }, 'bench').token;
    const scoped = auth.createToken({ name: 'bench-site', days: 1, scope: { sites: ['1001'], materials: '*', partners: '*' } }, 'bench').token;
    const app = await buildApi({ config, store, auth, partners: () => new Map(), now: () => new Date(), log: pino({ level: 'silent' }) });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });

    async function time(label: string, token: string, urls: () => string) {
      const ms: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const url = urls();
        const t0 = performance.now();
        const res = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        ms.push(performance.now() - t0);
        if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      }
      console.log(`${label.padEnd(48)} p50 ${pct(ms, 50).toFixed(2)} ms  p95 ${pct(ms, 95).toFixed(2)} ms  p99 ${pct(ms, 99).toFixed(2)} ms`);
    }

    let cursor: string | null = null;
    const page = (extra: string) => async () => {
      const url = `/api/v1/lots?limit=50${extra}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      return url;
    };
    // Walk the cursor: each request asks for the page after the previous one.
    const walk = async (label: string, token: string, extra: string) => {
      cursor = null;
      const ms: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const url = await page(extra)();
        const t0 = performance.now();
        const res = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { nextCursor: string | null };
        ms.push(performance.now() - t0);
        cursor = body.nextCursor;
      }
      console.log(`${label.padEnd(48)} p50 ${pct(ms, 50).toFixed(2)} ms  p95 ${pct(ms, 95).toFixed(2)} ms  p99 ${pct(ms, 99).toFixed(2)} ms`);
    };
    console.log(`lotgate API latency: ${LOTS} lots, ${REQUESTS} sequential requests each, loopback HTTP`);
    await walk('GET /api/v1/lots (50/page, cursor walk)', all, '');
    await walk('GET /api/v1/lots?readiness=BLOCKED (50/page)', all, '&readiness=BLOCKED');
    await walk('GET /api/v1/lots (site-scoped token)', scoped, '');
    const ids = store.listAllLotIds();
    let k = 0;
    await time('GET /api/v1/lots/{id}', all, () => `/api/v1/lots/${ids[(k += 7919) % ids.length]}`);
    await app.close();
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
