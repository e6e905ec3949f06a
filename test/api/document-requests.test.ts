// Asking a partner for a missing document: stored, audited, scoped, and sent by the notify job's
// event mapping as `document_requested` to the partner's contacts (e-mail: contacts in To).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsFromAudit } from '../../jobs/notify-events.js';
import { createEmailChannel, type MailTransport } from '../../pipeline/outbound/notify/email.js';
import { links } from '../../pipeline/outbound/notify/links.js';
import { eventNotification } from '../../pipeline/outbound/notify/render.js';
import { route } from '../../pipeline/outbound/notify/rules.js';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let lotId: number;
let h: Record<string, string>;
beforeAll(async () => {
  f = await apiFixture();
  await f.user('qa', [['qa']]);
  const s = await f.login('qa');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
  lotId = (await f.inst.lg.store.reads.lotIdsByNumberInScope('all', 'NW26-0411'))[0];
}, 120_000);
afterAll(() => f?.close());

const call = (method: 'GET' | 'POST', url: string, payload?: object, headers = h) => f.app.inject({ method, url, payload, headers });

describe('document requests', () => {
  it('stores an open request, audits it, lists it, and the notify job turns it into document_requested to the partner contacts', async () => {
    const partners = (await f.inst.lg.store.notifications.partnersOfLot(lotId)).filter((p) => p !== 'erp');
    expect(partners.length).toBeGreaterThan(0);
    const partner = partners[0];
    const post = await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'batch_record', message: 'Please send the batch record.', partner });
    expect(post.statusCode, post.body).toBe(201);
    expect(post.json()).toMatchObject({ lotId, partner, documentType: 'batch_record', state: 'open', requestedBy: 'qa', fulfilledAt: null });

    const list = (await call('GET', `/api/v1/lots/${lotId}/requests`)).json();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ id: post.json().id, documentType: 'batch_record' });

    // A batch record from another partner, or a CoA from this one, does not fulfil it; its batch record does.
    const store = f.inst.lg.store;
    const other = partner === 'bravo-lab' ? 'acme-cmo' : 'bravo-lab';
    await store.facts.upsertDocument(lotId, { type: 'batch_record', docId: 'BR-OTHER-1' }, { submissionId: null, partner: other });
    await store.facts.upsertDocument(lotId, { type: 'coa', docId: 'COA-LATE-1' }, { submissionId: null, partner });
    expect((await call('GET', `/api/v1/lots/${lotId}/requests`)).json().items).toHaveLength(1);
    await store.facts.upsertDocument(lotId, { type: 'batch_record', docId: 'BR-1' }, { submissionId: null, partner });
    expect((await call('GET', `/api/v1/lots/${lotId}/requests`)).json().items).toEqual([]);
    const done = (await call('GET', `/api/v1/lots/${lotId}/requests?all=true`)).json().items;
    expect(done).toEqual([expect.objectContaining({ state: 'fulfilled', fulfilledAt: expect.any(String) })]);

    const audit = await f.inst.lg.store.audit.listAudit({ action: 'lot.document_requested', limit: 5 });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toMatch(/^principal:\d+$/);

    const map = new Map(f.inst.lg.partners());
    map.set(partner, { ...map.get(partner)!, contacts: ['planner@partner.example'] });
    const events = eventsFromAudit(audit[0], { links: links('https://lotgate.example.com'), partners: map, submission: () => undefined });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'document_requested', recipients: ['planner@partner.example'], details: { documentType: 'batch_record', partner, message: 'Please send the batch record.' } });
    expect(events[0].link).toMatch(/^https:\/\/lotgate\.example\.com\/lots\//);
    expect(route(events[0], [{ on: ['document_requested'], to: ['mail'] }])).toEqual(['mail']);

    const sent: Record<string, unknown>[] = [];
    const transport = (): MailTransport => ({ sendMail: async (m) => (sent.push(m as Record<string, unknown>), { accepted: [] }), close: () => {} });
    const ch = createEmailChannel({ name: 'mail', type: 'email', host: '127.0.0.1', from: 'lotgate@sponsor.example', to: ['qa@sponsor.example'] }, {}, { transport });
    expect((await ch.send(eventNotification(events[0]))).ok).toBe(true);
    expect(sent[0]).toMatchObject({ to: ['planner@partner.example'], cc: ['qa@sponsor.example'] });
    expect(String(sent[0].subject)).toMatch(/Document requested/);
  });

  it('asks which partner when several reported on the lot; takes the only one; partner scope narrows both', async () => {
    // NW26-0411: acme-cmo and bravo-lab reported on it (besides the ERP).
    const several = await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'coa', message: 'x' });
    expect(several.statusCode).toBe(400);
    expect(several.json().error).toMatchObject({ code: 'E_API_REQUEST_PARTNER', message: expect.stringContaining('acme-cmo, bravo-lab') });
    expect((await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'coa', message: 'x', partner: 'nobody' })).statusCode).toBe(404);
    // NW26-0427: only delta-cmo.
    const only = (await f.inst.lg.store.reads.lotIdsByNumberInScope('all', 'NW26-0427'))[0];
    expect((await call('POST', `/api/v1/lots/${only}/requests`, { documentType: 'batch_record', message: 'please' })).json()).toMatchObject({ partner: 'delta-cmo' });
    // A QA user scoped to bravo-lab: the only candidate it may see is bravo-lab; acme-cmo is not found.
    await f.user('qabravo', [['qa', { partners: ['bravo-lab'] }]]);
    const s = await f.login('qabravo');
    const hh = { cookie: s.cookie, 'x-csrf-token': s.csrf };
    expect((await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'coa', message: 'x' }, hh)).json()).toMatchObject({ partner: 'bravo-lab' });
    expect((await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'coa', message: 'x', partner: 'acme-cmo' }, hh)).statusCode).toBe(404);
    const seen = (await call('GET', `/api/v1/lots/${lotId}/requests`, undefined, hh)).json().items;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((r: { partner: string }) => r.partner === 'bravo-lab')).toBe(true);
  });

  it('out of scope is 404 (no leak), receiving may not request, anonymous 401', async () => {
    await f.user('qa2000', [['qa', { sites: ['2000'] }]]);
    const s = await f.login('qa2000');
    const hh = { cookie: s.cookie, 'x-csrf-token': s.csrf };
    const post = await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'coa', message: 'x' }, hh);
    expect(post.statusCode).toBe(404);
    expect(post.json().error.code).toBe('E_API_NOT_FOUND');
    expect((await call('GET', `/api/v1/lots/${lotId}/requests`, undefined, hh)).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/lots/999999/requests', { documentType: 'coa', message: 'x' })).statusCode).toBe(404);
    await f.user('recv', [['receiving']]);
    const r = await f.login('recv');
    expect((await call('POST', `/api/v1/lots/${lotId}/requests`, { documentType: 'coa', message: 'x' }, { cookie: r.cookie, 'x-csrf-token': r.csrf })).statusCode).toBe(403);
    expect((await f.app.inject({ method: 'GET', url: `/api/v1/lots/${lotId}/requests` })).statusCode).toBe(401);
  });
});
