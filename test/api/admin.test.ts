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
    expect(f.inst.lg.store.listAudit({ action: 'auth.user.disabled' })[0].actor).toMatch(/^principal:\d+$/);
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
