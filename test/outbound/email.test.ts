import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundConfigError } from '../../pipeline/outbound/errors.js';
import { createEmailChannel, type EmailChannelConfig, type MailTransport } from '../../pipeline/outbound/notify/email.js';
import { eventNotification } from '../../pipeline/outbound/notify/render.js';
import type { NotifyEvent } from '../../pipeline/outbound/notify/rules.js';

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

let server: SMTPServer;
let port: number;
const received: Received[] = [];
let failData: { code: number; message: string } | null = null;

beforeAll(async () => {
  const opts: SMTPServerOptions = {
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 'smtp-pw') cb(null, { user: 'mailer' });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('unknown')) cb(Object.assign(new Error('No such user here'), { responseCode: 550 }));
      else cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failData) {
          cb(Object.assign(new Error(failData.message), { responseCode: failData.code }));
          return;
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  };
  server = new SMTPServer(opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  received.length = 0;
  failData = null;
});

const event: NotifyEvent = {
  type: 'lot_blocked',
  subject: '000100234 / L2026-001',
  at: '2026-03-02T08:15:00.000Z',
  details: { message: 'Open major deviation DEV-14 (filter <integrity> & retest).', partner: 'acme-cmo' },
  link: 'https://lotgate.example.com/lots/000100234/L2026-001?tab=reasons&from=mail',
};

const env = { SMTP_USER: 'mailer', SMTP_PASS: 'smtp-pw' };
const cfg = (over: Partial<EmailChannelConfig> = {}): EmailChannelConfig => ({
  name: 'qa-mail',
  type: 'email',
  host: '127.0.0.1',
  port,
  from: 'lotgate <lotgate@example.com>',
  to: ['qa@example.com', 'supply@example.com'],
  userEnv: 'SMTP_USER',
  passwordEnv: 'SMTP_PASS',
  timeoutMs: 5000,
  ...over,
});

/** The decoded text/plain and text/html parts of a raw message. */
function parts(raw: string): Record<string, string> {
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(raw)?.[1];
  const out: Record<string, string> = {};
  const chunks = boundary ? raw.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const chunk of chunks) {
    const split = chunk.indexOf('\r\n\r\n');
    const head = chunk.slice(0, split);
    let body = chunk.slice(split + 4);
    const type = /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.trim().toLowerCase() ?? 'text/plain';
    const enc = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
    if (enc === 'quoted-printable') {
      body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    } else if (enc === 'base64') {
      body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    out[type] = body;
  }
  return out;
}

describe('e-mail channel', () => {
  it('sends text and HTML with the link, logging in with credentials from the environment', async () => {
    const ch = createEmailChannel(cfg(), env);
    expect(await ch.send(eventNotification(event))).toEqual({ ok: true });
    await ch.close?.();
    expect(received).toHaveLength(1);
    const mail = received[0];
    expect(mail.from).toBe('lotgate@example.com');
    expect(mail.to).toEqual(['qa@example.com', 'supply@example.com']);
    expect(mail.user).toBe('mailer');
    expect(mail.raw).toMatch(/^Subject: \[lotgate\] Lot BLOCKED: 000100234 \/ L2026-001\r$/m);
    expect(mail.raw).toMatch(/^X-Lotgate-Severity: critical\r$/m);
    const p = parts(mail.raw);
    expect(p['text/plain']).toContain('Open lot: https://lotgate.example.com/lots/000100234/L2026-001?tab=reasons&from=mail');
    expect(p['text/plain']).toContain('Partner: acme-cmo');
    expect(p['text/html']).toContain('<a href="https://lotgate.example.com/lots/000100234/L2026-001?tab=reasons&amp;from=mail">Open lot</a>');
    expect(p['text/html']).toContain('filter &lt;integrity&gt; &amp; retest');
  });

  it('treats a refused login as retryable, with a hint', async () => {
    const result = await createEmailChannel(cfg(), { SMTP_USER: 'mailer', SMTP_PASS: 'wrong' }).send(eventNotification(event));
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('login refused') });
    expect(received).toHaveLength(0);
  });

  it('treats a permanent SMTP refusal (5xx) as not retryable and a temporary one (4xx) as retryable', async () => {
    failData = { code: 552, message: 'Message rejected by policy' };
    expect(await createEmailChannel(cfg(), env).send(eventNotification(event))).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('552') });
    failData = { code: 451, message: 'Try again later' };
    expect(await createEmailChannel(cfg(), env).send(eventNotification(event))).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('451') });
  });

  it('does not report success when a recipient was refused', async () => {
    const result = await createEmailChannel(cfg({ to: ['qa@example.com', 'unknown@example.com'] }), env).send(eventNotification(event));
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('unknown@example.com') });
    expect(received.map((r) => r.to)).toEqual([['qa@example.com']]);
    const all = await createEmailChannel(cfg({ to: ['unknown@example.com'] }), env).send(eventNotification(event));
    expect(all).toMatchObject({ ok: false, retryable: false });
  });

  it('treats an unreachable server as retryable', async () => {
    const probe = new SMTPServer({ logger: false });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const closedPort = (probe.server.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await createEmailChannel(cfg({ port: closedPort }), env).send(eventNotification(event))).toMatchObject({ ok: false, retryable: true });
  });

  it('requires TLS towards non-loopback servers unless told otherwise', () => {
    const seen: Record<string, unknown>[] = [];
    const transport = (o: Record<string, unknown>): MailTransport => {
      seen.push(o);
      return { sendMail: async () => ({}), close: () => undefined };
    };
    createEmailChannel(cfg({ host: 'smtp.example.com', port: undefined }), env, { transport });
    createEmailChannel(cfg({ host: 'smtp.example.com', secure: true, port: undefined }), env, { transport });
    createEmailChannel(cfg({ host: 'smtp.example.com', requireTLS: false }), env, { transport });
    expect(seen.map((o) => [o.port, o.secure, o.requireTLS])).toEqual([
      [587, false, true],
      [465, true, false],
      [port, false, false],
    ]);
    expect(seen[0].auth).toEqual({ user: 'mailer', pass: 'smtp-pw' });
  });

  it('fails at construction on missing variables and bad addresses, all at once', () => {
    try {
      createEmailChannel(cfg({ from: 'nobody', to: ['qa@example.com', 'not an address'], passwordEnv: 'MISSING_PW' }), { SMTP_USER: 'u' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundConfigError);
      expect((err as OutboundConfigError).problems.map((p) => [p.code, p.path])).toEqual([
        ['E_CONFIG_INVALID', 'channel "qa-mail".from'],
        ['E_CONFIG_INVALID', 'channel "qa-mail".to'],
        ['E_CONFIG_ENV_MISSING', 'channel "qa-mail".passwordEnv'],
      ]);
    }
    expect(() => createEmailChannel(cfg({ userEnv: undefined }), env)).toThrow(/userEnv and passwordEnv go together/);
  });
});
