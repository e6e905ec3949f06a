// digest: a daily summary per recipient group through a real SMTP server — the lots that are
// BLOCKED, late or changed, only those the group follows, once per group and day.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mailText, startMailServer, type MailServer } from './helpers/smtp.js';
import { closeWorlds, ingestDemo, makeWorld } from './helpers/world.js';

let smtp: MailServer;
beforeAll(async () => {
  smtp = await startMailServer();
});
afterAll(async () => {
  await smtp.close();
});
afterEach(async () => {
  await closeWorlds();
  smtp.mails.length = 0;
});

const mail = (name: string, to: string) => ({ name, type: 'email', host: '127.0.0.1', port: smtp.port, from: 'lotgate@northwind.test', to: [to], timeoutMs: 5000 });

describe('digest', () => {
  it('sends each recipient group the lots it follows, once a day', async () => {
    const w = await makeWorld({
      publicUrl: 'https://lotgate.northwind.test',
      notifications: { channels: [mail('qa-mail', 'qa@northwind.test'), mail('acme-mail', 'acme-desk@northwind.test')], rules: [] },
      jobs: {
        timezone: 'Europe/Berlin',
        digest: { groups: [{ name: 'qa', to: ['qa-mail'] }, { name: 'acme', to: ['acme-mail'], vendors: ['acme-cmo'] }] },
      },
    });
    await ingestDemo(w);
    const r = await w.run('digest');
    expect(r).toMatchObject({ status: 'ok', counts: { groups: 2, lots: 6, digests: 2, sent: 2 } });
    const byTo = new Map(smtp.mails.map((m) => [m.to.join(), m]));
    const qa = byTo.get('qa@northwind.test')!;
    const acme = byTo.get('acme-desk@northwind.test')!;
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(w.clock.now());
    expect(qa.subject).toMatch(new RegExp(`^\\[lotgate\\] lotgate daily summary ${today} \\(qa\\): 2 blocked, 1 late, 6 changed$`));
    expect(acme.subject).toMatch(/\(acme\): 1 blocked, 0 late, 3 changed$/);
    const qaText = mailText(qa.raw);
    expect(qaText).toContain('000000000010012346 / NW26-0415');
    expect(qaText).toContain('000000000010012347 / NW26-0421');
    expect(qaText).toContain('https://lotgate.northwind.test/lots/000000000010012346/NW26-0415');
    const acmeText = mailText(acme.raw);
    expect(acmeText).toContain('NW26-0415');
    expect(acmeText).not.toContain('NW26-0421'); // Delta's lot: not followed by the acme group

    // Again the same day: nothing new goes out.
    expect(await w.run('digest')).toMatchObject({ counts: { sent: 0, alreadySent: 2 } });
    expect(smtp.mails).toHaveLength(2);

    // The next day: a new digest; nothing changed since the last one, the blocked lots remain.
    w.clock.advance(86_400_000);
    expect(await w.run('digest')).toMatchObject({ counts: { sent: 2 } });
    expect(smtp.mails.slice(2).map((m) => m.subject.replace(/.*: /, '')).sort()).toEqual(['1 blocked, 0 late, 0 changed', '2 blocked, 1 late, 0 changed']);
  });

  it('names a group’s unknown channel instead of sending', async () => {
    const w = await makeWorld({ notifications: { channels: [mail('qa-mail', 'qa@northwind.test')] }, jobs: { digest: { groups: [{ name: 'qa', to: ['qa-mial'] }] } } });
    const r = await w.run('digest');
    expect(r).toMatchObject({ status: 'error', error: 'jobs.digest.groups qa: no notification channel named "qa-mial"' });
    expect(smtp.mails).toEqual([]);
  });
});
