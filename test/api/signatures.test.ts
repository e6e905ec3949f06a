// Part 11 signatures on lot dispositions: challenge bound to the record hash, re-authentication
// (TOTP with the first signature of a session), manifestation in the lot view, the audit event
// with the same hash (recomputed by audit verify), invalidation by a new test result, lockout.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../pipeline/auth/totp.js';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { canonicalJson } from '../../pipeline/store/canonical-json.js';
import { sha256Hex } from '../../pipeline/sign/record.js';
import { verifySignatures } from '../../pipeline/sign/verify.js';
import { apiFixture, PW, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let h: Record<string, string>;
let secret: string;
let lotId: number;
const root = path.resolve(import.meta.dirname, '../..');

beforeAll(async () => {
  f = await apiFixture();
  secret = (await f.user('quinn', [['qa']])).secret!;
  const s = await f.login('quinn');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
  lotId = (await f.inst.lg.store.reads.lotIdsByNumberInScope('all', 'NW26-0411'))[0];
}, 120_000);
afterAll(() => f?.close());

const post = (url: string, payload: object, headers = h) => f.app.inject({ method: 'POST', url, payload, headers });
const challenge = (decision = 'released', meaning = 'release') => post(`/api/v1/lots/${lotId}/disposition/challenge`, { decision, meaning });

describe('signing a disposition', () => {
  it('signs with password + TOTP; the manifestation and the audit event carry the record hash', async () => {
    const ch = (await challenge()).json();
    expect(ch.recordHash).toBe(sha256Hex(canonicalJson(ch.record)));
    expect(ch.record.lot).toEqual({ materialId: expect.any(String), lotNumber: 'NW26-0411' });
    expect(ch.record.evidence.some((e: any) => e.kind === 'test_result' && /^[0-9a-f]{64}$/.test(e.sha256))).toBe(true);
    // Without the code, the first signature of the session is refused.
    const noCode = await post(`/api/v1/lots/${lotId}/disposition`, { challengeId: ch.challengeId, password: PW });
    expect(noCode.json().error.code).toBe('E_AUTH_TOTP_REQUIRED');
    const ch2 = (await challenge()).json();
    f.clock.now = new Date(f.clock.now.getTime() + 30_000);
    const res = await post(`/api/v1/lots/${lotId}/disposition`, { challengeId: ch2.challengeId, password: PW, totp: totpCode(secret, f.clock.now) });
    expect(res.statusCode, res.body).toBe(201);
    const sig = res.json();
    expect(sig).toMatchObject({ decision: 'released', meaning: 'release', recordHash: ch2.recordHash, valid: true, signer: { printedName: 'Test quinn', username: 'quinn' } });
    expect(sig.localTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/);
    // Single use.
    expect((await post(`/api/v1/lots/${lotId}/disposition`, { challengeId: ch2.challengeId, password: PW })).json().error.code).toBe('E_SIGN_CHALLENGE');

    const lot = (await f.app.inject({ method: 'GET', url: `/api/v1/lots/${lotId}`, headers: h })).json();
    expect(lot.signatures).toEqual([sig]);
    const csv = (await f.app.inject({ method: 'GET', url: '/api/v1/lots?format=csv', headers: h })).body;
    expect(csv.split('\r\n').find((l) => l.startsWith('NW26-0411'))).toContain('released signed by Test quinn');
    expect(lot.dispositions.some((d: any) => d.decision === 'released' && d.decidedBy === 'Test quinn')).toBe(true);
    const ev = (await f.inst.lg.store.audit.listAudit({ action: 'signature.applied' }))[0];
    expect(ev.details).toMatchObject({ recordHash: sig.recordHash, printedName: 'Test quinn', meaning: 'release' });
    expect(await verifySignatures(f.inst.lg.store)).toEqual({ checked: 1, bad: [] });
    // The ERP push carries the manifestation.
    const pushed = (await f.inst.lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness', limit: 1000 })).filter((m: any) => (m.payload.signatures ?? []).length);
    expect(pushed.length).toBeGreaterThan(0);
    expect((pushed[pushed.length - 1] as any).payload.signatures).toEqual([
      expect.objectContaining({ printedName: 'Test quinn', meaning: 'release', decision: 'released', recordHash: sig.recordHash, valid: true, signedAt: sig.signedAt }),
    ]);
  });

  it('later signatures of the session need the password only; a wrong one counts toward lockout', async () => {
    const before = (await f.inst.lg.store.auth.getPrincipalByName('quinn'))!.failedLogins;
    const ch = (await challenge('quarantine', 'quarantine')).json();
    const bad = await post(`/api/v1/lots/${lotId}/disposition`, { challengeId: ch.challengeId, password: 'not my password' });
    expect(bad.statusCode).toBe(401);
    expect((await f.inst.lg.store.auth.getPrincipalByName('quinn'))!.failedLogins).toBe(before + 1);
    const ch2 = (await challenge('quarantine', 'quarantine')).json();
    f.clock.now = new Date(f.clock.now.getTime() + 1000);
    const ok = await post(`/api/v1/lots/${lotId}/disposition`, { challengeId: ch2.challengeId, password: PW });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('a new test result for the signed lot invalidates its signatures and sends it back to QA', async () => {
    const src = path.join(f.inst.work, 'fixtures', 'bravo-lab', 'LIMS_EXPORT_20261118_0200.csv');
    const lines = readFileSync(src, 'utf8').split('\n');
    const extra = lines[1].replace('S26-004812', 'S26-009999').replace('10/20/26 9:42 AM', '11/19/26 9:42 AM');
    const file = path.join(f.inst.work, 'LIMS_EXPORT_20261119_0200.csv');
    writeFileSync(file, `${lines[0]}\n${extra}\n`);
    const [r] = await ingestFiles(f.inst.lg, 'bravo-lab', [file]);
    expect(r.ack.counts.applied).toBe(1);
    const lot = (await f.app.inject({ method: 'GET', url: `/api/v1/lots/${lotId}`, headers: h })).json();
    expect(lot.signatures.length).toBe(2);
    for (const s of lot.signatures) expect(s).toMatchObject({ valid: false, invalidatedBySubmission: r.submissionId });
    expect(lot.awaitingSignature).toBe(true);
    expect((await f.inst.lg.store.audit.listAudit({ action: 'signature.invalidated' })).length).toBe(2);
    const pushed = await f.inst.lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness', submissionId: r.submissionId, limit: 100 }) as any[];
    expect(pushed.some((m) => m.payload.lot.lotNumber === 'NW26-0411' && m.payload.signatures.every((s: any) => s.valid === false))).toBe(true);
  });

  it('audit verify recomputes each record hash and catches a signature row that was altered', async () => {
    expect((await verifySignatures(f.inst.lg.store)).bad).toEqual([]);
    // Altered behind lotgate's back (the store's own connection stands in for a database client).
    await f.inst.lg.store.db.run('UPDATE signatures SET record_hash = ? WHERE id = 1', ['0'.repeat(64)]);
    const v = await verifySignatures(f.inst.lg.store);
    expect(v.bad).toHaveLength(1);
    expect(v.bad[0].reason).toMatch(/signature 1 has record hash 0000/);
    const cli = spawnSync(process.execPath, [path.join(root, 'bin/lotgate.js'), '--config', path.join(f.inst.work, 'config.yaml'), '--data-dir', f.inst.lg.config.dataDir, 'audit', 'verify', '--json'], { encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(JSON.parse(cli.stdout).signatures).toMatchObject({ checked: 2, bad: [{ reason: expect.stringContaining('signature 1') }] });
  });

  it('service tokens and users without lots:dispose cannot sign', async () => {
    const t = await f.auth.createToken({ name: 'erp', days: 10 }, 'test');
    expect((await post(`/api/v1/lots/${lotId}/disposition/challenge`, { decision: 'released', meaning: 'release' }, { authorization: `Bearer ${t.token}` })).statusCode).toBe(403);
    await f.user('boss', [['admin'], ['receiving']]);
    const b = await f.login('boss');
    expect((await post(`/api/v1/lots/${lotId}/disposition/challenge`, { decision: 'released', meaning: 'release' }, { cookie: b.cookie, 'x-csrf-token': b.csrf })).statusCode).toBe(403);
    // Separation of duties: a user administrator who also holds qa still cannot sign.
    await f.user('adminqa', [['admin'], ['qa']]);
    const aq = await f.login('adminqa');
    const r = await post(`/api/v1/lots/${lotId}/disposition/challenge`, { decision: 'released', meaning: 'release' }, { cookie: aq.cookie, 'x-csrf-token': aq.csrf });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('E_SIGN_SOD');
  });
});

describe('lotgate lot dispose', () => {
  it('signs from the command line with password and TOTP read from stdin', async () => {
    const lg = f.inst.lg;
    // The CLI uses the real clock (later than the fixture's, so its time step is a fresh one).
    const now = new Date();
    const run = (c: string) =>
      spawnSync(process.execPath, [path.join(root, 'bin/lotgate.js'), '--config', path.join(f.inst.work, 'config.yaml'), '--data-dir', lg.config.dataDir, 'lot', 'dispose', 'NW26-0415', '--decision', 'rejected', '--user', 'quinn', '--json'], {
        encoding: 'utf8',
        input: `${PW}\n${c}\n`,
      });
    const wrong = run('000000');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/E_AUTH_FAILED/);
    const ok = run(totpCode(secret, now));
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ decision: 'rejected', meaning: 'rejection', valid: true, signer: { username: 'quinn' } });
    const show = spawnSync(process.execPath, [path.join(root, 'bin/lotgate.js'), '--config', path.join(f.inst.work, 'config.yaml'), '--data-dir', lg.config.dataDir, 'lot', 'NW26-0415'], { encoding: 'utf8' });
    expect(show.stdout).toMatch(/SIGNATURES\n.*\nrejected +Test quinn/);
  });
});

describe('notification of an invalidated signature', () => {
  it('turns the audit event into a critical notification with a link to the lot', async () => {
    const { eventsFromAudit } = await import('../../jobs/notify-events.js');
    const { eventNotification } = await import('../../pipeline/outbound/notify/render.js');
    const { links } = await import('../../pipeline/outbound/notify/links.js');
    const row = (await f.inst.lg.store.audit.listAudit({ action: 'signature.invalidated' }))[0];
    // eventsFromAudit is pure: the submissions it may look up are read first.
    const subs = new Map((await f.inst.lg.store.ledger.listSubmissions({ limit: 1000 })).map((x) => [x.id, x]));
    const [ev] = eventsFromAudit(row, { links: links('https://lotgate.example.com'), partners: f.inst.lg.partners(), submission: (id) => subs.get(id) });
    expect(ev).toMatchObject({ type: 'signature_invalidated', subject: expect.stringContaining('NW26-0411'), details: { decision: expect.any(String), signedBy: 'Test quinn' } });
    const n = eventNotification(ev);
    expect(n.severity).toBe('critical');
    expect(n.link).toMatch(/^https:\/\/lotgate\.example\.com\/lots\//);
  });
});
