// The partner portal and the ledger in a real Chromium: a partner coordinator uploads a file with
// errors in the browser and reads the acknowledgment with its row errors at once; a first
// sign-in enrols TOTP and shows recovery codes; the submissions page shows counts and rows.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../pipeline/auth/totp.js';
import { links } from '../../pipeline/outbound/notify/links.js';
import { PW } from '../api/api-helpers.js';
import { addUser, axeViolations, webFixture, type WebFixture } from './web-helpers.js';

let w: WebFixture;
beforeAll(async () => {
  w = await webFixture();
  await addUser(w, 'acme-anna', [['partner_uploader']], { partner: 'acme-cmo' });
  await addUser(w, 'ops', [['ops']]);
  await addUser(w, 'newbie', [['receiving']], { enrol: false });
  await addUser(w, 'root', [['admin']]);
}, 120_000);
afterAll(() => w?.close());

describe('partner portal', () => {
  it('a partner uploads a file with bad rows in the browser and sees the acknowledgment and row errors at once', async () => {
    const page = await w.signIn('acme-anna');
    await page.waitForSelector('#upload-form');
    expect(new URL(page.url()).pathname).toBe('/portal');
    // Its own submissions only.
    const partners = await page.locator('#own-submissions tbody tr td:nth-child(2)').allTextContents();
    expect(partners.length).toBeGreaterThan(0);
    expect(new Set(partners)).toEqual(new Set(['acme-cmo']));

    // The batch-status export of the next day, two rows with an impossible date.
    const src = readFileSync(path.join(w.f.inst.work, 'fixtures', 'acme-cmo', 'Chargenstatus_20261119.csv'), 'latin1').split('\r\n');
    src[3] = src[3].replace('05.10.2026 06:15', '32.13.2026 06:15');
    src[5] = src[5].replace(/\d\d\.\d\d\.2026 \d\d:\d\d/, 'gestern');
    const file = path.join(w.f.inst.work, 'Chargenstatus_20261120.csv');
    writeFileSync(file, Buffer.from(src.join('\r\n'), 'latin1'));
    await page.getByLabel('Files').setInputFiles(file);
    // Check before sending: the mapping's row errors, and nothing in the ledger.
    const before = (await w.f.inst.lg.store.ledger.listSubmissions({ limit: 1 }))[0].id;
    await page.getByRole('button', { name: 'Check before sending' }).click();
    await page.waitForSelector('.check-result');
    expect(await page.locator('.check-result').getAttribute('data-errors')).toBe('3');
    expect(await page.locator('.check-result table.errors tbody tr td:first-child').allTextContents()).toEqual(['4', '6', '13']);
    expect((await w.f.inst.lg.store.ledger.listSubmissions({ limit: 1 }))[0].id).toBe(before);
    await w.shot(page, 'portal-check');
    // The axe-core check is live: an unnamed field is a serious violation it reports.
    await page.evaluate(() => document.querySelector('main')!.append(Object.assign(document.createElement('input'), { id: 'probe-unlabelled' })));
    expect((await axeViolations(page)).join('\n')).toMatch(/^label: .*#probe-unlabelled/m);
    await page.evaluate(() => document.getElementById('probe-unlabelled')!.remove());
    // A file no feed of the partner accepts: said so, with the names that are accepted.
    const csrf = (await (await page.request.get('/api/v1/auth/session')).json()).csrfToken;
    const noFeed = await page.request.post('/api/v1/submissions/check', { headers: { 'x-csrf-token': csrf }, multipart: { file: { name: 'holiday-photos.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n') } } });
    expect(noFeed.status()).toBe(422);
    expect((await noFeed.json()).error.code).toBe('E_NO_FEED');
    // Fixed, checked again: no problems.
    const fixedFile = path.join(w.f.inst.work, 'fixed', 'Chargenstatus_20261120.csv');
    mkdirSync(path.dirname(fixedFile), { recursive: true });
    const orig = readFileSync(path.join(w.f.inst.work, 'fixtures', 'acme-cmo', 'Chargenstatus_20261119.csv'), 'latin1').split('\r\n');
    writeFileSync(fixedFile, Buffer.from(orig.filter((l) => !l.includes('Nacharbeit')).join('\r\n'), 'latin1'));
    await page.getByLabel('Files').setInputFiles(fixedFile);
    await page.getByRole('button', { name: 'Check before sending' }).click();
    await page.waitForSelector('.check-result[data-errors="0"]');
    // The file with errors is sent anyway: the acknowledgment lists them.
    await page.getByLabel('Files').setInputFiles(file);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForSelector('#ack');
    const ack = page.locator('#ack');
    expect(await ack.locator('.badge').textContent()).toBe('applied with errors');
    const lines = await ack.locator('table.errors tbody tr td:first-child').allTextContents();
    expect(lines).toEqual(expect.arrayContaining(['4', '6']));
    expect(await ack.locator('table.errors').textContent()).toMatch(/E_[A-Z_]+/);
    // The same ledger row the API shows.
    const sub = (await w.f.inst.lg.store.ledger.listSubmissions({ partner: 'acme-cmo', limit: 1 }))[0];
    expect(sub.originalName).toBe('Chargenstatus_20261120.csv');
    expect(await ack.textContent()).toContain(`submission ${sub.id}`);
    await page.waitForSelector(`#own-submissions tr[data-submission="${sub.id}"]`);
    await w.shot(page, 'portal-ack');
    // The board is not a partner's page, and a notification link to another partner's file is "not found".
    await page.goto('/lots');
    await page.waitForSelector('main h1');
    expect(await page.locator('main h1').textContent()).toBe('Not available');
    const erpSub = (await w.f.inst.lg.store.ledger.listSubmissions({ partner: 'erp', limit: 1 }))[0].id;
    await page.goto(links(w.base).submission(erpSub));
    await page.waitForSelector('p.error');
    expect(await page.locator('p.error').textContent()).toMatch(/not found/);
    await page.context().close();
  });

  it('Ops reads the ledger: counts, the rejected rows of a submission, the acknowledgment; a notification link opens it', async () => {
    const page = await w.signIn('ops');
    await page.waitForSelector('#lot-rows tr');
    await page.getByRole('link', { name: 'Submissions' }).click();
    await page.waitForSelector('#submissions tbody tr[data-submission]');
    await page.getByLabel('State').selectOption('applied_with_errors');
    await page.waitForURL(/state=applied_with_errors/);
    await page.waitForFunction(() => [...document.querySelectorAll('#submissions tbody tr[data-submission]')].every((r) => (r as HTMLElement).dataset.state === 'applied_with_errors'));
    await w.shot(page, 'submissions');
    const sub = (await w.f.inst.lg.store.ledger.listSubmissions({ partner: 'acme-cmo', limit: 1 }))[0];
    await page.goto(`/submissions/${sub.id}`);
    await page.waitForSelector('#ack');
    expect(await page.locator('main h1').textContent()).toBe(`Submission ${sub.id}: Chargenstatus_20261120.csv`);
    expect(await page.locator('#sec-rejected-rows + .scroll table tbody tr').count()).toBe(sub.rejected);
    await w.shot(page, 'submission');

    // Notification links: a submission, a partner.
    await page.goto(links(w.base).partner('bravo-lab'));
    await page.waitForURL(/\/submissions\?partner=bravo-lab/);
    await page.waitForSelector('#submissions tbody tr[data-submission]');
    expect(new Set(await page.locator('#submissions tbody tr td:nth-child(2)').allTextContents())).toEqual(new Set(['bravo-lab']));
    await page.goto(links(w.base).submission(sub.id));
    await page.waitForSelector('#replay');

    // Replay (Ops): the archived original goes through intake again as a new submission.
    await page.locator('#replay').click();
    await page.waitForURL((u) => u.pathname !== `/submissions/${sub.id}`);
    const replayId = new URL(page.url()).pathname.split('/').pop();
    await page.waitForSelector(`main h1:has-text("Submission ${replayId}:")`);
    const replay = (await w.f.inst.lg.store.ledger.listSubmissions({ partner: 'acme-cmo', limit: 1 }))[0];
    expect(replay.replayOf).toBe(sub.id);
    expect(new URL(page.url()).pathname).toBe(`/submissions/${replay.id}`);
    expect(await page.getByRole('link', { name: String(sub.id), exact: true }).count()).toBe(1);

    // Operations: counts per state, outbox, partners.
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.waitForSelector('#outbox');
    expect(await page.locator('a.chip[data-state="BLOCKED"] .n').textContent()).toBe('2');
    // The outbox, and a dead message retried from the page.
    const st = w.f.inst.lg.store;
    const msg = (await st.outbox.listOutbox({ state: 'pending', limit: 1 }))[0];
    await st.outbox.markOutboxFailed(msg.id, 'connector erp refused: HTTP 500', null);
    expect((await st.outbox.listOutbox({ state: 'dead', limit: 10 })).map((m) => m.id)).toContain(msg.id);
    await page.goto('/ops?outbox=dead');
    await page.waitForSelector(`tr[data-message="${msg.id}"]`);
    await page.locator(`tr[data-message="${msg.id}"]`).getByRole('button', { name: 'Retry' }).click();
    await page.waitForSelector(`tr[data-message="${msg.id}"]`, { state: 'detached' });
    expect((await st.outbox.listOutbox({ state: 'pending', limit: 1000 })).map((m) => m.id)).toContain(msg.id);
    await w.shot(page, 'operations');

    // Exceptions: late lots, blocked lots, files with rejected rows.
    await page.locator('#nav').getByRole('link', { name: 'Exceptions' }).click();
    await page.waitForSelector('#sec-late-lots-1-');
    expect(await page.locator('section:has(#sec-late-lots-1-) tr[data-lot]').evaluateAll((t) => t.map((x) => (x as HTMLElement).dataset.lot))).toEqual(['NW26-0427']);
    expect(await page.locator('section:has(h2:text("Files applied with rejected rows")) tr[data-submission]').count()).toBeGreaterThanOrEqual(2);
    await w.shot(page, 'exceptions');
    await page.context().close();
  });

  it('a first sign-in sets up TOTP and shows recovery codes; the next sign-in needs a code', async () => {
    const ctx = await w.browser.newContext({ baseURL: w.base, viewport: { width: 1024, height: 800 } });
    const page = await ctx.newPage();
    await page.goto('/lots');
    await page.waitForURL(/\/login\?next=%2Flots/);
    await page.getByLabel('User name').fill('newbie');
    await page.getByLabel('Password', { exact: true }).fill(PW);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#totp-secret');
    const secret = (await page.locator('#totp-secret').textContent())!;
    await w.shot(page, 'enrol');
    w.advance(30_000);
    await page.getByLabel('Code from the app').fill(totpCode(secret, w.f.clock.now));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForSelector('#recovery-codes');
    const codes = await page.locator('#recovery-codes li').allTextContents();
    expect(codes.length).toBeGreaterThanOrEqual(8);
    await w.shot(page, 'recovery-codes');
    await page.getByRole('link', { name: 'Continue' }).click();
    await page.waitForSelector('#lot-rows tr');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);

    // Without a code: told to enter one; with a recovery code: in.
    await page.getByLabel('User name').fill('newbie');
    await page.getByLabel('Password', { exact: true }).fill(PW);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('p.error:not(:empty)');
    expect(await page.locator('p.error').textContent()).toMatch(/6-digit code/);
    await w.shot(page, 'login-error');
    await page.getByLabel('I lost my phone').check();
    await page.getByLabel('Recovery code', { exact: true }).fill(codes[0]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#lot-rows tr');

    // Own sessions: a second browser signs in; this one ends it.
    const other = await w.browser.newContext({ baseURL: w.base });
    const otherPage = await other.newPage();
    w.advance(30_000);
    const res = await otherPage.request.post('/api/v1/auth/login', { data: { username: 'newbie', password: PW, totp: totpCode(secret, w.f.clock.now) } });
    expect(res.status()).toBe(200);
    expect((await otherPage.request.get('/api/v1/lots')).status()).toBe(200);
    await page.locator('#me').click();
    await page.waitForSelector('table.sessions');
    const active = page.locator('tr[data-active="true"]');
    expect(await active.count()).toBe(2);
    await w.shot(page, 'sessions');
    await active.getByRole('button', { name: /End the session/ }).click();
    await page.waitForFunction(() => document.querySelectorAll('tr[data-active="true"]').length === 1);
    expect((await otherPage.request.get('/api/v1/lots')).status()).toBe(401);
    expect((await page.request.get('/api/v1/lots')).status()).toBe(200);
    await other.close();
    await ctx.close();
  });

  it('an administrator adds a user (activation code shown once), who chooses a password; creates and revokes a partner token', async () => {
    const page = await w.signIn('root');
    await page.waitForSelector('table.users');
    expect(new URL(page.url()).pathname).toBe('/admin');
    await page.getByLabel('User name').fill('carol');
    await page.getByLabel('Printed name').fill('Carol Receiving');
    await page.getByLabel('Role', { exact: true }).selectOption('receiving');
    await page.getByLabel('Sites (comma-separated, empty = all)').fill('1000');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.waitForSelector('#once-value');
    const code = (await page.locator('#once-value').textContent())!;
    expect(await page.locator('tr[data-user="carol"]').textContent()).toContain('sites 1000');
    await w.shot(page, 'admin');

    const ctx = await w.browser.newContext({ baseURL: w.base });
    const carol = await ctx.newPage();
    await carol.goto('/login');
    await carol.getByRole('link', { name: /Choose your password/ }).click();
    await carol.getByLabel('User name').fill('carol');
    await carol.getByLabel('One-time code').fill(code);
    await carol.getByLabel('New password', { exact: true }).fill(PW);
    await carol.getByLabel('New password again').fill(PW);
    await carol.getByRole('button', { name: 'Set password' }).click();
    await carol.waitForSelector('#activated');
    await carol.getByRole('link', { name: 'Sign in' }).click();
    await carol.getByLabel('User name').fill('carol');
    await carol.getByLabel('Password', { exact: true }).fill(PW);
    await carol.getByRole('button', { name: 'Sign in' }).click();
    await carol.waitForSelector('#totp-secret');
    await ctx.close();

    // A partner submission token: shown once, works, revoked.
    await page.getByLabel('Name', { exact: true }).fill('acme-upload');
    await page.getByLabel('Partner (submission token)').selectOption('acme-cmo');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.waitForFunction(() => document.querySelector('#once-value')?.textContent?.startsWith('lgt_'));
    const token = (await page.locator('#once-value').textContent())!;
    const api = await w.browser.newContext({ baseURL: w.base });
    expect((await api.request.get('/api/v1/submissions', { headers: { authorization: `Bearer ${token}` } })).status()).toBe(200);
    await page.locator('tr[data-token]', { hasText: 'acme-upload' }).getByRole('button', { name: 'Revoke' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('tr[data-token]')].some((r) => r.textContent!.includes('acme-upload') && r.textContent!.includes('revoked')));
    expect((await api.request.get('/api/v1/submissions', { headers: { authorization: `Bearer ${token}` } })).status()).toBe(401);
    await api.close();
    await page.context().close();
  });
});
