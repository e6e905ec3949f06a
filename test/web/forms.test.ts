// The partner portal's guided forms in a real Chromium: a partner without an export fills in a
// stage milestone and a CoA upload for one of its own open lots; the server turns each into a file
// of the feed (name, headers, dialect), which goes through intake: ledger, acknowledgment, and
// the fact on the lot. The portal lists which of its own lots wait on what, nothing of others.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, webFixture, type WebFixture } from './web-helpers.js';

let w: WebFixture;
let newLot: number;
beforeAll(async () => {
  w = await webFixture();
  await addUser(w, 'acme-anna', [['partner_uploader']], { partner: 'acme-cmo' });
  // A lot ACME has started on: its batch id is known, nothing else (no stages, no CoA).
  const st = w.f.inst.lg.store;
  const acmeLot = await st.reads.getLotDetail('NW26-0411') as { lot: { vendor: string | null } };
  newLot = (await st.masterdata.upsertLot('000000000010012345', 'NW26-0440', { site: '1000', vendor: acmeLot.lot.vendor ?? undefined }, { submissionId: null, partner: 'erp' })).lotId;
  await st.masterdata.addIdentifier(newLot, { scheme: 'cmo_batch', value: 'AC-24140' }, 'acme-cmo', { submissionId: null, partner: 'erp' });
}, 120_000);
afterAll(() => w?.close());

const waitingOf = (page: import('playwright-core').Page) =>
  page.locator('table.waiting tr[data-lot]').evaluateAll((trs) => Object.fromEntries(trs.map((t) => [(t as HTMLElement).dataset.lot, [...t.querySelectorAll('li')].map((l) => l.textContent)])));

describe('guided forms', () => {
  it('a partner without an export sends a stage milestone and a CoA by form; each is a generated file with its own ledger row, ack and fact', async () => {
    const page = await w.signIn('acme-anna');
    await page.waitForSelector('form.guided[data-feed="batch-status"]');
    // Its own lots and what they wait on; no lot of another partner.
    const waiting = await waitingOf(page);
    expect(waiting['NW26-0440']).toEqual(['COA missing']);
    expect(await page.locator('table.waiting tr[data-lot="NW26-0415"] td:nth-child(3)').textContent()).toBe('AC-24121');
    expect(waiting['NW26-0415']).toEqual([expect.stringMatching(/^deviation ABW-2026-0094 under investigation/)]);
    expect(Object.keys(waiting).some((l) => ['NW26-0421', 'NW26-0427'].includes(l))).toBe(false);
    await w.shot(page, 'portal-forms');
    await page.setViewportSize({ width: 800, height: 1100 });
    await w.shot(page, 'portal-forms-tablet');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Stage milestone: the lot from its own lots, the step and status as the mapping's codes.
    const f = page.locator('form.guided[data-feed="batch-status"]');
    await f.getByLabel('Charge').selectOption('AC-24140');
    await f.getByLabel('Prozessschritt').selectOption('Einwaage');
    await f.getByLabel('Status').selectOption('gestartet');
    await f.getByLabel('Zeitpunkt').fill('2026-11-20T08:15');
    await f.getByLabel('Standort').fill('1000');
    await f.getByRole('button', { name: 'Send' }).click();
    await page.waitForSelector('.form-result .badge');
    expect(await page.locator('.form-result .badge').first().textContent(), await page.locator('.form-result').first().textContent() ?? '').toBe('applied');
    const sub = (await w.f.inst.lg.store.ledger.listSubmissions({ partner: 'acme-cmo', limit: 1 }))[0];
    expect(sub.originalName).toMatch(/^Chargenstatus_form-\d{8}T\d{6}-[0-9a-f]{6}\.csv$/);
    expect(sub.rows).toBe(1);
    const lot = (await w.f.inst.lg.store.reads.getLotDetailById(newLot))!;
    const ev = lot.stageEvents.find((e) => e.submissionId === sub.id)!;
    expect(ev).toMatchObject({ stage: 'compounding', status: 'started' });
    expect(ev.eventTime).toBe('2026-11-20T07:15:00.000Z');
    await page.waitForSelector(`#own-submissions tr[data-submission="${sub.id}"]`);

    // CoA upload: the file name is made from the feed's glob and extract patterns.
    const pdf = path.join(w.f.inst.work, 'scan.pdf');
    writeFileSync(pdf, '%PDF-1.4\n% CoA AC-24140\n%%EOF\n');
    const c = page.locator('form.guided[data-feed="coa"]');
    await c.getByLabel('batch').selectOption('AC-24140');
    await c.getByLabel('version').fill('1');
    await c.getByLabel('Document (PDF)').setInputFiles(pdf);
    await c.getByRole('button', { name: 'Send' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.form-result .badge').length === 2);
    const coa = (await w.f.inst.lg.store.ledger.listSubmissions({ partner: 'acme-cmo', limit: 1 }))[0];
    expect(coa.originalName).toBe('COA_AC-24140_v1.pdf');
    expect((await w.f.inst.lg.store.reads.getLotDetailById(newLot))!.documents.map((d) => [d.type, d.docId, d.version, d.submissionId])).toEqual([['coa', 'COA_AC-24140', 1, coa.id]]);
    await w.shot(page, 'portal-form-ack');
    await page.reload();
    await page.waitForSelector('table.waiting');
    expect((await waitingOf(page))['NW26-0440']).toBeUndefined();

    // The server validates as the mapping would: another partner's batch, a wrong code, a missing field.
    const csrf = (await (await page.request.get('/api/v1/auth/session')).json()).csrfToken;
    const post = (multipart: Record<string, string>) => page.request.post('/api/v1/portal/forms/batch-status', { headers: { 'x-csrf-token': csrf }, multipart });
    const before = (await w.f.inst.lg.store.ledger.listSubmissions({ limit: 1 }))[0].id;
    const r1 = await post({ Charge: 'DX-260457', Prozessschritt: 'Einwaage', Status: 'gestartet', Zeitpunkt: '2026-11-20T08:15' });
    expect(r1.status()).toBe(422);
    expect((await r1.json()).problems).toEqual([expect.objectContaining({ input: 'Charge', code: 'E_FORM_LOT' })]);
    const r2 = await post({ Charge: 'AC-24140', Prozessschritt: 'Einwaage', Status: 'Nacharbeit', Zeitpunkt: '' });
    expect(r2.status()).toBe(422);
    expect((await r2.json()).problems.map((p: { input: string; code: string }) => `${p.input} ${p.code}`)).toEqual(['Zeitpunkt E_FORM_REQUIRED']);
    const r3 = await post({ Charge: 'AC-24140', Prozessschritt: 'Einwaage', Status: 'Nacharbeit', Zeitpunkt: '2026-11-20T08:15' });
    expect(r3.status()).toBe(422);
    expect((await r3.json()).problems).toEqual([expect.objectContaining({ input: 'Status', code: 'E_FORM_VALUE' })]);
    expect((await w.f.inst.lg.store.ledger.listSubmissions({ limit: 1 }))[0].id).toBe(before);
    await page.context().close();
  });
});
