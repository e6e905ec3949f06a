// Every route: documented in the OpenAPI document, anonymous → 401, a role without the
// permission → 403 (audited); login, cookies, CSRF, TOTP enrolment, rate limit.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../../pipeline/api/app.js';
import { totpCode } from '../../pipeline/auth/totp.js';
import { apiFixture, PW, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let lotId: number;
let subId: number;
beforeAll(async () => {
  f = await apiFixture({ api: { loginRateLimit: { max: 1000, timeWindow: 60_000 } } });
  await f.user('recv', [['receiving']]);
  await f.user('admin', [['admin']]);
  lotId = (await f.inst.lg.store.reads.lotIdsByNumberInScope('all', 'NW26-0411'))[0];
  subId = (await f.inst.lg.store.ledger.listSubmissions({ limit: 1 }))[0].id;
}, 120_000);
afterAll(() => f?.close());

// Route → a concrete request and the permission it needs (null: any authenticated principal).
const PUBLIC = new Set(['POST /api/v1/auth/login', 'POST /api/v1/auth/password', 'GET /livez', 'GET /readyz', 'GET /metrics']);
function requestOf(method: string, url: string) {
  return { method: method as 'GET', url: url.replace(':lotId', String(lotId)).replace(':id', String(subId)).replace(':username', 'recv').replace(':partner', 'acme-cmo').replace(':name', 'digest') + (url.endsWith('/provenance') ? `?submission=${subId}` : '') };
}
// Which of our two principals lacks the permission of each route (receiving: lots only; admin: no lots).
const LACKS: Record<string, 'recv' | 'admin' | 'partner' | null> = {
  'GET /api/v1/lots': 'admin',
  'GET /api/v1/lots/:lotId': 'admin',
  'GET /api/v1/lots/:lotId/provenance': 'admin',
  'GET /api/v1/lots/:lotId/timeline': 'admin',
  'POST /api/v1/lots/:lotId/disposition/challenge': 'recv',
  'POST /api/v1/lots/:lotId/disposition': 'admin',
  'GET /api/v1/submissions': 'recv',
  'GET /api/v1/submissions/:id': 'recv',
  'GET /api/v1/submissions/:id/ack': 'recv',
  'GET /api/v1/submissions/:id/raw': 'recv',
  'POST /api/v1/submissions/:id/replay': 'recv',
  'POST /api/v1/submissions': 'recv',
  'GET /api/v1/status': 'partner',
  'GET /api/v1/partners': 'recv',
  'GET /api/v1/jobs': 'recv',
  'GET /api/v1/audit/verify': 'recv',
  'GET /api/v1/audit/head': 'recv',
  'GET /api/v1/access-review': 'recv',
  'POST /api/v1/submissions/:id/review/challenge': 'recv',
  'POST /api/v1/submissions/:id/review': 'recv',
  'POST /api/v1/mappings/:partner/test': 'recv',
  'POST /api/v1/jobs/:name/run': 'recv',
  'GET /api/v1/outbox': 'recv',
  'POST /api/v1/outbox/:id/retry': 'recv',
  'POST /api/v1/outbox/:id/hold': 'recv',
  'POST /api/v1/admin/partners': 'recv',
  'POST /api/v1/lots/:lotId/requests': 'recv',
  'GET /api/v1/audit': 'recv',
  'GET /api/v1/lots/:lotId/requests': 'admin',
  'POST /api/v1/admin/partners/:partner/mode': 'recv',
  'POST /api/v1/admin/partners/:partner/keys': 'recv',
  'DELETE /api/v1/admin/partners/:partner/keys': 'recv',
  'PUT /api/v1/admin/partners/:partner/password': 'recv',
  'POST /api/v1/outbox/:id/release': 'recv',
  'GET /api/v1/admin/users': 'recv',
  'POST /api/v1/admin/users': 'recv',
  'POST /api/v1/admin/users/:username/roles': 'recv',
  'POST /api/v1/admin/users/:username/state': 'recv',
  'POST /api/v1/admin/users/:username/reset': 'recv',
  'GET /api/v1/admin/users/:username/sessions': 'recv',
  'DELETE /api/v1/admin/users/:username/sessions': 'recv',
  'GET /api/v1/admin/tokens': 'recv',
  'POST /api/v1/admin/tokens': 'recv',
  'DELETE /api/v1/admin/tokens/:id': 'recv',
  'GET /api/v1/auth/session': null,
  'GET /api/v1/me/permissions': null,
  'GET /api/v1/lots/export.xlsx': 'admin',
  'GET /api/v1/lots/extras': 'admin',
  'POST /api/v1/submissions/check': 'recv',
  'GET /api/v1/portal/forms': 'recv',
  'POST /api/v1/portal/forms/:feed': 'recv',
  'GET /api/v1/mappings/:partner': 'recv',
  'GET /api/v1/me/sessions': null,
  'POST /api/v1/me/sessions/:id/revoke': null,
  'GET /api/v1/auth/sessions': null,
  'POST /api/v1/auth/sessions/revoke-others': null,
  'POST /api/v1/auth/logout': null,
  'POST /api/v1/auth/totp/enrol': null,
  'POST /api/v1/auth/totp/confirm': null,
};

describe('OpenAPI', () => {
  it('documents every route, with request and response schemas', async () => {
    const res = await f.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const routes = routesOf(f.app).filter((r) => !r.hidden);
    expect(routes.length).toBeGreaterThan(20);
    for (const r of routes) {
      const p = r.url.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[p]?.[r.method.toLowerCase()], `${r.method} ${r.url} in openapi.json`).toBeDefined();
      expect(Object.keys(doc.paths[p][r.method.toLowerCase()].responses ?? {}).length, `${r.method} ${r.url} responses`).toBeGreaterThan(0);
    }
  });

  it('every route is in the permission table of this test', () => {
    for (const r of routesOf(f.app).filter((x) => !x.hidden)) {
      const key = `${r.method} ${r.url}`;
      expect(PUBLIC.has(key) || key in LACKS, `${key} has a row in LACKS`).toBe(true);
    }
  });
});

describe('every route: anonymous 401, wrong role 403', () => {
  it('answers 401 without a session or token, and with a bad token', async () => {
    for (const r of routesOf(f.app).filter((x) => !x.hidden && !PUBLIC.has(`${x.method} ${x.url}`))) {
      const res = await f.app.inject(requestOf(r.method, r.url));
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
      expect(res.json().error.code).toBe('E_API_UNAUTHENTICATED');
      const bad = await f.app.inject({ ...requestOf(r.method, r.url), headers: { authorization: 'Bearer lgt_nope' } });
      expect(bad.statusCode, `${r.method} ${r.url} bad token`).toBe(401);
    }
  });

  it('answers 403 to a principal whose roles lack the permission, and audits the denial', async () => {
    const t = await f.auth.createToken({ name: 'acme-403', partner: 'acme-cmo', days: 10 }, 'test');
    const sessions = { recv: await f.login('recv'), admin: await f.login('admin'), partner: { cookie: '', csrf: '' } };
    const before = (await f.inst.lg.store.audit.listAudit({ action: 'auth.denied', limit: 1000 })).length;
    let denied = 0;
    for (const r of routesOf(f.app).filter((x) => !x.hidden)) {
      const who = LACKS[`${r.method} ${r.url}`];
      if (!who) continue;
      const s = sessions[who];
      const headers: Record<string, string> = who === 'partner' ? { authorization: `Bearer ${t.token}` } : { cookie: s.cookie, 'x-csrf-token': s.csrf };
      const res = await f.app.inject({ ...requestOf(r.method, r.url), headers });
      expect(res.statusCode, `${r.method} ${r.url} as ${who}: ${res.body}`).toBe(403);
      denied++;
    }
    expect((await f.inst.lg.store.audit.listAudit({ action: 'auth.denied', limit: 1000 })).length - before).toBe(denied);
  });

  it('a partner token reaches only its own submissions', async () => {
    const t = await f.auth.createToken({ name: 'acme', partner: 'acme-cmo', days: 10 }, 'test');
    const h = { authorization: `Bearer ${t.token}` };
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: h })).statusCode).toBe(403);
    const list = (await f.app.inject({ method: 'GET', url: '/api/v1/submissions', headers: h })).json();
    expect(list.items.length).toBeGreaterThan(0);
    expect(new Set(list.items.map((s: any) => s.partner))).toEqual(new Set(['acme-cmo']));
    const erpSub = (await f.inst.lg.store.ledger.listSubmissions({ partner: 'erp', limit: 1 }))[0].id;
    expect((await f.app.inject({ method: 'GET', url: `/api/v1/submissions/${erpSub}`, headers: h })).statusCode).toBe(404);
    expect((await f.app.inject({ method: 'GET', url: `/api/v1/submissions/${erpSub}/ack`, headers: h })).statusCode).toBe(404);
  });
});

describe('login, cookies, CSRF, TOTP', () => {
  it('sets an HttpOnly SameSite=Strict cookie (Secure when TLS is configured) and helmet headers', async () => {
    const s = await f.login('recv');
    expect(s.setCookie).toMatch(/HttpOnly/);
    expect(s.setCookie).toMatch(/SameSite=Strict/);
    expect(s.setCookie).not.toMatch(/Secure/);
    f.inst.lg.config.http.secureCookies = true;
    try {
      expect((await f.login('recv')).setCookie).toMatch(/; Secure/);
    } finally {
      f.inst.lg.config.http.secureCookies = false;
    }
    const res = await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: { cookie: s.cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
  });

  it('refuses a state-changing cookie request without the CSRF token', async () => {
    const s = await f.login('recv');
    const res = await f.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('E_API_CSRF');
    const wrong = await f.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': 'x' + s.csrf } });
    expect(wrong.statusCode).toBe(403);
    const ok = await f.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
    expect(ok.statusCode).toBe(204);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: { cookie: s.cookie } })).statusCode).toBe(401);
  });

  it('lists your own sessions and ends the others', async () => {
    const a = await f.login('recv');
    const b = await f.login('recv');
    const list = (await f.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: b.cookie } })).json().items;
    expect(list.filter((x: any) => x.current)).toHaveLength(1);
    expect(JSON.stringify(list)).not.toMatch(/idHash|csrfToken/);
    const r = await f.app.inject({ method: 'POST', url: '/api/v1/auth/sessions/revoke-others', headers: { cookie: b.cookie, 'x-csrf-token': b.csrf } });
    expect(r.json().revoked).toBeGreaterThanOrEqual(1);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: a.cookie } })).statusCode).toBe(401);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: b.cookie } })).statusCode).toBe(200);
  });

  it('a user without TOTP must enrol before anything else; then gets recovery codes', async () => {
    await f.user('newbie', [['receiving']], { enrol: false });
    const res = await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'newbie', password: PW } });
    expect(res.json().stage).toBe('enrol');
    const h = { cookie: String(res.headers['set-cookie']).split(';')[0], 'x-csrf-token': res.json().csrfToken };
    const blocked = await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: h });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().error.code).toBe('E_API_TOTP_ENROLMENT');
    const { secret, otpauthUri } = (await f.app.inject({ method: 'POST', url: '/api/v1/auth/totp/enrol', headers: h })).json();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/lotgate:newbie\?secret=/);
    f.clock.now = new Date(f.clock.now.getTime() + 30_000);
    const conf = await f.app.inject({ method: 'POST', url: '/api/v1/auth/totp/confirm', headers: h, payload: { code: totpCode(secret, f.clock.now) } });
    expect(conf.statusCode).toBe(200);
    expect(conf.json().recoveryCodes).toHaveLength(10);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/lots', headers: h })).statusCode).toBe(200);
    // The same code again, at login: refused (replay).
    const again = await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'newbie', password: PW, totp: totpCode(secret, f.clock.now) } });
    expect(again.statusCode).toBe(401);
  });

  it('wrong answers are coded and do not say which part was wrong', async () => {
    const a = await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'recv', password: 'not the password' } });
    const b = await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody', password: 'not the password' } });
    expect(a.statusCode).toBe(401);
    expect(a.json()).toEqual(b.json());
    expect((await f.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'recv' } })).json().error.code).toBe('E_API_REQUEST');
  });
});

describe('rate limit', () => {
  it('limits login attempts per address', async () => {
    const g = await apiFixture({ story: false, api: { loginRateLimit: { max: 3, timeWindow: 60_000 } } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await g.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x', password: 'yyyyyyyyyyyy' } })).statusCode);
      expect(codes).toEqual([401, 401, 401, 429, 429]);
      const r = await g.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x', password: 'yyyyyyyyyyyy' } });
      expect(r.json().error.code).toBe('E_API_RATE_LIMIT');
    } finally {
      await g.close();
    }
  });
});
