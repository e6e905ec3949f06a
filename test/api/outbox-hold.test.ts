// Holding an outbox message back from the push job and releasing it: API, store, CLI, audit.

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFixture, type ApiFixture } from './api-helpers.js';

let f: ApiFixture;
let h: Record<string, string>;
beforeAll(async () => {
  f = await apiFixture({ story: false });
  await f.user('ops', [['ops']]);
  const s = await f.login('ops');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
}, 120_000);
afterAll(() => f?.close());

const call = (method: 'GET' | 'POST', url: string, payload?: object, headers = h) => f.app.inject({ method, url, payload, headers });
const enqueue = (id: string) => f.inst.lg.store.outbox.enqueueOutbox({ id, topic: 'erp.lot_readiness', key: `k-${id}`, payload: { id } });
const claimable = async () => (await f.inst.lg.store.outbox.claimOutbox(100, new Date('2099-01-01T00:00:00Z'), 1)).map((r) => r.id);

describe('outbox hold and release', () => {
  it('a held message is not claimed by the push job until released; the hold shows in lists; both are audited', async () => {
    await enqueue('aaaaaaaa-hold-1');
    await enqueue('aaaaaaaa-free-1');
    const held = await call('POST', '/api/v1/outbox/aaaaaaaa-hold-1/hold', { reason: 'ERP cut-over tonight' });
    expect(held.statusCode, held.body).toBe(200);
    expect(held.json()).toEqual({ id: 'aaaaaaaa-hold-1', changed: true, held: true, state: 'pending' });
    expect((await call('POST', '/api/v1/outbox/aaaaaaaa-hold-1/hold', { reason: 'again' })).json()).toMatchObject({ changed: false, held: true });

    expect(await claimable()).toEqual(['aaaaaaaa-free-1']);
    const list = (await call('GET', '/api/v1/outbox?onHold=true')).json();
    expect(list.items.map((m: any) => m.id)).toEqual(['aaaaaaaa-hold-1']);
    expect(list.items[0].hold).toMatchObject({ reason: 'ERP cut-over tonight', by: 'ops', at: expect.any(String) });
    expect(list.onHold).toBe(1);
    const all = (await call('GET', '/api/v1/outbox')).json();
    expect(all.items.find((m: any) => m.id === 'aaaaaaaa-free-1').hold).toBeNull();

    const rel = await call('POST', '/api/v1/outbox/aaaaaaaa-hold-1/release', { reason: 'cut-over done' });
    expect(rel.json()).toEqual({ id: 'aaaaaaaa-hold-1', changed: true, held: false, state: 'pending' });
    expect((await call('POST', '/api/v1/outbox/aaaaaaaa-hold-1/release', { reason: 'twice' })).json().changed).toBe(false);
    expect(await claimable()).toEqual(['aaaaaaaa-hold-1']);

    const audit = await f.inst.lg.store.audit.listAudit({ subject: 'outbox:aaaaaaaa-hold-1', limit: 10 });
    expect(audit.map((e) => e.action).sort()).toEqual(['outbox.hold', 'outbox.release']);
    expect(audit.find((e) => e.action === 'outbox.hold')!.details).toMatchObject({ by: 'ops', reason: 'ERP cut-over tonight' });
  });

  it('a sent message cannot be held; a reason is required; unknown ids are 404; a scoped ops user is refused', async () => {
    await enqueue('bbbbbbbb-sent-1');
    await f.inst.lg.store.outbox.markOutboxSent('bbbbbbbb-sent-1', new Date());
    expect((await call('POST', '/api/v1/outbox/bbbbbbbb-sent-1/hold', { reason: 'late' })).json()).toMatchObject({ changed: false, held: false, state: 'sent' });
    expect((await call('POST', '/api/v1/outbox/bbbbbbbb-sent-1/hold', {})).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/outbox/nope/hold', { reason: 'x' })).statusCode).toBe(404);
    expect((await call('POST', '/api/v1/outbox/nope/release', { reason: 'x' })).statusCode).toBe(404);
    await f.user('ops1000', [['ops', { sites: ['1000'] }]]);
    const t = await f.login('ops1000');
    expect((await call('POST', '/api/v1/outbox/bbbbbbbb-sent-1/hold', { reason: 'x' }, { cookie: t.cookie, 'x-csrf-token': t.csrf })).statusCode).toBe(403);
  });

  it('the CLI holds and releases with a reason', async () => {
    await enqueue('cccccccc-cli-1');
    const run = (...args: string[]) =>
      execFileSync(process.execPath, ['bin/lotgate.js', '--config', path.join(f.inst.work, 'config.yaml'), '--data-dir', f.inst.lg.config.dataDir, ...args], { encoding: 'utf8', env: { ...process.env, LOTGATE_LOG_LEVEL: 'silent' } });
    expect(JSON.parse(run('outbox', 'hold', 'cccccccc-cli-1', '--reason', 'check payload', '--by', 'carol', '--json'))).toEqual([{ id: 'cccccccc-cli-1', changed: true, held: true, state: 'pending' }]);
    expect((await f.inst.lg.store.outbox.getOutbox('cccccccc-cli-1'))!.hold).toMatchObject({ by: 'carol', reason: 'check payload' });
    expect(run('outbox', 'list', '--on-hold')).toMatch(/cccccccc-cli.*on hold/);
    expect(run('outbox', 'release', 'cccccccc-cli-1', '--reason', 'payload fine')).toMatch(/released/);
    expect((await f.inst.lg.store.outbox.getOutbox('cccccccc-cli-1'))!.hold).toBeNull();
  });
});
