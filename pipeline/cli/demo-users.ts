// `lotgate demo`: one user per role (and a partner coordinator), with password and TOTP already
// set up, so a newcomer can open the board at once. DEMO ONLY: the passwords are printed, and the
// TOTP secrets are printed once, when the users are created.

import { AuthService } from '../auth/service.js';
import { totpCode } from '../auth/totp.js';
import type { LotgateConfig } from '../config/config.js';
import type { Store } from '../store/store.js';

export interface DemoUser {
  username: string;
  role: string;
  partner?: string;
  password: string;
  /** Set when created in this run; null when the user existed already (its secret was printed then). */
  totpSecret: string | null;
}

const DEMO = [
  { username: 'demo-ops', name: 'Olivia Ops (demo)', role: 'ops' },
  { username: 'demo-qa', name: 'Quentin QA (demo)', role: 'qa' },
  { username: 'demo-receiving', name: 'Rita Receiving (demo)', role: 'receiving' },
  { username: 'demo-auditor', name: 'Aki Auditor (demo)', role: 'auditor' },
  { username: 'demo-acme', name: 'Anna ACME coordinator (demo)', role: 'partner_uploader', partner: 'acme-cmo' },
] as const;

export async function ensureDemoUsers(store: Store, config: LotgateConfig, partners: Set<string>): Promise<DemoUser[]> {
  const auth = new AuthService(store, config);
  // Enrolment is confirmed with the code of the previous time step, so the first sign-in can use the current one.
  const before = new AuthService(store, config, () => new Date(Date.now() - 30_000));
  const out: DemoUser[] = [];
  for (const d of DEMO) {
    const partner = 'partner' in d ? d.partner : undefined;
    if (partner && !partners.has(partner)) continue;
    const password = `${d.username}-password`;
    if (await store.auth.getPrincipalByName(d.username)) {
      out.push({ username: d.username, role: d.role, partner, password, totpSecret: null });
      continue;
    }
    const p = await auth.addUser({ username: d.username, displayName: d.name, kind: partner ? 'partner_user' : 'user', partner, password }, 'demo');
    await auth.grant(d.username, d.role, { sites: '*', materials: '*', partners: '*' }, 'demo');
    const { secret } = await auth.startEnrolment(p.id);
    await before.confirmEnrolment(p.id, totpCode(secret, new Date(Date.now() - 30_000)));
    out.push({ username: d.username, role: d.role, partner, password, totpSecret: secret });
  }
  return out;
}

export function demoUserLines(users: DemoUser[], url: string): string[] {
  if (!users.length) return [];
  return [
    '',
    `Web board: ${url}/lots — DEMO ONLY users: add a user's TOTP secret to an authenticator app, then sign in with the password and the app's code`,
    ...users.map((u) => `  ${u.username.padEnd(16)} ${(u.role + (u.partner ? ` (${u.partner})` : '')).padEnd(30)} password ${u.password.padEnd(26)} ${u.totpSecret ? `TOTP secret ${u.totpSecret}` : 'TOTP secret: printed when it was created'}`),
  ];
}
