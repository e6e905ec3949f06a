// A real lotgate API server on a free loopback port (fixture story ingested, users of each role)
// and a real Chromium driven by playwright-core, for the board's browser tests.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { totpCode } from '../../pipeline/auth/totp.js';
import { apiFixture, PW, type ApiFixture } from '../api/api-helpers.js';
import { root } from '../api/helpers.js';

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
  const browser = await chromium.launch({
    executablePath: process.env.LOTGATE_CHROMIUM ?? '/usr/bin/chromium',
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
