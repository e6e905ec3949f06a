// GET /api/v1/audit: filters, cursor pages, and scope (a site-scoped auditor sees only events
// about its lots and submissions, never principals', outbox or other sites' events).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let h: Record<string, string>;
beforeAll(async () => {
  f = await apiFixture();
  await f.user('aud', [['auditor']]);
  const s = await f.login('aud');
  h = { cookie: s.cookie };
}, 120_000);
afterAll(() => f?.close());

const get = async (url: string, headers = h) => {
  const r = await f.app.inject({ method: 'GET', url, headers });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { items: { seq: number; at: string; actor: string; action: string; subject: string | null }[]; nextCursor: string | null };
};

describe('audit search', () => {
  it('pages newest first with a cursor, without gaps or overlaps', async () => {
    const all = await get('/api/v1/audit?limit=500');
    expect(all.items.length).toBeGreaterThan(12);
    const p1 = await get('/api/v1/audit?limit=5');
    const p2 = await get(`/api/v1/audit?limit=5&cursor=${p1.nextCursor}`);
    expect(p1.nextCursor).toBe(String(p1.items[4].seq));
    expect([...p1.items, ...p2.items].map((e) => e.seq)).toEqual(all.items.slice(0, 10).map((e) => e.seq));
    const seqs = all.items.map((e) => e.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
  });

  it('filters by action prefix, subject, actor and time', async () => {
    const lot = await get('/api/v1/audit?action=lot.&limit=500');
    expect(lot.items.length).toBeGreaterThan(0);
    expect(lot.items.every((e) => e.action.startsWith('lot.'))).toBe(true);
    const subject = lot.items[0].subject!;
    const bySubject = await get(`/api/v1/audit?subject=${encodeURIComponent(subject)}&limit=500`);
    expect(bySubject.items.length).toBeGreaterThan(0);
    expect(bySubject.items.every((e) => e.subject === subject)).toBe(true);
    const actor = lot.items[0].actor;
    expect((await get(`/api/v1/audit?actor=${encodeURIComponent(actor)}&limit=500`)).items.every((e) => e.actor === actor)).toBe(true);
    const all = (await get('/api/v1/audit?limit=500')).items;
    const mid = all[Math.floor(all.length / 2)].at;
    const after = (await get(`/api/v1/audit?from=${encodeURIComponent(mid)}&limit=500`)).items;
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.at >= mid)).toBe(true);
    expect(after.length).toBeLessThan(all.length + 1);
    expect((await get('/api/v1/audit?to=2000-01-01T00:00:00Z')).items).toEqual([]);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/audit?from=yesterday', headers: h })).statusCode).toBe(400);
  });

  it('a site-scoped auditor sees only events about lots and submissions in its scope', async () => {
    await f.user('aud2000', [['auditor', { sites: ['2000'] }]]);
    const s = await f.login('aud2000');
    const mine = (await get('/api/v1/audit?limit=500', { cookie: s.cookie })).items;
    const store = f.inst.lg.store;
    const in2000: string[] = [];
    for (const id of await store.reads.lotIdsByNumberInScope('all', 'NW26-0421')) {
      const l = (await store.masterdata.getLotRow(id))!;
      in2000.push(`lot:${l.materialId}/${l.lotNumber}`);
    }
    const other: string[] = [];
    for (const id of await store.reads.lotIdsByNumberInScope('all', 'NW26-0411')) {
      const l = (await store.masterdata.getLotRow(id))!;
      other.push(`lot:${l.materialId}/${l.lotNumber}`);
    }
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.some((e) => in2000.includes(e.subject!))).toBe(true);
    expect(mine.some((e) => other.includes(e.subject!))).toBe(false);
    expect(mine.every((e) => /^(lot|submission):/.test(e.subject ?? ''))).toBe(true);
    for (const e of mine.filter((x) => x.subject!.startsWith('lot:'))) expect(in2000).toContain(e.subject);
    // The unscoped auditor sees the other site's and the principals' events.
    const all = (await get('/api/v1/audit?limit=500')).items;
    expect(all.some((e) => other.includes(e.subject!))).toBe(true);
    expect(all.some((e) => e.subject?.startsWith('principal:'))).toBe(true);
    // Subject filters do not bypass the scope.
    expect((await get(`/api/v1/audit?subject=${encodeURIComponent(other[0])}`, { cookie: s.cookie })).items).toEqual([]);
  });

  it('admin may search; receiving may not; anonymous 401', async () => {
    await f.user('adm', [['admin']]);
    const a = await f.login('adm');
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/audit?limit=1', headers: { cookie: a.cookie } })).statusCode).toBe(200);
    await f.user('recv', [['receiving']]);
    const r = await f.login('recv');
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/audit', headers: { cookie: r.cookie } })).statusCode).toBe(403);
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/audit' })).statusCode).toBe(401);
  });
});
