// The `api` role of `lotgate start`: the HTTP API on http.host:http.port (LOTGATE_HTTP_PORT
// overrides), using this process's ledger writer and queues for partner submissions and
// replays, with /readyz checks for Redis and the drop zone.

import { connect } from 'node:net';
import { AuthService } from '../auth/service.js';
import type { RoleModule } from '../runtime/server.js';
import type { AnyJob } from '../scheduler/job.js';
import { buildApi } from './app.js';
import type { HealthCheck } from './context.js';
import { serverIntake } from './intake-bridge.js';

function tcpCheck(name: string, host: string, port: number): HealthCheck {
  return {
    name,
    check: () =>
      new Promise((resolve) => {
        const s = connect({ host: host === '0.0.0.0' ? '127.0.0.1' : host, port });
        const done = (ok: boolean, detail?: string) => {
          s.destroy();
          resolve({ ok, detail });
        };
        s.setTimeout(2000, () => done(false, `no answer from ${host}:${port} within 2 s`));
        s.once('connect', () => done(true));
        s.once('error', (err) => done(false, `${host}:${port}: ${err.message}`));
      }),
  };
}

/** The api role, with the scheduled jobs it may run on request (jobs/index.ts, from the composition root). */
export const apiRole = (jobs: readonly AnyJob[]): RoleModule => ({
  name: 'api',
  async start(ctx) {
    const { config, lg, log } = ctx;
    const readiness: HealthCheck[] = [
      {
        name: 'redis',
        check: async () => {
          const { Redis } = await import('ioredis');
          const r = new Redis(ctx.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
          r.on('error', () => {});
          try {
            await r.connect();
            await r.ping();
            return { ok: true };
          } catch (err) {
            return { ok: false, detail: (err as Error).message };
          } finally {
            r.disconnect();
          }
        },
      },
    ];
    const sftp = ctx.server?.sftp;
    if (sftp) readiness.push(tcpCheck('drop_zone', sftp.host, sftp.port));
    const app = await buildApi(
      {
        config,
        store: lg.store,
        auth: new AuthService(lg.store, config, lg.now),
        partners: lg.partners,
        now: lg.now,
        log,
        ingest: lg,
        intake: serverIntake({ store: lg.store, ledger: ctx.ledger, enqueue: (p, id) => ctx.queues.enqueue(p, id), log }),
        readiness,
        jobs,
        queueStats: async () => {
          const partners = [...new Set([...lg.partners().keys(), ...(await ctx.queues.knownPartners().catch(() => []))])];
          const now = lg.now().getTime();
          return Promise.all(
            partners.map(async (partner) => {
              const c = await ctx.queues.counts(partner);
              const [oldest] = await ctx.queues.queue(partner).getJobs(['waiting'], 0, 0, true);
              return { partner, waiting: c.waiting, oldestWaitingMs: oldest ? now - oldest.timestamp : null };
            }),
          );
        },
      },
      { logger: false },
    );
    const address = await app.listen({ host: config.http.host, port: config.http.port });
    const url = new URL(address);
    const shown = `${url.protocol}//${config.http.host === '0.0.0.0' ? 'localhost' : url.hostname}:${url.port}`;
    if (ctx.server) ctx.server.http = { url: shown };
    log.info({ url: address }, 'HTTP API listening');
    return {
      banner: [`  http api   ${shown}/api/v1  (OpenAPI: ${shown}/api/v1/openapi.json, health: /livez /readyz /metrics)`],
      stop: () => app.close(),
    };
  },
});
