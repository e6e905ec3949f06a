import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundConfigError, type ConfigProblem } from '../../pipeline/outbound/errors.js';
import { buildNotifier, dispatch } from '../../pipeline/outbound/notify/channels.js';
import type { MailTransport } from '../../pipeline/outbound/notify/email.js';
import type { NotifyEvent } from '../../pipeline/outbound/notify/rules.js';
import { startHttpServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const config = YAML.parse(`
channels:
  - { name: qa-teams, type: teams, urlEnv: TEAMS_QA_URL }
  - name: qa-mail
    type: email
    host: smtp.example.com
    from: lotgate@example.com
    to: [qa@example.com]
    userEnv: SMTP_USER
    passwordEnv: SMTP_PASS
rules:
  - { on: [lot_blocked, file_quarantined], to: [qa-teams, qa-mail] }
  - { on: [partner_silent], to: [qa-mail] }
`);

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof OutboundConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected an OutboundConfigError');
}

const event: NotifyEvent = { type: 'lot_blocked', subject: 'M1 / L1', at: '2026-03-02T08:15:00.000Z', details: {}, link: 'https://lotgate.example.com/lots/M1/L1' };

describe('buildNotifier + dispatch', () => {
  it('sends an event to each routed channel and skips what was already sent', async () => {
    const mails: unknown[] = [];
    const mailTransport = (): MailTransport => ({
      sendMail: async (m) => {
        mails.push(m);
        return { accepted: ['qa@example.com'], rejected: [] };
      },
      close: () => undefined,
    });
    const notifier = buildNotifier(config, { TEAMS_QA_URL: `${server.url}/hook`, SMTP_USER: 'u', SMTP_PASS: 'p' }, { mailTransport });
    expect(notifier.channels.map((c) => c.name)).toEqual(['qa-teams', 'qa-mail']);

    const sent = new Set<string>();
    const first = await dispatch(event, notifier, (k) => sent.has(k));
    expect(first.map((o) => [o.channel, o.result])).toEqual([
      ['qa-teams', { ok: true }],
      ['qa-mail', { ok: true }],
    ]);
    first.forEach((o) => sent.add(o.key));
    expect(server.requests).toHaveLength(1);
    expect(mails).toHaveLength(1);

    const again = await dispatch({ ...event, details: { message: 'found again by the next sweep' } }, notifier, (k) => sent.has(k));
    expect(again.map((o) => o.result)).toEqual(['already_sent', 'already_sent']);
    expect(server.requests).toHaveLength(1);
    expect(mails).toHaveLength(1);

    expect(await dispatch({ ...event, type: 'lot_late' }, notifier, () => false)).toEqual([]);
  });

  it('reports config mistakes with paths, all at once', () => {
    const bad = YAML.parse(`
channels:
  - { name: qa-teams, type: teams, urlEnv: TEAMS_QA_URL }
  - { name: qa-teams, type: teams, urlEnv: OTHER_URL }
rules:
  - { on: [lot_blocked], to: [qa-teams, pager] }
`);
    expect(problemsOf(() => buildNotifier(bad, {}))).toEqual([
      { code: 'E_CONFIG_DUPLICATE', path: 'notifications.channels[1].name', message: '"qa-teams" is already used' },
      { code: 'E_CONFIG_INVALID', path: 'notifications.rules[0].to[1]', message: expect.stringContaining('no channel named "pager"') },
      { code: 'E_CONFIG_ENV_MISSING', path: 'notifications.channels[0].urlEnv', message: expect.stringContaining('TEAMS_QA_URL') },
      { code: 'E_CONFIG_ENV_MISSING', path: 'notifications.channels[1].urlEnv', message: expect.stringContaining('OTHER_URL') },
    ]);
    expect(problemsOf(() => buildNotifier({ channels: [{ name: 'x', type: 'slack', url: 'u' }] }, {}))).toEqual([
      { code: 'E_CONFIG_INVALID', path: 'notifications.channels[0]', message: 'type must be one of "teams", "email", got "slack"' },
    ]);
    expect(problemsOf(() => buildNotifier({ rules: [{ on: ['lot_exploded'], to: ['x'] }] }, {}))[0]).toMatchObject({ path: 'notifications.rules[0].on[0]' });
  });

  it('builds nothing from an absent section', () => {
    expect(buildNotifier(undefined, {})).toEqual({ channels: [], rules: [] });
  });
});
