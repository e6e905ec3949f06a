// `lotgate status`: what the servers are doing, read from the outside — Redis (queue counts) and
// the store (ledger, store health; SQLite or PostgreSQL) — so it works while they run in other processes.

import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { loadPartners } from '../config/partners.js';
import { IngestQueues, type QueueCounts } from '../queue/ingest-queues.js';
import { queueSettings } from '../queue/settings.js';
import { openStore, type OpenStore } from '../store/store.js';
import type { StoreHealth, SubmissionRow } from '../store/types.js';
import { databaseKind, sqlitePath } from '../store/url.js';
import { pingRedis, redactUrl, type RedisSource } from './redis.js';
import { privateRedisRunning } from './private-redis.js';

export interface RedisStatus {
  reachable: boolean;
  url: string | null;
  source: RedisSource | null;
  version?: string;
  latencyMs?: number;
  error?: string;
}

export interface StatusReport {
  at: string;
  dataDir: string;
  redis: RedisStatus;
  queuePrefix: string;
  queues: ({ partner: string } & QueueCounts)[];
  recent: Pick<SubmissionRow, 'id' | 'partner' | 'originalName' | 'state' | 'rows' | 'applied' | 'rejected' | 'receivedAt' | 'finishedAt' | 'errorCode'>[];
  unfinished: number;
  store: StoreHealth | { ok: false; path: string; error: string };
}

/** The Redis the servers of this data dir use, found the way `lotgate start` finds it, without starting one. */
export async function findRedis(config: LotgateConfig, env: NodeJS.ProcessEnv): Promise<RedisStatus & { connectUrl?: string }> {
  const candidates: { url: string; source: RedisSource }[] = [];
  if (env.REDIS_URL) candidates.push({ url: env.REDIS_URL, source: 'env' });
  else {
    if (config.redis.url) candidates.push({ url: config.redis.url, source: 'config' });
    const priv = privateRedisRunning(config.dataDir);
    if (priv) candidates.push({ url: priv.url, source: 'private' });
  }
  let last: RedisStatus = { reachable: false, url: null, source: null, error: 'no Redis configured and no private redis-server running for this data dir' };
  for (const c of candidates) {
    const r = await pingRedis(c.url, 1000);
    if (r.ok) return { reachable: true, url: redactUrl(c.url), source: c.source, version: r.version, latencyMs: r.latencyMs, connectUrl: c.url };
    last = { reachable: false, url: redactUrl(c.url), source: c.source, error: r.error };
  }
  return last;
}

export async function collectStatus(config: LotgateConfig, env: NodeJS.ProcessEnv = process.env): Promise<StatusReport> {
  const settings = queueSettings(config, env);
  const url = config.store.url;
  const sqlite = databaseKind(url) === 'sqlite';
  const dbPath = sqlite ? sqlitePath(url) : redactUrl(url, 'postgres://…');
  let store: StatusReport['store'];
  let recent: StatusReport['recent'] = [];
  let unfinished = 0;
  let partners: string[] = [];
  try {
    partners = [...loadPartners(config.partnersDir).keys()];
  } catch {
    // Broken partner files are reported by `lotgate start`; status still shows what it can.
  }
  if (sqlite && !existsSync(dbPath)) {
    // Not created just to report on it.
    store = { ok: false, path: dbPath, error: 'no store yet (nothing was ever received with this data dir)' };
  } else {
    let s: OpenStore | null = null;
    try {
      // A reader: PostgreSQL's schema is left as it is (health reports a version behind).
      s = await openStore(url, { migrate: false });
      store = await s.health();
      recent = (await s.ledger.listSubmissions({ limit: 10 })).map((r) => ({
        id: r.id,
        partner: r.partner,
        originalName: r.originalName,
        state: r.state,
        rows: r.rows,
        applied: r.applied,
        rejected: r.rejected,
        receivedAt: r.receivedAt,
        finishedAt: r.finishedAt,
        errorCode: r.errorCode,
      }));
      unfinished = (await s.ledger.listUnfinishedSubmissions()).length;
    } catch (err) {
      store = { ok: false, path: dbPath, error: (err as Error).message };
    } finally {
      await s?.close();
    }
  }

  const { connectUrl, ...redis } = await findRedis(config, env);
  const queues: StatusReport['queues'] = [];
  if (connectUrl) {
    const conn = new Redis(connectUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    conn.on('error', () => {});
    const q = new IngestQueues(conn, settings, pino({ level: 'silent' }));
    try {
      const all = [...new Set([...partners, ...(await q.knownPartners())])].sort();
      for (const partner of all) queues.push({ partner, ...(await q.counts(partner)) });
    } catch (err) {
      redis.error = (err as Error).message;
    } finally {
      await q.close();
      conn.disconnect();
    }
  }
  return { at: new Date().toISOString(), dataDir: config.dataDir, redis, queuePrefix: settings.prefix, queues, recent, unfinished, store };
}
