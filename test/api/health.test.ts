// /livez, /readyz (named checks), /metrics (Prometheus), restricted by http.opsAllow.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../pipeline/api/app.js';
import { AuthService } from '../../pipeline/auth/service.js';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
beforeAll(async () => {
  f = await apiFixture();
}, 120_000);
afterAll(() => f?.close());

describe('health and metrics', () => {
  it('livez and readyz need no session; readyz names every check', async () => {
    expect((await f.app.inject({ method: 'GET', url: '/livez' })).json()).toEqual({ ok: true });
    const r = await f.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json().checks.map((c: any) => c.name)).toEqual(['store_writable', 'scheduler_leases']);
  });

  it('readyz answers 503 naming the failing check', async () => {
    const lg = f.inst.lg;
    const app = await buildApi({
      config: lg.config,
      store: lg.store,
      auth: new AuthService(lg.store, lg.config),
      partners: lg.partners,
      now: lg.now,
      log: lg.log,
      readiness: [{ name: 'redis', check: async () => ({ ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:1' }) }],
    });
    try {
      await lg.store.jobs.tryAcquireLease('digest', 'dead-host:1', 1000, new Date(f.clock.now.getTime() - 3600_000));
      const r = await app.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(503);
      const checks = Object.fromEntries(r.json().checks.map((c: any) => [c.name, c]));
      expect(checks.store_writable.ok).toBe(true);
      expect(checks.redis).toMatchObject({ ok: false, detail: expect.stringContaining('ECONNREFUSED') });
      expect(checks.scheduler_leases).toMatchObject({ ok: false, detail: expect.stringContaining('digest held by dead-host:1') });
    } finally {
      await lg.store.jobs.releaseLease('digest', 'dead-host:1');
      await app.close();
    }
  });

  it('metrics in Prometheus text: files per partner and state, rows, lots per state, failed logins', async () => {
    await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody', password: 'wrong wrong wrong' } });
    const r = await f.app.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    const m = r.body;
    const applied = (await f.inst.lg.store.ledger.listSubmissions({ partner: 'erp', state: 'applied', limit: 100 })).length;
    expect(m).toContain(`lotgate_files{partner="erp",state="applied"} ${applied}`);
    expect(m).toMatch(/lotgate_rows\{partner="erp",outcome="applied"\} \d+/);
    expect(m).toMatch(/lotgate_lots\{state="BLOCKED"\} 2/);
    expect(m).toMatch(/lotgate_logins_failed \d+/);
    expect(m).toContain('lotgate_audit_last_verified_timestamp_seconds 0');
  });

  it('http.opsAllow restricts health and metrics to listed addresses', async () => {
    const lg = f.inst.lg;
    const config = { ...lg.config, http: { ...lg.config.http, opsAllow: ['10.1.0.0/16'] } };
    const app = await buildApi({ config, store: lg.store, auth: new AuthService(lg.store, config), partners: lg.partners, now: lg.now, log: lg.log });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/livez', remoteAddress: '10.1.2.3' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
