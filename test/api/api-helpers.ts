import { JOBS } from '../../jobs/index.js';
// An API instance over a fixture installation, with principals of every kind and a test clock
// (TOTP codes are computed for it; each login moves it on by one time step).

import type { FastifyInstance } from 'fastify';
import { buildApi, type ApiOptions } from '../../pipeline/api/app.js';
import { directIntake } from '../../pipeline/api/intake-bridge.js';
import { AuthService } from '../../pipeline/auth/service.js';
import { totpCode } from '../../pipeline/auth/totp.js';
import type { Scope } from '../../pipeline/store/scope.js';
import { installation, type Installation } from './helpers.js';

export const PW = 'a long test password';

export interface ApiFixture {
  inst: Installation;
  app: FastifyInstance;
  auth: AuthService;
  clock: { now: Date };
  /** Creates a user (with TOTP) holding these roles. */
  user(username: string, roles: [string, Partial<Scope>?][], opts?: { partner?: string; enrol?: boolean }): Promise<{ secret: string | null }>;
  /** Logs in over HTTP; returns the cookie header and CSRF token. */
  login(username: string): Promise<{ cookie: string; csrf: string; setCookie: string }>;
  close(): Promise<void>;
}

export async function apiFixture(opts: { api?: ApiOptions; story?: boolean; secureCookies?: boolean } = {}): Promise<ApiFixture> {
  const clock = { now: new Date('2026-11-20T09:00:00Z') };
  const now = () => clock.now;
  const inst = await installation({ story: opts.story, now });
  if (opts.secureCookies) inst.lg.config.http.secureCookies = true;
  const auth = new AuthService(inst.lg.store, inst.lg.config, now);
  const app = await buildApi(
    { config: inst.lg.config, store: inst.lg.store, auth, partners: inst.lg.partners, now, log: inst.lg.log, intake: directIntake(inst.lg), ingest: inst.lg, jobs: JOBS },
    opts.api,
  );
  const secrets = new Map<string, string | null>();
  return {
    inst,
    app,
    auth,
    clock,
    async user(username, roles, o = {}) {
      await auth.addUser({ username, displayName: `Test ${username}`, kind: o.partner ? 'partner_user' : 'user', partner: o.partner }, 'test');
      const { code } = await auth.issueReset(username, 'test');
      await auth.completeReset(username, code, PW);
      for (const [role, scope] of roles) await auth.grant(username, role, { sites: '*', materials: '*', partners: '*', ...scope }, 'test');
      let secret: string | null = null;
      if (o.enrol !== false) {
        const id = (await inst.lg.store.auth.getPrincipalByName(username))!.id;
        secret = (await auth.startEnrolment(id)).secret;
        await auth.confirmEnrolment(id, totpCode(secret, clock.now));
      }
      secrets.set(username, secret);
      return { secret };
    },
    async login(username) {
      clock.now = new Date(clock.now.getTime() + 30_000);
      const secret = secrets.get(username);
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: PW, ...(secret ? { totp: totpCode(secret, clock.now) } : {}) } });
      if (res.statusCode !== 200) throw new Error(`login of ${username} failed: ${res.statusCode} ${res.body}`);
      const setCookie = String(res.headers['set-cookie']);
      return { cookie: setCookie.split(';')[0], csrf: res.json().csrfToken, setCookie };
    },
    async close() {
      await app.close();
      await inst.cleanup();
    },
  };
}
