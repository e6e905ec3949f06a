// notify: events found in the audit trail and the ledger, routed by rule to a real SMTP server
// and a Teams-style webhook on loopback, each with its link, sent once per channel however
// often the job runs, retried after a failure without repeating what went out.

import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { mailText, startMailServer, type MailServer } from './helpers/smtp.js';
import { closeWorlds, FIXTURES, ingestDemo, makeWorld, type World } from './helpers/world.js';

let smtp: MailServer;
let teams: Receiver;
beforeAll(async () => {
  smtp = await startMailServer();
  teams = await startReceiver();
});
afterAll(async () => {
  await smtp.close();
  await teams.close();
});
afterEach(async () => {
  await closeWorlds();
  smtp.mails.length = 0;
  smtp.refuse = () => null;
  teams.requests.length = 0;
  teams.seen.length = 0;
  teams.answer = () => 'ok';
});

async function notifyWorld(partners: Record<string, Record<string, unknown>> = {}): Promise<World> {
  return await makeWorld({
    env: { TEAMS_QA: `${teams.url}/webhook` },
    publicUrl: 'https://lotgate.northwind.test/',
    partners,
    notifications: {
      channels: [
        { name: 'qa-mail', type: 'email', host: '127.0.0.1', port: smtp.port, from: 'lotgate@northwind.test', to: ['qa@northwind.test'], timeoutMs: 5000 },
        { name: 'qa-teams', type: 'teams', urlEnv: 'TEAMS_QA' },
      ],
      rules: [
        { on: ['lot_blocked', 'file_rejected', 'file_quarantined'], to: ['qa-teams', 'qa-mail'] },
        { on: ['lot_late', 'partner_silent'], to: ['qa-mail'] },
      ],
    },
  });
}

const subjects = () => smtp.mails.map((m) => m.subject).sort();

describe('notify', () => {
  it('sends each event once per channel its rules name, with a link to the lot or file', async () => {
    const w = await notifyWorld();
    await ingestDemo(w);
    const junk = await w.ingestFile('bravo-lab', path.join(FIXTURES, 'bad', 'LIMS_EXPORT_junk.csv'));
    expect(junk.state).toBe('rejected');

    const r = await w.run('notify');
    expect(r).toMatchObject({ status: 'ok', counts: { failed: 0, gaveUp: 0 } });
    const blocked = smtp.mails.filter((m) => m.subject.startsWith('[lotgate] Lot BLOCKED'));
    expect(blocked.map((m) => m.subject).sort()).toEqual(['[lotgate] Lot BLOCKED: 000000000010012346 / NW26-0415', '[lotgate] Lot BLOCKED: 000000000010012347 / NW26-0421']);
    expect(mailText(blocked.find((m) => m.subject.includes('NW26-0415'))!.raw)).toContain('https://lotgate.northwind.test/lots/000000000010012346/NW26-0415');
    expect(subjects()).toContain('[lotgate] File rejected: bravo-lab: LIMS_EXPORT_junk.csv');
    expect(mailText(smtp.mails.find((m) => m.subject.includes('LIMS_EXPORT_junk'))!.raw)).toContain(`https://lotgate.northwind.test/submissions/${junk.submissionId}`);
    expect(subjects().some((s) => s === '[lotgate] Lot late: 000000000010020001 / NW26-0427')).toBe(true);
    expect(smtp.mails.every((m) => m.to.join() === 'qa@northwind.test')).toBe(true);
    // Teams gets only what its rule routes there: the blocked lots and the rejected file.
    const cards = teams.requests.map((q) => JSON.stringify(JSON.parse(q.body)));
    expect(cards).toHaveLength(3);
    expect(cards.filter((c) => c.includes('Lot BLOCKED'))).toHaveLength(2);
    expect(cards.filter((c) => c.includes('File rejected: bravo-lab: LIMS_EXPORT_junk.csv'))).toHaveLength(1);

    // Running again finds the same events: nothing is sent twice.
    const mails = smtp.mails.length;
    const again = await w.run('notify');
    expect(again).toMatchObject({ status: 'ok', counts: { sent: 0 } });
    expect(smtp.mails).toHaveLength(mails);
    expect(teams.requests).toHaveLength(3);
    // Even when the cursor is lost and the whole window is read again.
    await w.lg.store.jobs.setJobCursor('notify:audit-seq', '0');
    const reread = await w.run('notify');
    expect(reread.status === 'busy' ? -1 : Number(reread.counts.alreadySent)).toBeGreaterThan(0);
    expect(smtp.mails).toHaveLength(mails);
    expect(await w.lg.store.notifications.countNotificationsSent()).toEqual({ sent: mails + 3, failed: 0 });
  });

  it('retries a failed send on the next run without repeating the sends that went out', async () => {
    const w = await notifyWorld();
    await ingestDemo(w, ['erp', 'acme-cmo']);
    // The mail server refuses the blocked-lot mail once (451: try again later).
    let refused = 0;
    smtp.refuse = (raw) => (raw.includes('Lot BLOCKED') && refused++ === 0 ? 451 : null);
    const first = await w.run('notify');
    expect(first.status).toBe('error');
    expect(first).toMatchObject({ counts: { failed: 1 }, error: expect.stringContaining('lot_blocked 000000000010012346 / NW26-0415 → qa-mail') });
    expect(smtp.mails.filter((m) => m.subject.includes('BLOCKED'))).toHaveLength(0);
    expect(teams.requests).toHaveLength(1);

    const second = await w.run('notify');
    expect(second).toMatchObject({ status: 'ok', counts: { sent: 1, failed: 0 } });
    expect(smtp.mails.filter((m) => m.subject.includes('BLOCKED'))).toHaveLength(1);
    expect(teams.requests).toHaveLength(1); // the Teams post is not repeated
    expect(await w.run('notify')).toMatchObject({ counts: { sent: 0 } });
  });

  it('reports a partner silent longer than its expected cadence, once per silence', async () => {
    const w = await notifyWorld({ 'delta-cmo': { expectedCadenceHours: 24 } });
    await ingestDemo(w, ['erp', 'delta-cmo']);
    await w.run('notify');
    const before = smtp.mails.length;
    expect(subjects().some((s) => s.includes('No files from'))).toBe(false);

    w.clock.advance(30 * 3_600_000);
    await w.run('notify');
    const silent = smtp.mails.slice(before);
    expect(silent.map((m) => m.subject)).toEqual(['[lotgate] No files from Delta Contract Manufacturing, Inc. (delta-cmo)']);
    expect(mailText(silent[0].raw)).toContain('https://lotgate.northwind.test/partners/delta-cmo');
    w.clock.advance(30 * 3_600_000);
    await w.run('notify');
    expect(smtp.mails).toHaveLength(before + 1);

    // A new file ends the silence; the next one is a new event.
    await w.ingest('delta-cmo', ['DCM_MES_20261118T2305.xml']);
    await w.run('notify');
    expect(smtp.mails).toHaveLength(before + 1);
    w.clock.advance(25 * 3_600_000);
    await w.run('notify');
    expect(smtp.mails.filter((m) => m.subject.includes('No files from'))).toHaveLength(2);
  });

  it('keeps quiet about lot changes a shadow-mode partner caused', async () => {
    const w = await notifyWorld({ 'acme-cmo': { mode: 'shadow' } });
    await ingestDemo(w, ['erp', 'acme-cmo']);
    await w.run('notify');
    expect(subjects().filter((s) => s.includes('BLOCKED'))).toEqual([]);
  });
});
