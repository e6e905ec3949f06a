// The Operations, Administration, Mappings and Audit pages over the newer API routes, in a real
// Chromium: Ops holds and releases an outbox message with a reason; an administrator switches a
// partner's mode and adds an SFTP key; an analyst reads a mapping and tests it on a sample; an
// auditor sees the chain verified and the head.

import path from 'node:path';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPartners } from '../../pipeline/config/partners.js';
import { addUser, webFixture, type WebFixture } from './web-helpers.js';

let w: WebFixture;
beforeAll(async () => {
  w = await webFixture();
  await addUser(w, 'ops', [['ops']]);
  await addUser(w, 'root', [['admin']]);
  await addUser(w, 'ana', [['analyst']]);
  await addUser(w, 'aud', [['auditor']]);
}, 120_000);
afterAll(() => w?.close());

describe('operations and administration pages', () => {
  it('Ops holds a pending outbox message with a reason and releases it', async () => {
    const st = w.f.inst.lg.store;
    const msg = (await st.outbox.listOutbox({ state: 'pending', limit: 1 }))[0];
    const page = await w.signIn('ops');
    await page.goto('/ops?outbox=pending');
    const row = page.locator(`tr[data-message="${msg.id}"]`);
    await row.getByText('Hold…').click();
    await row.getByLabel('Reason').fill('ERP cut-over this weekend');
    await row.getByRole('button', { name: 'Hold' }).click();
    await page.waitForSelector(`tr[data-message="${msg.id}"] :text("on hold by ops: ERP cut-over this weekend")`);
    expect((await st.outbox.getOutbox(msg.id))!.hold).toMatchObject({ reason: 'ERP cut-over this weekend', by: 'ops' });
    await page.goto('/ops?outbox=on-hold');
    await page.waitForSelector(`tr[data-message="${msg.id}"]`);
    expect(await page.locator('tr[data-message]').count()).toBe(1);
    await w.shot(page, 'operations-hold');
    await row.getByText('Release…').click();
    await row.getByLabel('Reason').fill('cut-over done');
    await row.getByRole('button', { name: 'Release' }).click();
    await page.waitForSelector(`tr[data-message="${msg.id}"]`, { state: 'detached' });
    expect((await st.outbox.getOutbox(msg.id))!.hold).toBeNull();

    // Request a missing document from the lot page: the partner is asked, the request listed.
    const lotId = (await st.reads.getLotDetail('NW26-0427') as { lot: { id: number } }).lot.id;
    await page.goto(`/lots/${lotId}`);
    await page.waitForSelector('#request-doc');
    await page.getByLabel('Document', { exact: true }).selectOption('coa');
    await page.getByLabel('Partner', { exact: true }).selectOption('delta-cmo');
    await page.getByLabel('Message to the partner').fill('Please send the CoA before Friday');
    await page.getByRole('button', { name: 'Request document' }).click();
    await page.waitForSelector('table.requests tr[data-request]');
    expect(await page.locator('table.requests tr[data-request]').textContent()).toContain('Please send the CoA before Friday');
    expect((await st.notifications.listDocumentRequests(lotId, true)).map((r) => [r.partner, r.documentType])).toEqual([['delta-cmo', 'coa']]);
    await w.shot(page, 'lot-request');
    await page.context().close();
  });

  it('an administrator switches a partner to shadow mode and adds an SFTP key', async () => {
    const page = await w.signIn('root');
    await page.waitForSelector('table.partners');
    await page.getByLabel('Mode of bravo-lab').selectOption('shadow');
    await page.waitForFunction(() => (document.querySelector('#mode-bravo-lab') as HTMLSelectElement | null)?.value === 'shadow' && !document.querySelector('#toast.bad'));
    await expect.poll(() => loadPartners(w.f.inst.lg.config.partnersDir).get('bravo-lab')!.mode).toBe('shadow');
    const key = utils.generateKeyPairSync('ed25519', { comment: 'bravo-sftp' }).public;
    const row = page.locator('tr[data-partner="bravo-lab"]');
    await row.getByText('Keys…').click();
    await row.getByLabel('SFTP public key (OpenSSH line)').fill(key);
    await row.getByRole('button', { name: 'Add key' }).click();
    await page.waitForSelector('#key-fingerprint');
    expect(await page.locator('#key-fingerprint').textContent()).toMatch(/^SHA256:/);
    expect(loadPartners(w.f.inst.lg.config.partnersDir).get('bravo-lab')!.sftp!.publicKeys).toContain(key);
    await w.shot(page, 'admin-partners');
    await page.context().close();
  });

  it("an analyst reads a partner's mappings and tests one on a sample file", async () => {
    const page = await w.signIn('ana');
    await page.locator('#nav').getByRole('link', { name: 'Mappings' }).click();
    await page.getByLabel('Partner').selectOption('acme-cmo');
    await page.waitForSelector('section.mapping[data-feed="batch-status"]');
    await page.locator('section.mapping[data-feed="batch-status"] summary').click();
    expect(await page.locator('section.mapping[data-feed="batch-status"] pre.yaml').textContent()).toContain('feed: batch-status');
    await page.getByLabel('Sample file to test').setInputFiles(path.join(w.f.inst.work, 'fixtures', 'acme-cmo', 'Chargenstatus_20261119.csv'));
    await page.getByRole('button', { name: 'Test mapping' }).click();
    await page.waitForSelector('.test-counts, #test-result .error');
    expect(await page.locator('#test-result .error').count(), await page.locator('#test-result').textContent() ?? '').toBe(0);
    const counts = page.locator('.test-counts');
    expect(await counts.getAttribute('data-rows')).toBe('19');
    expect(Number(await counts.getAttribute('data-errors'))).toBeGreaterThan(0);
    expect(await page.locator('#test-result table.errors').textContent()).toContain('E_UNMAPPED_CODE');
    await w.shot(page, 'mappings');
    await page.context().close();
  });

  it('an auditor sees the audit chain verified and its head', async () => {
    const store = w.f.inst.lg.store;
    const page = await w.signIn('aud');
    const before = await store.audit.auditHead();
    await page.locator('#nav').getByRole('link', { name: 'Audit' }).click();
    await page.waitForSelector('#audit-verify');
    expect(await page.locator('#audit-verify').getAttribute('data-ok')).toBe('true');
    // The page asks for the verification (which appends an audit.verified event) and the head at
    // once, so the head it shows is the one from before or after that event, whichever request the
    // server answered first: a real pair of the chain, at or after the head before the page.
    const after = await store.audit.auditHead();
    const seq = Number(await page.locator('#audit-head strong').textContent());
    const hash = await page.locator('#audit-head code').textContent();
    expect(seq).toBeGreaterThanOrEqual(before.seq);
    expect(seq).toBeLessThanOrEqual(after.seq);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(await store.audit.auditHashAt(seq));
    // Search: the outbox hold of the first test, by action prefix.
    await page.getByLabel('Action or its prefix').fill('outbox.');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/action=outbox\./);
    await page.waitForFunction(() => document.querySelectorAll('table.audit tr[data-seq]').length === 2);
    expect(await page.locator('table.audit tr[data-seq]').evaluateAll((t) => t.map((x) => (x as HTMLElement).dataset.action))).toEqual(['outbox.release', 'outbox.hold']);
    await w.shot(page, 'audit');
    await page.context().close();
  });
});
