// A real SMTP server on loopback (smtp-server) that keeps what it receives; tests script
// refusals per message.

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string[];
  subject: string;
  raw: string;
}

export interface MailServer {
  port: number;
  mails: Mail[];
  /** Return an SMTP code to refuse this message (e.g. 451 to make the sender retry). */
  refuse: (raw: string, nth: number) => number | null;
  close(): Promise<void>;
}

function subjectOf(raw: string): string {
  const m = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw);
  if (!m) return '';
  const folded = m[1].replace(/\r?\n[ \t]/g, ' ');
  // nodemailer encodes non-ASCII subjects as RFC 2047 words.
  return folded.replace(/=\?utf-8\?([BQ])\?([^?]*)\?=\s*/gi, (_w, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
  );
}

export async function startMailServer(): Promise<MailServer> {
  let n = 0;
  const state: MailServer = { port: 0, mails: [], refuse: () => null, close: async () => undefined };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const code = state.refuse(raw, ++n);
        if (code) {
          cb(Object.assign(new Error('scripted refusal'), { responseCode: code }));
          return;
        }
        state.mails.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: subjectOf(raw), raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}

/** The decoded text part of a mail (quoted-printable soft breaks joined). */
export function mailText(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_x, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}
