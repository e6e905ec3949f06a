// A user scoped to site 1000 learns nothing about site 2000's lot (NW26-0421) through any
// route: lists, counts, CSV, detail, provenance, timeline, submissions, raw, acks, status,
// and "not found" answers identical to those for things that do not exist.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let h: Record<string, string>;
let hAll: Record<string, string>;
let otherLot: number;
let ownLot: number;
let otherSubs: number[];
const SECRET = 'NW26-0421';

beforeAll(async () => {
  f = await apiFixture();
  await f.user('site1000', [['qa', { sites: ['1000'] }], ['auditor', { sites: ['1000'] }], ['ops', { sites: ['1000'] }]]);
  await f.user('everything', [['qa'], ['auditor'], ['ops']]);
  const s = await f.login('site1000');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
  const a = await f.login('everything');
  hAll = { cookie: a.cookie, 'x-csrf-token': a.csrf };
  const st = f.inst.lg.store;
  otherLot = (await st.reads.lotIdsByNumberInScope('all', SECRET))[0];
  ownLot = (await st.reads.lotIdsByNumberInScope('all', 'NW26-0411'))[0];
  otherSubs = [];
  for (const x of await st.ledger.listSubmissions({ limit: 100 })) if (await st.reads.submissionTouchedLot(otherLot, x.id)) otherSubs.push(x.id);
  expect(otherSubs.length).toBeGreaterThan(0);
}, 120_000);
afterAll(() => f?.close());

const get = (url: string, headers = h) => f.app.inject({ method: 'GET', url, headers });

/** The answer for a thing that does not exist, with the id put back in: must equal the out-of-scope answer. */
async function sameAsMissing(url: string, missingUrl: string, id: number, missingId: number) {
  const a = await get(url);
  const b = await get(missingUrl);
  expect(a.statusCode, url).toBe(404);
  expect(b.statusCode).toBe(404);
  expect(a.body.replaceAll(String(id), '#')).toBe(b.body.replaceAll(String(missingId), '#'));
  expect(a.body).not.toContain(SECRET);
}

describe('site scope', () => {
  it('the unscoped user does see the other site (the suite is not vacuous)', async () => {
    expect((await get(`/api/v1/lots?limit=500`, hAll)).body).toContain(SECRET);
    expect((await get(`/api/v1/lots/${otherLot}`, hAll)).statusCode).toBe(200);
    expect((await get(`/api/v1/submissions/${otherSubs[0]}/raw`, hAll)).statusCode).toBe(200);
  });

  it('lists, counts, filters, free text and CSV export leave it out', async () => {
    const all = (await get('/api/v1/lots?limit=500', hAll)).json();
    const mine = (await get('/api/v1/lots?limit=500')).json();
    expect(mine.total).toBe(all.total - 1);
    expect(JSON.stringify(mine)).not.toContain(SECRET);
    for (const q of ['site=2000', `q=${SECRET}`, 'lotPrefix=NW26-042', 'readiness=BLOCKED', 'partner=delta-cmo']) {
      const r = await get(`/api/v1/lots?${q}`);
      expect(r.statusCode).toBe(200);
      expect(r.body, q).not.toContain(SECRET);
    }
    expect((await get('/api/v1/lots?site=2000')).json().total).toBe(0);
    const csv = await get('/api/v1/lots?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body).not.toContain(SECRET);
    expect(csv.body).toContain('NW26-0411');
    const status = (await get('/api/v1/status')).json();
    expect(status.lotsTotal).toBe(mine.total);
    expect(status.submissions).toBeUndefined();
  });

  it('detail, timeline and provenance answer exactly like for a lot that does not exist', async () => {
    await sameAsMissing(`/api/v1/lots/${otherLot}`, '/api/v1/lots/999999', otherLot, 999999);
    await sameAsMissing(`/api/v1/lots/${otherLot}/timeline`, '/api/v1/lots/999999/timeline', otherLot, 999999);
    await sameAsMissing(`/api/v1/lots/${otherLot}/provenance?submission=${otherSubs[0]}`, `/api/v1/lots/999999/provenance?submission=${otherSubs[0]}`, otherLot, 999999);
    // Own lot, but asking about a file that only wrote about the other lot: nothing either.
    let only: number | undefined;
    for (const id of otherSubs) if (!(await f.inst.lg.store.reads.submissionTouchedLot(ownLot, id))) {
      only = id;
      break;
    }
    if (only) expect((await get(`/api/v1/lots/${ownLot}/provenance?submission=${only}`)).statusCode).toBe(404);
    const own = (await get(`/api/v1/lots/${ownLot}`)).json();
    expect(own.lotNumber).toBe('NW26-0411');
    expect(JSON.stringify(own)).not.toContain(SECRET);
    expect(JSON.stringify((await get(`/api/v1/lots/${ownLot}/timeline`)).json())).not.toContain(SECRET);
  });

  it('submissions about the other site: not listed; detail, ack, raw and replay answer "not found"', async () => {
    const list = (await get('/api/v1/submissions?limit=500')).json();
    for (const id of otherSubs) expect(list.items.map((x: any) => x.id)).not.toContain(id);
    expect(JSON.stringify(list)).not.toContain(SECRET);
    for (const id of otherSubs) {
      for (const suffix of ['', '/ack', '/raw']) await sameAsMissing(`/api/v1/submissions/${id}${suffix}`, `/api/v1/submissions/999999${suffix}`, id, 999999);
      const replay = await f.app.inject({ method: 'POST', url: `/api/v1/submissions/${id}/replay`, headers: h });
      expect(replay.statusCode).toBe(404);
    }
  });

  it('provenance of an own fact names the file and, with evidence:raw, shows the raw row', async () => {
    const own = (await get(`/api/v1/lots/${ownLot}`)).json();
    const t = own.tests.find((x: any) => x.submissionId && x.line);
    const p = (await get(`/api/v1/lots/${ownLot}/provenance?submission=${t.submissionId}&line=${t.line}`)).json();
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(p.rawRow).toBeTruthy();
    await f.user('recv1000', [['receiving', { sites: ['1000'] }]]);
    const r = await f.login('recv1000');
    const q = (await get(`/api/v1/lots/${ownLot}/provenance?submission=${t.submissionId}&line=${t.line}`, { cookie: r.cookie })).json();
    expect(q.sha256).toBe(p.sha256);
    expect(q.rawRow).toBeNull();
  });
});
