// `lotgate demo` users: one per role, password and TOTP set up, able to sign in at once.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { accessFor } from '../../pipeline/auth/permissions.js';
import { AuthService } from '../../pipeline/auth/service.js';
import { totpCode } from '../../pipeline/auth/totp.js';
import { demoUserLines, ensureDemoUsers } from '../../pipeline/cli/demo-users.js';
import { installation, type Installation } from '../api/helpers.js';

let inst: Installation;
beforeAll(async () => {
  inst = await installation({ story: false });
});
afterAll(() => inst?.cleanup());

it('creates a signed-in-ready user per role, prints secrets once, and a rerun keeps them', async () => {
  const lg = inst.lg;
  const users = await ensureDemoUsers(lg.store, lg.config, new Set(lg.partners().keys()));
  expect(users.map((u) => u.role)).toEqual(['ops', 'qa', 'receiving', 'auditor', 'partner_uploader']);
  const auth = new AuthService(lg.store, lg.config);
  for (const u of users) {
    expect(u.totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    const s = await auth.login({ username: u.username, password: u.password, totp: totpCode(u.totpSecret!, new Date()) });
    expect(s.stage).toBe('full');
  }
  const acme = await auth.principalOf((await lg.store.auth.getPrincipalByName('demo-acme'))!);
  expect(acme.partner).toBe('acme-cmo');
  expect(accessFor(acme, 'submissions:create')).toEqual([{ sites: '*', materials: '*', partners: ['acme-cmo'] }]);
  const lines = demoUserLines(users, 'http://127.0.0.1:8080');
  expect(lines.join('\n')).toContain('http://127.0.0.1:8080/lots');
  expect(lines.join('\n')).toContain(users[1].totpSecret!);

  const again = await ensureDemoUsers(lg.store, lg.config, new Set(lg.partners().keys()));
  expect(again.map((u) => u.totpSecret)).toEqual([null, null, null, null, null]);
});
