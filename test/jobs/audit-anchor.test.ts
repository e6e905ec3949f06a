// audit-anchor: the scheduled job writes the head of the audit chain to the anchor file and the
// outbox; `audit verify` then checks the chain against it.

import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { anchorFileOf, verifyWithAnchors } from '../../pipeline/audit/anchors.js';
import { closeWorlds, makeWorld } from './helpers/world.js';

afterEach(() => closeWorlds());

describe('audit-anchor job', () => {
  it('appends the head to the anchor file and puts an audit.anchor message in the outbox', async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const file = anchorFileOf(w.config);
    expect(existsSync(file)).toBe(false);
    const head = await w.lg.store.audit.auditHead();
    const run = await w.run('audit-anchor');
    expect(run).toMatchObject({ status: 'ok', counts: { seq: head.seq, written: true, outbox: true } });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ seq: head.seq, hash: head.hash, source: 'job' })]);
    expect((await w.lg.store.outbox.listOutbox({ topic: 'audit.anchor' })).map((m) => m.payload)).toEqual([expect.objectContaining({ seq: head.seq, hash: head.hash })]);
    // The run itself is audited, so the next run anchors the new head.
    const again = await w.run('audit-anchor');
    expect(again).toMatchObject({ status: 'ok', counts: { seq: head.seq + 1, written: true } });
    expect(await verifyWithAnchors(w.lg.store, file, [])).toMatchObject({ ok: true, anchorsChecked: 2 });
  });
});
