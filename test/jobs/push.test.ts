// The push job against real HTTP receivers on loopback: exactly once per receiver from the
// receiver's point of view despite failures, per-connector delivery, order per key, dead letter
// and operator retry, unroutable topics, and shadow-mode partners whose messages never leave.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { cli } from './helpers/cli.js';
import { httpConnector, startReceiver, type Receiver } from './helpers/receiver.js';
import { closeWorlds, ingestDemo, makeWorld, type World } from './helpers/world.js';

let erp: Receiver;
let qms: Receiver;
beforeAll(async () => {
  erp = await startReceiver();
  qms = await startReceiver();
});
afterAll(async () => {
  await erp.close();
  await qms.close();
});
afterEach(async () => {
  await closeWorlds();
  for (const r of [erp, qms]) {
    r.seen.length = 0;
    r.stored.clear();
    r.requests.length = 0;
    r.answer = () => 'ok';
  }
});

/** Runs push, moving the clock past every backoff, until nothing routable is pending. */
async function pushUntilDone(w: World): Promise<number> {
  for (let runs = 1; runs <= 30; runs++) {
    w.clock.advance(10_000);
    const r = await w.run('push');
    if (r.status !== 'ok') throw new Error(`push run failed: ${JSON.stringify(r)}`);
    if (r.counts.claimed === r.counts.unrouted) return runs;
  }
  throw new Error('the outbox did not drain in 30 runs');
}

const outboxIds = async (w: World, state?: 'pending' | 'sent' | 'dead' | 'held') => (await w.lg.store.outbox.listOutbox({ state, limit: 100_000 })).map((m) => m.id);

describe('push', () => {
  it('delivers every message once per receiver, although one receiver fails the first 2 times for each', async () => {
    // The ERP endpoint takes everything; the QMS endpoint takes qms.* and also erp.* (a message
    // routed to two connectors).
    const w = await makeWorld({ connectors: [httpConnector('erp-http', erp.url, ['erp.*', 'qms.*']), httpConnector('qms-http', qms.url, ['qms.*', 'erp.*'])] });
    await ingestDemo(w);
    const all = await outboxIds(w);
    expect(all.length).toBeGreaterThan(10);
    expect(new Set((await w.lg.store.outbox.listOutbox({ limit: 100_000 })).map((m) => m.topic))).toEqual(new Set(['erp.lot_readiness', 'qms.deviation', 'qms.disposition_request']));
    qms.answer = (_key, nth) => (nth <= 2 ? 503 : 'ok');

    const first = await w.run('push');
    expect(first).toMatchObject({ status: 'ok', counts: { sent: 0 } });
    expect(first.status === 'busy' ? 0 : first.counts.retrying).toBeGreaterThan(0);
    // Each retry comes after the backoff (the clock moves past it). A lot's newer states wait
    // for its older one, so the failures of one key come one message after the other.
    await pushUntilDone(w);
    expect((await outboxIds(w, 'sent')).sort()).toEqual([...all].sort());

    // ERP: each id once, never repeated (its deliveries succeeded the first time).
    expect(erp.seen.length).toBe(all.length);
    expect(new Set(erp.seen)).toEqual(new Set(all));
    // QMS: each id three times with the same key, stored once.
    expect(qms.seen.length).toBe(3 * all.length);
    expect([...qms.stored.keys()].sort()).toEqual([...all].sort());
    for (const id of all) expect(qms.seen.filter((k) => k === id)).toHaveLength(3);

    for (const id of all) {
      expect((await w.lg.store.outbox.listDeliveries(id)).map((d) => [d.connector, d.state, d.attempts])).toEqual([
        ['erp-http', 'sent', 1],
        ['qms-http', 'sent', 3],
      ]);
    }
    // Nothing left: another run delivers nothing.
    w.clock.advance(60_000);
    expect(await w.run('push')).toMatchObject({ counts: { claimed: 0 } });
    expect(erp.seen.length).toBe(all.length);
  });

  it('keeps the order of each lot’s states at the receiver: a key waits behind its failing older message', async () => {
    const w = await makeWorld({ connectors: [httpConnector('erp-http', erp.url, ['erp.*'])] });
    await ingestDemo(w);
    const readiness = await w.lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness', limit: 100_000 });
    const byKey = new Map<string, string[]>();
    for (const m of readiness) byKey.set(m.key, [...(byKey.get(m.key) ?? []), m.id]);
    const multi = [...byKey].filter(([, ids]) => ids.length > 1);
    expect(multi.length).toBeGreaterThan(0);
    // The oldest message of each key with several fails once.
    const firstOfKey = new Set(multi.map(([, ids]) => ids[0]));
    erp.answer = (key, nth) => (firstOfKey.has(key) && nth === 1 ? 500 : 'ok');
    await w.run('push');
    // None of the newer messages of those keys was sent while the older one was failing.
    for (const [, ids] of multi) for (const id of ids.slice(1)) expect(erp.seen).not.toContain(id);
    await pushUntilDone(w);
    expect(await w.lg.store.outbox.listOutbox({ state: 'pending', topic: 'erp.lot_readiness' })).toEqual([]);
    // Stored in the order the states were recorded, per key.
    const storedOrder = [...erp.stored.keys()];
    for (const [, ids] of byKey) expect(storedOrder.filter((id) => ids.includes(id))).toEqual(ids);
  });

  it('dead-letters after maxAttempts and sends again after `lotgate outbox retry`', async () => {
    const w = await makeWorld({ connectors: [httpConnector('erp-http', erp.url, ['erp.*', 'qms.*'], { maxAttempts: 3 })] });
    await w.ingest('erp');
    const ids = await outboxIds(w);
    expect(ids.length).toBeGreaterThan(0);
    erp.answer = () => 503;
    for (let i = 0; i < 3; i++) {
      await w.run('push');
      w.clock.advance(60_000);
    }
    expect((await outboxIds(w, 'dead')).sort()).toEqual([...ids].sort());
    const dead = (await w.lg.store.outbox.getOutbox(ids[0]))!;
    expect(dead.lastError).toMatch(/erp-http: gave up after 3 attempts: .*HTTP 503/);
    expect(erp.seen.filter((k) => k === ids[0])).toHaveLength(3);
    // Dead is final: more runs send nothing.
    await w.run('push');
    expect(erp.seen.filter((k) => k === ids[0])).toHaveLength(3);

    const listed = await cli(w.configPath, ['outbox', 'list', '--state', 'dead', '--json']);
    expect(listed.exitCode).toBe(0);
    const rows = JSON.parse(listed.stdout) as { id: string; state: string; deliveries: { connector: string; state: string; attempts: number }[] }[];
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(rows[0].deliveries).toEqual([expect.objectContaining({ connector: 'erp-http', state: 'dead', attempts: 3 })]);

    // The receiver is fixed; the operator retries one message by its short id.
    erp.answer = () => 'ok';
    const retried = await cli(w.configPath, ['outbox', 'retry', ids[0].slice(0, 12), '--by', 'qa.lead'], {});
    expect(retried.exitCode).toBe(0);
    expect(retried.stdout).toContain('pending again');
    expect(await w.lg.store.outbox.getOutbox(ids[0])).toMatchObject({ state: 'pending', attempts: 0 });
    expect((await w.lg.store.audit.listAudit({ action: 'outbox.retry' }))[0]).toMatchObject({ actor: 'operator:qa.lead', subject: `outbox:${ids[0]}` });
    await w.run('push');
    expect(await w.lg.store.outbox.getOutbox(ids[0])).toMatchObject({ state: 'sent' });
    expect(erp.stored.has(ids[0])).toBe(true);
    expect(await outboxIds(w, 'dead')).toHaveLength(ids.length - 1);
    // A message that is not dead cannot be retried.
    const again = await cli(w.configPath, ['outbox', 'retry', ids[0]]);
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toContain('not dead (sent)');
    const unknown = await cli(w.configPath, ['outbox', 'retry', 'ffffffffffff']);
    expect(unknown.exitCode).toBe(4);
  });

  it('dead-letters at once when the receiver refuses the message (4xx)', async () => {
    const w = await makeWorld({ connectors: [httpConnector('erp-http', erp.url, ['erp.*'])] });
    await w.ingest('erp');
    erp.answer = () => 422;
    await w.run('push');
    expect(await outboxIds(w, 'pending')).toEqual([]);
    expect((await outboxIds(w, 'dead')).length).toBeGreaterThan(0);
    expect((await w.lg.store.outbox.getOutbox((await outboxIds(w, 'dead'))[0]))!.lastError).toMatch(/not retryable: .*HTTP 422/);
  });

  it('leaves a message no connector takes pending, saying why, and does not count it as sent', async () => {
    const w = await makeWorld({ connectors: [httpConnector('qms-http', qms.url, ['qms.*'])] });
    await w.ingest('erp');
    const erpMsgs = await w.lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness' });
    expect(erpMsgs.length).toBeGreaterThan(0);
    const r = await w.run('push');
    expect(r).toMatchObject({ status: 'ok', counts: { unrouted: erpMsgs.length } });
    const m = (await w.lg.store.outbox.getOutbox(erpMsgs[0].id))!;
    expect(m.state).toBe('pending');
    expect(m.lastError).toBe('no connector takes topic erp.lot_readiness (connectors: qms-http)');
    expect(qms.seen).toEqual([]);
  });

  it('fails the run with the configuration problems when a connector is misconfigured', async () => {
    const w = await makeWorld({ connectors: [{ name: 'erp', type: 'http', url: erp.url, topics: ['erp.*'], auth: { type: 'bearer', tokenEnv: 'NO_SUCH_TOKEN' } }] });
    await w.ingest('erp');
    const r = await w.run('push');
    expect(r.status).toBe('error');
    expect(r).toMatchObject({ error: expect.stringContaining('environment variable NO_SUCH_TOKEN is not set') });
    expect(erp.seen).toEqual([]);
  });
});

describe('onboarding mode shadow', () => {
  it('stores the messages a shadow partner’s files cause as held and never delivers them; a live partner’s still go out', async () => {
    const w = await makeWorld({
      connectors: [httpConnector('erp-http', erp.url, ['erp.*', 'qms.*'])],
      partners: { 'acme-cmo': { mode: 'shadow' } },
    });
    await w.ingest('erp');
    const acme = await w.ingest('acme-cmo');
    const acmeSubs = new Set(acme.map((r) => r.submissionId));
    const held = await w.lg.store.outbox.listOutbox({ state: 'held', limit: 100_000 });
    expect(held.length).toBeGreaterThan(0);
    // Everything acme's files caused is held — its deviations too — and nothing else is.
    expect(held.every((m) => m.submissionId !== null && acmeSubs.has(m.submissionId))).toBe(true);
    expect(held.some((m) => m.topic === 'qms.deviation')).toBe(true);
    expect((await w.lg.store.outbox.listOutbox({ state: 'pending', limit: 100_000 })).some((m) => m.submissionId !== null && acmeSubs.has(m.submissionId))).toBe(false);

    // The lab (live) reports on acme's lots: what its results change is not held.
    const lab = await w.ingest('bravo-lab');
    const labMsgs = (await w.lg.store.outbox.listOutbox({ limit: 100_000 })).filter((m) => lab.some((r) => r.submissionId === m.submissionId));
    expect(labMsgs.length).toBeGreaterThan(0);
    expect(labMsgs.every((m) => m.state === 'pending')).toBe(true);

    await w.run('push');
    w.clock.advance(600_000);
    await w.run('push');
    const heldIds = new Set(held.map((m) => m.id));
    expect(erp.seen.length).toBeGreaterThan(0);
    expect(erp.seen.filter((k) => heldIds.has(k))).toEqual([]);
    expect([...erp.stored.values()].some((m) => m.topic === 'qms.deviation')).toBe(false);
    expect((await w.lg.store.outbox.listOutbox({ state: 'held', limit: 100_000 })).map((m) => m.id).sort()).toEqual([...heldIds].sort());
    expect(await outboxIds(w, 'pending')).toEqual([]);
  });
});

describe('deviation updates in the outbox', () => {
  it('puts each applied deviation version in the outbox once, in the file’s transaction; a replay adds nothing', async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const [devFile] = await w.ingest('acme-cmo', ['Abweichungen_20261119.csv']);
    const devs = await w.lg.store.outbox.listOutbox({ topic: 'qms.deviation', limit: 1000 });
    expect(devs.map((m) => m.key).sort()).toEqual(['acme-cmo/ABW-2026-0087', 'acme-cmo/ABW-2026-0090', 'acme-cmo/ABW-2026-0094', 'acme-cmo/ABW-2026-0101']);
    expect(devs.every((m) => m.submissionId === devFile.submissionId)).toBe(true);
    const p = devs.find((m) => m.key === 'acme-cmo/ABW-2026-0087')!.payload as { status: string; affectedLots: { lotNumber: string }[] };
    // The latest version (closed) is what goes out, with the lots it names.
    expect(p.status).toBe('closed');
    expect(p.affectedLots.map((l) => l.lotNumber)).toEqual(['NW26-0411']);
    const before = await w.lg.store.outbox.countOutbox();
    // The same versions applied again (a replay of the archived original): same message ids.
    const sub = (await w.lg.store.ledger.getSubmission(devFile.submissionId))!;
    const replayId = await registerFile(w.lg, { partner: 'acme-cmo', path: sub.archivePath, name: sub.originalName, source: 'replay', removeSource: false, replayOf: sub.id });
    expect((await processSubmission(w.lg, replayId)).state).toBe('applied');
    expect(await w.lg.store.outbox.countOutbox()).toEqual(before);
  });
});
