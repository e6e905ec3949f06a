// SMTP e-mail notifications through nodemailer: plain text plus a simple HTML part, both with
// the link. Server and addresses come from config; the login from environment variables.

import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { DeliveryResult } from '../delivery.js';
import { isLoopbackHost } from '../delivery.js';
import { envSecret, OutboundConfigError, type ConfigProblem } from '../errors.js';
import type { Notification, NotifyChannel } from './render.js';
import { notificationHtml, notificationText } from './render.js';

export interface EmailChannelConfig {
  name: string;
  type: 'email';
  host: string;
  /** Default 587 (STARTTLS), or 465 when `secure`. */
  port?: number;
  /** Implicit TLS from the first byte (port 465). */
  secure?: boolean;
  /** Refuse to send unless STARTTLS succeeds. Default true except on loopback hosts. */
  requireTLS?: boolean;
  from: string;
  to: string[];
  cc?: string[];
  userEnv?: string;
  passwordEnv?: string;
  subjectPrefix?: string;
  timeoutMs?: number;
}

/** What this channel needs from a nodemailer transport (tests may hand in a double). */
export interface MailTransport {
  sendMail(mail: SendMailOptions): Promise<{ accepted?: unknown[]; rejected?: unknown[] }>;
  close(): void;
}

export interface EmailDeps {
  transport?: (options: Record<string, unknown>) => MailTransport;
  path?: string;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

export function createEmailChannel(cfg: EmailChannelConfig, env: NodeJS.ProcessEnv, deps: EmailDeps = {}): NotifyChannel {
  const where = deps.path ?? `channel "${cfg.name}"`;
  const problems: ConfigProblem[] = [];
  if (!cfg.host) problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.host`, message: 'SMTP host is required' });
  if (!addressOk(cfg.from)) problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.from`, message: `not an e-mail address: ${JSON.stringify(cfg.from)}` });
  if (!Array.isArray(cfg.to) || cfg.to.length === 0) problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.to`, message: 'needs at least one recipient' });
  [...(cfg.to ?? []), ...(cfg.cc ?? [])].forEach((a) => {
    if (!addressOk(a)) problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.to`, message: `not an e-mail address: ${JSON.stringify(a)}` });
  });
  if (Boolean(cfg.userEnv) !== Boolean(cfg.passwordEnv)) {
    problems.push({ code: 'E_CONFIG_INVALID', path: where, message: 'userEnv and passwordEnv go together' });
  }
  const user = cfg.userEnv ? envSecret(env, cfg.userEnv, `${where}.userEnv`, 'SMTP user', problems) : undefined;
  const pass = cfg.passwordEnv ? envSecret(env, cfg.passwordEnv, `${where}.passwordEnv`, 'SMTP password', problems) : undefined;
  if (problems.length) throw new OutboundConfigError(problems);

  const secure = cfg.secure ?? false;
  const timeoutMs = cfg.timeoutMs ?? 30_000;
  const options = {
    host: cfg.host,
    port: cfg.port ?? (secure ? 465 : 587),
    secure,
    // Credentials and lot data never cross a network in clear text unless the operator says so.
    requireTLS: secure ? false : (cfg.requireTLS ?? !isLoopbackHost(cfg.host)),
    auth: user ? { user, pass } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
  const transport: MailTransport = deps.transport ? deps.transport(options) : (nodemailer.createTransport(options) as unknown as MailTransport);
  const prefix = cfg.subjectPrefix ?? '[lotgate] ';
  const what = `${cfg.name} (smtp://${cfg.host}:${options.port})`;

  return {
    name: cfg.name,
    type: 'email',
    async send(n: Notification): Promise<DeliveryResult> {
      try {
        const info = await transport.sendMail({
          from: cfg.from,
          to: n.recipients?.length ? n.recipients : cfg.to,
          cc: n.recipients?.length ? [...cfg.to, ...(cfg.cc ?? [])] : cfg.cc,
          subject: `${prefix}${n.title}`.replace(/[\r\n]+/g, ' '),
          text: notificationText(n),
          html: notificationHtml(n),
          priority: n.severity === 'critical' ? 'high' : 'normal',
          headers: { 'X-Lotgate-Severity': n.severity },
        });
        const rejected = (info.rejected ?? []).map(String);
        if (rejected.length) {
          // Sent to the others; say so rather than report a full success.
          return { ok: false, retryable: false, error: `${what}: recipients refused by the server: ${rejected.join(', ')}` };
        }
        return { ok: true };
      } catch (err) {
        return smtpFailure(err, what);
      }
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}

/**
 * SMTP reply codes say it: 4xx is temporary (greylisting, mailbox busy), 5xx permanent (unknown
 * recipient, message refused). Login failures and connection problems are the set-up's, not the
 * message's: retried until fixed or dead-lettered.
 */
export function smtpFailure(err: unknown, what: string): DeliveryResult {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
  const detail = [e.code, e.responseCode, (e.response ?? e.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 300)].filter(Boolean).join(' ');
  if (e.code === 'EAUTH') return { ok: false, retryable: true, error: `${what}: login refused (check the SMTP user/password variables): ${detail}` };
  if (typeof e.responseCode === 'number') {
    return { ok: false, retryable: e.responseCode < 500, error: `${what}: ${detail}` };
  }
  return { ok: false, retryable: true, error: `${what}: ${detail}` };
}

function addressOk(a: unknown): boolean {
  if (typeof a !== 'string') return false;
  const m = /<([^>]+)>\s*$/.exec(a);
  return EMAIL.test((m ? m[1] : a).trim());
}
