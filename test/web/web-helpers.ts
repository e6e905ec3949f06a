// A real lotgate API server on a free loopback port (fixture story ingested, users of each role)
// and a real Chromium driven by playwright-core, for the board's browser tests.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { totpCode } from '../../pipeline/auth/totp.js';
import { apiFixture, PW, type ApiFixture } from '../api/api-helpers.js';
import { root } from '../api/helpers.js';

const AXE = path.join(root, 'node_modules', 'axe-core', 'axe.min.js');
let axeSource: string | undefined;

export const SHOTS = path.join(root, 'artifacts', 'screenshots');

export interface WebFixture {
  f: ApiFixture;
  base: string;
  browser: Browser;
  secrets: Map<string, string | null>;
  /** The server clock runs with real time (cookies must not look expired to the browser) plus this offset. */
  advance(ms: number): void;
  /** A fresh browser context signed in as `username` through the sign-in page. */
  signIn(username: string): Promise<Page>;
  shot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function webFixture(): Promise<WebFixture> {
  const f = await apiFixture({ api: { loginRateLimit: { max: 1000, timeWindow: 60_000 } } });
  let offset = 0;
  Object.defineProperty(f.clock, 'now', { get: () => new Date(Date.now() + offset), set: () => {}, configurable: true });
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = f.app.server.address() as { port: number };
  const base = `http://127.0.0.1:${addr.port}`;
  const executablePath = process.env.LOTGATE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install chromium (as .ci/run does), or set LOTGATE_CHROMIUM`);
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  mkdirSync(SHOTS, { recursive: true });
  const secrets = new Map<string, string | null>();
  const w: WebFixture = {
    f,
    base,
    browser,
    secrets,
    advance: (ms) => (offset += ms),
    async signIn(username) {
      const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, acceptDownloads: true, timezoneId: 'Europe/Berlin' });
      // The board polls every 20 s; in tests every half second.
      await ctx.addInitScript(() => Object.assign(window, { __lotgatePollMs: 500 }));
      const page = await ctx.newPage();
      await page.goto('/login');
      await page.getByLabel('User name').fill(username);
      await page.getByLabel('Password', { exact: true }).fill(PW);
      const secret = secrets.get(username);
      if (secret) {
        offset += 30_000; // a TOTP step is accepted once per user: each sign-in uses a newer one
        await page.getByLabel('Authentication code').fill(totpCode(secret, f.clock.now));
      }
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((u) => u.pathname !== '/login');
      return page;
    },
    async shot(page, name) {
      const file = path.join(SHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      expect(await a11yProblems(page), `accessibility of ${name}`).toEqual([]);
      expect(await axeViolations(page), `axe-core on ${name}`).toEqual([]);
      return file;
    },
    async close() {
      await browser.close();
      await f.close();
    },
  };
  return w;
}

export async function addUser(w: WebFixture, username: string, roles: Parameters<ApiFixture['user']>[1], opts?: Parameters<ApiFixture['user']>[2]) {
  const { secret } = await w.f.user(username, roles, opts);
  w.secrets.set(username, secret);
}

/**
 * The accessibility basics every page must meet (axe-core is not installed): a language, one
 * h1, a name for every visible form control and button, scope on header cells, no positive
 * tabindex, no horizontal page overflow.
 */
export async function a11yProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    if (!document.documentElement.lang) out.push('html has no lang');
    const h1 = [...document.querySelectorAll('h1')].filter((e) => (e as HTMLElement).offsetParent !== null || e.closest('dialog[open]'));
    if (h1.length !== 1 && !document.querySelector('dialog[open]')) out.push(`${h1.length} h1 elements`);
    for (const el of document.querySelectorAll('input, select, textarea, button, a[href]')) {
      const e = el as HTMLInputElement;
      if (e.type === 'hidden' || (e.offsetParent === null && !e.closest('dialog[open]'))) continue;
      const named = (e.labels?.length ?? 0) > 0 || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.tagName !== 'INPUT' && e.tagName !== 'SELECT' && e.tagName !== 'TEXTAREA' && (e.textContent ?? '').trim());
      if (!named) out.push(`unnamed ${e.tagName.toLowerCase()}#${e.id || e.name || '?'}`);
    }
    for (const th of document.querySelectorAll('thead th')) if (!th.getAttribute('scope')) out.push('thead th without scope');
    for (const el of document.querySelectorAll('[tabindex]')) if (Number(el.getAttribute('tabindex')) > 0) out.push('positive tabindex');
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`page wider than the window (${document.documentElement.scrollWidth} > ${window.innerWidth})`);
    return out;
  });
}

/**
 * axe-core (WCAG 2 A/AA rules) on the page as it is: the serious and critical violations, each as
 * "rule-id: help (selector, …)". Injected from node_modules, nothing fetched.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  // The board's CSP refuses inline scripts (page.addScriptTag would be blocked): evaluate the
  // source through the DevTools protocol instead, which CSP does not govern.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate((axeSource ??= readFileSync(AXE, 'utf8')));
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ')}${v.nodes.length > 4 ? `, +${v.nodes.length - 4}` : ''})`);
  });
}
