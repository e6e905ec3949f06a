// The board in a real Chromium against a real lotgate API server: sign-in with TOTP, role
// default views, filters in the URL and the back button, the lot page down to the partner
// file's raw row, a site-scoped user who sees nothing of another site, exports.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../pipeline/auth/totp.js';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { links } from '../../pipeline/outbound/notify/links.js';
import { PW } from '../api/api-helpers.js';
import { addUser, webFixture, type WebFixture } from './web-helpers.js';

let w: WebFixture;
beforeAll(async () => {
  w = await webFixture();
  await addUser(w, 'ops', [['ops']]);
  await addUser(w, 'qa', [['qa']]);
  await addUser(w, 'recv', [['receiving', { sites: ['1000'] }]]);
  // A partner's lot number that a spreadsheet would run as a formula.
  const st = w.f.inst.lg.store;
  await st.masterdata.upsertLot('000000000010012345', '=HYPERLINK("http://x","y")', { site: '1000' }, { submissionId: null, partner: 'erp' });
}, 120_000);
afterAll(() => w?.close());

const lotNumbers = (page: import('playwright-core').Page) => page.locator('#lot-rows tr[data-lot]').evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.lot!));

describe('board', () => {
  it('Ops signs in with password + TOTP and lands on blocked / not-ready lots; filters live in the URL and the back button restores them', async () => {
    const page = await w.signIn('ops');
    await page.waitForSelector('#lot-rows tr[data-lot]');
    const url = new URL(page.url());
    expect(url.pathname).toBe('/lots');
    expect(url.searchParams.get('readiness')).toBe('BLOCKED,NOT_READY');
    const states = await page.locator('#lot-rows tr[data-lot]').evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.state));
    expect(states.length).toBe(4);
    expect(new Set(states)).toEqual(new Set(['BLOCKED', 'NOT_READY']));
    expect(await page.locator('#total').textContent()).toBe('4 lots');
    expect(await page.locator('#counts a[data-state="READY"] .n').textContent()).toBe('1');
    await w.shot(page, 'board-ops');
    // A tablet in portrait: nothing sticks out of the page.
    await page.setViewportSize({ width: 800, height: 1100 });
    await w.shot(page, 'board-tablet');
    await page.setViewportSize({ width: 1280, height: 900 });
    // Scripts only from the server itself.
    const csp = (await page.request.get('/lots')).headers()['content-security-policy'];
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);

    await page.getByRole('link', { name: 'All lots' }).click();
    await page.waitForURL(/view=all/);
    await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 7);
    await page.getByLabel('Partner').selectOption('delta-cmo');
    await page.waitForURL(/partner=delta-cmo/);
    await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 3);
    await page.getByLabel('Late').selectOption('true');
    await page.waitForURL(/late=true/);
    await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 1);
    expect(await lotNumbers(page)).toEqual(['NW26-0427']);
    expect(new URL(page.url()).searchParams.get('partner')).toBe('delta-cmo');

    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 3);
    expect(new URL(page.url()).searchParams.get('late')).toBeNull();
    expect(await page.getByLabel('Partner').inputValue()).toBe('delta-cmo');
    expect(await page.getByLabel('Late').inputValue()).toBe('');
    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 7);

    // Free text, then open the late lot.
    await page.getByLabel('Search').fill('NW26-0427');
    await page.getByLabel('Search').press('Enter');
    await page.waitForURL(/q=NW26-0427/);
    await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 1);
    await page.getByRole('link', { name: 'NW26-0427' }).click();
    await page.waitForSelector('#lot-number');
    expect(await page.locator('.rules tr[data-result="fail"] th').allTextContents()).toEqual(
      expect.arrayContaining(['Stages completed', 'Tests final and within specification', 'Required documents present']),
    );
    await w.shot(page, 'lot-late');
    await page.goBack();
    await page.waitForURL(/q=NW26-0427/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    // The session is gone on the server too.
    expect((await page.request.get('/api/v1/lots')).status()).toBe(401);
    await page.context().close();
  });

  it('QA follows a BLOCKED lot\'s failing test to the partner file\'s raw row', async () => {
    const page = await w.signIn('qa');
    await page.waitForSelector('#lot-rows tr');
    expect(new URL(page.url()).searchParams.get('readiness')).toBe('READY,CONDITIONAL');
    await page.goto('/lots?readiness=BLOCKED');
    await page.getByRole('link', { name: 'NW26-0421' }).click();
    await page.waitForSelector('#lot-number');
    const failing = page.locator('.rules tr[data-result="fail"]');
    expect(await failing.locator('th').allTextContents()).toEqual(['Tests final and within specification']);
    await failing.locator('button.source').first().click();
    await page.waitForSelector('#raw-row');
    const raw = (await page.locator('#raw-row').textContent())!;
    const prov = page.locator('#provenance');
    const file = (await prov.getByRole('link').first().textContent())!;
    expect(file).toMatch(/\.(xml|csv)$/i);
    // The raw row is the archived file's line exactly as the lab sent it.
    const sub = (await w.f.inst.lg.store.ledger.listSubmissions({ limit: 100 })).find((s) => s.originalName === file)!;
    const line = Number(await failing.locator('button.source').first().getAttribute('data-line'));
    expect(readFileSync(sub.archivePath, 'utf8').split(/\r?\n/)[line - 1]).toBe(raw);
    expect(await prov.locator('code.hash').textContent()).toBe(sub.sha256);
    await w.shot(page, 'lot-blocked-provenance');
    // The evidence pack lists every file behind the lot's facts with its sha256.
    await page.waitForSelector(`#evidence-files tr:has-text("${sub.sha256}")`);
    await page.emulateMedia({ media: 'print' });
    await w.shot(page, 'lot-print');
    await page.emulateMedia({ media: 'screen' });

    // A notification's link opens the lot page.
    const link = links(w.base).lot('000000000010012345', 'NW26-0411');
    await page.goto(link);
    await page.waitForSelector('#lot-number');
    expect(await page.locator('#lot-number').textContent()).toBe('NW26-0411');

    // QA signs the release of this READY lot: the dialog shows the record and its hash first.
    await page.getByRole('button', { name: 'Sign disposition…' }).click();
    await page.getByLabel('Decision').selectOption('released');
    expect(await page.getByLabel('Meaning of your signature').inputValue()).toBe('release');
    await page.getByRole('button', { name: 'Show what I sign' }).click();
    await page.waitForSelector('#sign-hash');
    const hash = (await page.locator('#sign-hash').textContent())!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.locator('#sign-dialog details tbody tr').count()).toBeGreaterThan(5);
    await w.shot(page, 'sign-dialog');
    await page.getByLabel('Your password').fill(PW);
    w.advance(30_000);
    await page.locator('#sign-totp').fill(totpCode(w.secrets.get('qa')!, w.f.clock.now));
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    await page.waitForSelector('tr[data-signature]');
    const sigRow = page.locator('tr[data-signature]');
    expect(await sigRow.getAttribute('data-valid')).toBe('true');
    expect(await sigRow.textContent()).toContain('Test qa');
    expect(await sigRow.locator('code.hash').textContent()).toBe(hash);
    await w.shot(page, 'lot-signed');
    // The ERP push of the lot's readiness is listed with its state.
    expect(await page.locator('tr[data-topic="erp.lot_readiness"]').count()).toBe(1);
    const pushed = (await w.f.inst.lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness', limit: 1000 })).filter((m) => m.key === '000000000010012345/NW26-0411').pop()!;
    expect(JSON.stringify(pushed.payload)).toContain(hash);
    expect(await page.locator('tr[data-topic="erp.lot_readiness"] th code').textContent()).toBe(`${pushed.id.slice(0, 12)}…`);
    // The board shows the signed disposition and its signer.
    await page.goto('/lots?q=NW26-0411');
    await page.waitForSelector('tr[data-lot="NW26-0411"]');
    expect(await page.locator('tr[data-lot="NW26-0411"] td:last-child').textContent()).toBe('releasedTest qa');
    await page.context().close();
  });

  it('a user scoped to site 1000 sees none of site 2000\'s lots: board, search, counts, export, direct URL', async () => {
    const page = await w.signIn('recv');
    await page.waitForSelector('#lot-rows tr[data-lot]');
    expect(new URL(page.url()).searchParams.get('missingDoc')).toBe('coa');
    await page.goto('/lots?view=all');
    await page.waitForSelector('#lot-rows tr[data-lot]');
    const onPage = await lotNumbers(page);
    expect(onPage).toHaveLength(6);
    expect(onPage).not.toContain('NW26-0421');
    expect(await page.locator('#counts a[data-state="BLOCKED"] .n').textContent()).toBe('1');
    // Extra columns: documents have/need, deviations, the PO and its due date.
    expect(await page.locator('tr[data-lot="NW26-0427"] td.docs').textContent()).toBe('0/2missing coa, batch_record');
    expect(await page.locator('tr[data-lot="NW26-0415"] td.dev').textContent()).toBe('1 open2 total');
    expect(await page.locator('tr[data-lot="NW26-0411"] td:nth-child(4)').textContent()).toBe('4500012301item 00010');
    await w.shot(page, 'board-receiving');

    // Live: a lot that arrives while the page is open appears without a reload.
    await w.f.inst.lg.store.masterdata.upsertLot('000000000010012345', 'NW26-0999', { site: '1000' }, { submissionId: null, partner: 'erp' });
    await page.waitForSelector('tr[data-lot="NW26-0999"]');
    expect(await page.locator('#total').textContent()).toBe('7 lots');
    onPage.push('NW26-0999');
    onPage.sort();

    // CSV export of the filtered view: the rows are the page's rows; formulas neutralised.
    const [csvDl] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    const csv = readFileSync((await csvDl.path())!, 'utf8');
    const csvLots = (parse(csv) as string[][]).slice(1).map((r) => r[0]);
    expect(csvLots).toEqual(onPage.map((n) => (n.startsWith('=') ? `'${n}` : n)));
    const [xlsxDl] = await Promise.all([page.waitForEvent('download'), page.locator('#export-xlsx').click()]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await xlsxDl.path())!);
    const ws = wb.getWorksheet('lots')!;
    const xlsxLots: string[] = [];
    ws.eachRow((row, i) => {
      if (i > 1) xlsxLots.push(String(row.getCell(1).value));
    });
    expect(xlsxLots).toEqual(onPage.map((n) => (n.startsWith('=') ? `'${n}` : n)));
    ws.eachRow((row) => row.eachCell((c) => expect(c.formula).toBeUndefined()));

    // Filtered export follows the filters.
    await page.goto('/lots?readiness=NOT_READY');
    await page.waitForSelector('#lot-rows tr[data-lot]');
    const [dl2] = await Promise.all([page.waitForEvent('download'), page.locator('#export-csv').click()]);
    expect(readFileSync((await dl2.path())!, 'utf8').trim().split('\r\n').length - 1).toBe((await lotNumbers(page)).length);

    // Search, direct URLs (by id and the notification link) answer as for a lot that does not exist.
    await page.goto('/lots?q=NW26-0421');
    await page.waitForSelector('#lot-rows td.muted');
    expect(await page.locator('#total').textContent()).toBe('0 lots');
    const other = (await w.f.inst.lg.store.reads.lotIdsByNumberInScope('all', 'NW26-0421'))[0];
    await page.goto(`/lots/${other}`);
    await page.waitForSelector('p.error');
    expect(await page.locator('p.error').textContent()).toMatch(/not found/);
    expect(await page.content()).not.toContain('NW26-0421</');
    // The board's own routes answer within scope too: no extras, no XLSX row for the other site's lot.
    const mine = (await w.f.inst.lg.store.reads.lotIdsByNumberInScope('all', 'NW26-0411'))[0];
    const extras = await (await page.request.get(`/api/v1/lots/extras?ids=${other},${mine}`)).json();
    expect(extras.items.map((x: { lotId: number }) => x.lotId)).toEqual([mine]);
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load(Buffer.from(await (await page.request.get('/api/v1/lots/export.xlsx?q=NW26-0421')).body()) as never);
    expect(wb2.getWorksheet('lots')!.rowCount).toBe(1);
    await page.goto(links(w.base).lot('000000000010012347', 'NW26-0421'));
    await page.waitForSelector('main h1');
    expect(await page.locator('main h1').textContent()).toBe('Lot not found');
    await page.context().close();
  });

  it('QA approves a file held for review with a signed decision', async () => {
    const work = w.f.inst.work;
    const yaml = path.join(work, 'partners', 'bravo-lab.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^mode:.*$/m, 'mode: review'));
    // Partner files are re-read when changed (checked every 2 s): wait until the new mode is in effect.
    for (let i = 0; i < 100 && w.f.inst.lg.partners().get('bravo-lab')!.mode !== 'review'; i++) await new Promise((r) => setTimeout(r, 200));
    const src = readFileSync(path.join(work, 'fixtures', 'bravo-lab', 'LIMS_EXPORT_20261118_0200.csv'), 'utf8').split('\n');
    const file = path.join(work, 'LIMS_EXPORT_20261119_0200.csv');
    writeFileSync(file, [src[0], src[1].replace('99.6', '99.7')].join('\n') + '\n');
    const [r] = await ingestFiles(w.f.inst.lg, 'bravo-lab', [file]);
    expect(r.state).toBe('pending_review');

    const page = await w.signIn('qa');
    await page.waitForSelector('#lot-rows tr');
    await page.goto(`/submissions/${r.submissionId}`);
    // Keyboard: Escape closes the dialog and leaves nothing behind.
    await page.getByRole('button', { name: 'Approve or reject (signed)…' }).click();
    await page.waitForSelector('#sign-dialog[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#sign-dialog', { state: 'detached' });
    await page.getByRole('button', { name: 'Approve or reject (signed)…' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Reason').fill('checked against the LIMS printout');
    await page.getByRole('button', { name: 'Show what I sign' }).click();
    await page.waitForSelector('#sign-hash');
    expect(await page.locator('#sign-dialog').textContent()).toContain((await w.f.inst.lg.store.ledger.getSubmission(r.submissionId))!.sha256);
    await w.shot(page, 'review-dialog');
    await page.getByLabel('Your password').fill(PW);
    w.advance(30_000);
    await page.locator('#sign-totp').fill(totpCode(w.secrets.get('qa')!, w.f.clock.now));
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    await page.waitForFunction(() => !document.querySelector('#sign-dialog') && !document.querySelector('#review'));
    expect((await w.f.inst.lg.store.ledger.getSubmission(r.submissionId))!.state).toBe('applied');
    expect((await w.f.inst.lg.store.audit.listAudit({ action: 'signature.applied', limit: 10 })).some((e) => e.subject === `submission:${r.submissionId}`)).toBe(true);
    await page.context().close();
  });
  it('a lot whose readiness is being recomputed carries a "recomputing" badge on the board and its page', async () => {
    const st = w.f.inst.lg.store;
    const lot = (await st.reads.listLots()).find((l) => l.lotNumber === 'NW26-0427')!;
    await st.transaction(async (tx) => {
      await tx.readiness.markLotsDirty([lot.lotId], {});
    });
    try {
      const page = await w.signIn('ops');
      await page.goto(new URL('/lots?view=all&q=NW26-0427', page.url()).href);
      await page.waitForFunction(() => document.querySelectorAll('#lot-rows tr[data-lot]').length === 1);
      expect(await page.locator('#lot-rows tr[data-lot="NW26-0427"] .badge.recomputing').textContent()).toBe('recomputing…');
      await page.getByRole('link', { name: 'NW26-0427' }).click();
      await page.waitForSelector('#lot-number');
      expect(await page.locator('.lot-head .badge.recomputing').count()).toBe(1);
      await st.transaction(async (tx) => {
        await tx.readiness.clearDirty([lot.lotId]);
      });
      await page.reload();
      await page.waitForSelector('#lot-number');
      expect(await page.locator('.lot-head .badge.recomputing').count()).toBe(0);
    } finally {
      await st.transaction(async (tx) => {
        await tx.readiness.clearDirty([lot.lotId]);
      });
    }
  });
});
