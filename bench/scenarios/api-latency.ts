// Scenario 7 (`--only api`) — latency of the HTTP API on loopback: GET /api/v1/lots (50 per page,
// walking the cursor; with a readiness filter; as a site-scoped token) and GET /api/v1/lots/{id},
// over a store of 10 000 lots (2 000 in quick mode), sequential requests with a service token.
// The store is seeded directly (untimed); the API is the real Fastify instance on a real socket.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { buildApi } from '../../pipeline/api/app.js';
import { AuthService } from '../../pipeline/auth/service.js';
import { loadConfig } from '../../pipeline/config/config.js';
import type { ReadinessState } from '../../pipeline/model/types.js';
import { openStore } from '../../pipeline/store/store.js';
import type { BenchContext, ScenarioResult } from '../lib/context.js';
import { REPO_ROOT } from '../lib/paths.js';
import { median, percentile } from '../lib/stats.js';

/** p95 of a list page and of a lot detail, interactive use (lotgate's own target). */
export const API_P95_TARGET_MS = 100;
const STATES: ReadinessState[] = ['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED'];

export interface LatencyLine {
  label: string;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Seeds `lots` lots into a store under `dir`, serves the API on loopback, and times the requests. */
export async function measureApiLatency(dir: string, lots: number, requests: number, log: (l: string) => void): Promise<LatencyLine[]> {
  mkdirSync(dir, { recursive: true });
  const config = loadConfig({ configPath: path.join(REPO_ROOT, 'config.yaml'), dataDir: dir, env: {} });
  const store = await openStore(path.join(dir, 'lotgate.db'));
  const prov = { submissionId: null, partner: 'erp' };
  const at = new Date().toISOString();
  await store.transaction(async (tx) => {
    for (let m = 0; m < 50; m++) await tx.masterdata.upsertMaterial({ materialId: `MAT-${m}`, description: `Material ${m}`, productFamily: m % 2 ? 'oral-solid' : 'sterile-injectable' }, prov);
    for (let i = 0; i < lots; i++) {
      const { lotId } = await tx.masterdata.upsertLot(`MAT-${i % 50}`, `L${String(i).padStart(6, '0')}`, { site: String(1000 + (i % 4)), vendor: `cmo-${i % 7}`, expiryDate: '2028-01-01' }, prov);
      const state = STATES[i % 4];
      await tx.readiness.saveReadiness(
        lotId,
        { state, late: i % 5 === 0, reasons: state === 'READY' ? [] : [{ code: 'R_STAGE_INCOMPLETE', severity: state === 'BLOCKED' ? 'BLOCKED' : 'NOT_READY', message: 'stage packaging not completed', evidence: [{ kind: 'stage', ref: 'packaging' }] }] },
        at,
      );
    }
  });
  const auth = new AuthService(store, config);
  const all = (await auth.createToken({ name: 'bench', days: 1 }, 'bench')).token;
  const scoped = (await auth.createToken({ name: 'bench-site', days: 1, scope: { sites: ['1001'], materials: '*', partners: '*' } }, 'bench')).token;
  const app = await buildApi({ config, store, auth, partners: () => new Map(), now: () => new Date(), log: pino({ level: 'silent' }) });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const out: LatencyLine[] = [];
  const report = (label: string, ms: number[]) => {
    const line = { label, requests: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99) };
    out.push(line);
    log(`  ${label.padEnd(46)} p50 ${line.p50.toFixed(2)} ms  p95 ${line.p95.toFixed(2)} ms  p99 ${line.p99.toFixed(2)} ms`);
  };
  const get = async (token: string, url: string) => {
    const t0 = performance.now();
    const res = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { nextCursor?: string | null };
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`);
    return { ms, body };
  };
  try {
    // Walk the cursor: each request asks for the page after the previous one (from the start again at the end).
    const walk = async (label: string, token: string, extra: string) => {
      let cursor: string | null = null;
      const ms: number[] = [];
      for (let i = 0; i < requests; i++) {
        const r = await get(token, `/api/v1/lots?limit=50${extra}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        ms.push(r.ms);
        cursor = r.body.nextCursor ?? null;
      }
      report(label, ms);
    };
    await get(all, '/api/v1/lots?limit=50'); // warm-up: statement cache, JIT
    await walk('GET /api/v1/lots (50/page, cursor walk)', all, '');
    await walk('GET /api/v1/lots?readiness=BLOCKED (50/page)', all, '&readiness=BLOCKED');
    await walk('GET /api/v1/lots (site-scoped token)', scoped, '');
    const ids = await store.readiness.listAllLotIds();
    const ms: number[] = [];
    for (let i = 0, k = 0; i < requests; i++) ms.push((await get(all, `/api/v1/lots/${ids[(k += 7919) % ids.length]}`)).ms);
    report('GET /api/v1/lots/{id}', ms);
  } finally {
    await app.close();
    await store.close();
  }
  return out;
}

export async function apiLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const lots = ctx.quick ? 2_000 : 10_000;
  const requests = ctx.quick ? 200 : 500;
  ctx.log(`  ${lots.toLocaleString('en-US')} lots, ${requests} sequential requests per line, service token, loopback HTTP`);
  const lines = await measureApiLatency(path.join(ctx.workDir, 'api'), lots, requests, ctx.log);
  const list = lines[0];
  const detail = lines[lines.length - 1];
  const met = list.p95 <= API_P95_TARGET_MS && detail.p95 <= API_P95_TARGET_MS;
  return {
    id: 7,
    name: 'api latency',
    workload: `${lots.toLocaleString('en-US')} lots, ${requests} requests per line`,
    lotgate: null,
    reference: null,
    ratio: null,
    target: `p95 ≤ ${API_P95_TARGET_MS} ms (list page, lot detail)`,
    met,
    outcome: `lots p50 ${list.p50.toFixed(1)} / p95 ${list.p95.toFixed(1)} ms; detail p50 ${detail.p50.toFixed(1)} / p95 ${detail.p95.toFixed(1)} ms`,
    notes: lines.map((l) => `${l.label}: p50 ${l.p50.toFixed(2)} ms, p95 ${l.p95.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms`),
    details: { lots, requests, lines, medianP50Ms: median(lines.map((l) => l.p50)) },
  };
}
