// The admin API: users with one-time activation codes, roles, disable, sessions, tokens.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let h: Record<string, string>;
beforeAll(async () => {
  f = await apiFixture({ story: false });
  await f.user('admin', [['admin']]);
  const s = await f.login('admin');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
}, 120_000);
afterAll(() => f?.close());

const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, headers = h) => f.app.inject({ method, url, payload, headers });

describe('admin API', () => {
  it('adds a user with a one-time code the user spends on a password; roles and disable', async () => {
    const add = await call('POST', '/api/v1/admin/users', { username: 'alice', displayName: 'Alice Quality', role: 'qa', scope: { sites: ['1000'] } });
    expect(add.statusCode, add.body).toBe(201);
    const { activationCode } = add.json();
    expect((await call('POST', '/api/v1/admin/users', { username: 'alice', displayName: 'again' })).statusCode).toBe(409);
    const set = await f.app.inject({ method: 'POST', url: '/api/v1/auth/password', payload: { username: 'alice', code: activationCode, password: 'alice chose this one' } });
    expect(set.statusCode).toBe(204);
    const login = await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'alice', password: 'alice chose this one' } });
    expect(login.json()).toMatchObject({ stage: 'enrol', principal: { roles: [{ role: 'qa', scope: { sites: ['1000'], materials: '*', partners: '*' } }] } });
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    expect((await call('POST', '/api/v1/admin/users/alice/roles', { role: 'receiving' })).json()).toEqual({ granted: true });
    const sessions = (await call('GET', '/api/v1/admin/users/alice/sessions')).json().items;
    expect(sessions).toHaveLength(1);
    expect(JSON.stringify(sessions)).not.toMatch(/idHash|csrf/i);
    expect((await call('POST', '/api/v1/admin/users/alice/state', { disabled: true })).statusCode).toBe(200);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).statusCode).toBe(401);
    const list = (await call('GET', '/api/v1/admin/users')).json().items;
    expect(list.find((p: any) => p.username === 'alice')).toMatchObject({ disabled: true, roles: [{ role: 'qa' }, { role: 'receiving' }] });
    expect((await f.inst.lg.store.audit.listAudit({ action: 'auth.user.disabled' }))[0].actor).toMatch(/^principal:\d+$/);
  });

  it('creates, lists and revokes service tokens; the token is shown once', async () => {
    const c = await call('POST', '/api/v1/admin/tokens', { name: 'erp-reader', days: 30, role: 'integration' });
    expect(c.statusCode, c.body).toBe(201);
    const { id, token } = c.json();
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    const list = (await call('GET', '/api/v1/admin/tokens')).json().items;
    expect(JSON.stringify(list)).not.toContain(token);
    expect(list.find((t: any) => t.id === id)).toMatchObject({ name: 'erp-reader', lastUsedAt: expect.any(String) });
    expect((await call('DELETE', `/api/v1/admin/tokens/${id}`)).json()).toEqual({ id, revoked: true });
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
    expect((await call('POST', '/api/v1/admin/tokens', { name: 'forever', days: 100000 })).json().error.code).toBe('E_AUTH_TOKEN_EXPIRY');
  });

  it('a scoped admin binding is not enough, and an admin cannot read lots or sign', async () => {
    await f.user('siteadmin', [['admin', { sites: ['1000'] }]]);
    const s = await f.login('siteadmin');
    expect((await call('GET', '/api/v1/admin/users', undefined, { cookie: s.cookie })).statusCode).toBe(403);
    expect((await call('GET', '/api/v1/lots')).statusCode).toBe(403);
  });
});

describe('outbox API', () => {
  it('lists messages with deliveries for an unscoped ops user; retrying an unknown id is 404; a scoped user is refused', async () => {
    await f.user('ops1', [['ops']]);
    const s = await f.login('ops1');
    const hh = { cookie: s.cookie, 'x-csrf-token': s.csrf };
    const list = await call('GET', '/api/v1/outbox?limit=5', undefined, hh);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ items: expect.any(Array), counts: expect.objectContaining({ pending: expect.any(Number) }) });
    expect((await call('POST', '/api/v1/outbox/nope/retry', {}, hh)).statusCode).toBe(404);
    await f.user('ops1000', [['ops', { sites: ['1000'] }]]);
    const t = await f.login('ops1000');
    expect((await call('GET', '/api/v1/outbox', undefined, { cookie: t.cookie })).statusCode).toBe(403);
  });
});

describe('mapping test API', () => {
  it('dry-runs a sample for an analyst: records and row errors, nothing stored', async () => {
    await f.user('ana', [['analyst']]);
    const s = await f.login('ana');
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const sample = readFileSync(path.join(f.inst.work, 'fixtures', 'bravo-lab', 'LIMS_EXPORT_20261118_0200.csv'));
    const before = (await f.inst.lg.store.ledger.listSubmissions({ limit: 1000 })).length;
    const res = await f.app.inject({ method: 'POST', url: '/api/v1/mappings/bravo-lab/test?limit=3', payload: sample, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'text/csv', 'x-file-name': 'LIMS_EXPORT_20261118_0200.csv' } });
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json();
    expect(out.mapping.hash).toMatch(/^[0-9a-f]+$/);
    expect(out.records).toHaveLength(3);
    expect(out.errors.map((e: any) => e.code)).toContain('E_BAD_DATE');
    expect((await f.inst.lg.store.ledger.listSubmissions({ limit: 1000 })).length).toBe(before);
    const bad = await f.app.inject({ method: 'POST', url: '/api/v1/mappings/bravo-lab/test', payload: 'x', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'text/csv', 'x-file-name': 'unknown.txt' } });
    expect(bad.statusCode).toBe(422);
    expect((await f.app.inject({ method: 'POST', url: '/api/v1/mappings/nobody/test', payload: 'x', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'text/csv', 'x-file-name': 'a.csv' } })).statusCode).toBe(404);
  });
});

describe('jobs API', () => {
  it('runs a job now for unscoped ops; unknown jobs are 404', async () => {
    const s = await f.login('ops1');
    const hh = { cookie: s.cookie, 'x-csrf-token': s.csrf };
    const r = await call('POST', '/api/v1/jobs/readiness-sweep/run', {}, hh);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ status: 'ok', job: 'readiness-sweep' });
    expect((await call('POST', '/api/v1/jobs/nope/run', {}, hh)).statusCode).toBe(404);
    const runs = (await call('GET', '/api/v1/jobs', undefined, hh)).json().items;
    expect(runs[0]).toMatchObject({ name: 'readiness-sweep', status: 'ok' });
  });
});
