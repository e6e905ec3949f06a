// readiness-sweep: the clock alone changes readiness (shelf life, late milestones); the sweep
// finds it in batches, audits each change and puts it in the outbox, and reports progress.

import { afterEach, describe, expect, it } from 'vitest';
import { closeWorlds, ingestDemo, makeWorld, type World } from './helpers/world.js';

afterEach(() => closeWorlds());

describe('readiness-sweep', () => {
  it('recomputes every open lot against the clock, in batches', async () => {
    const w = await makeWorld({ jobs: { 'readiness-sweep': { batchSize: 4 } } });
    await ingestDemo(w);
    const lots = await w.lg.store.readiness.listOpenLotIds();
    expect(lots.length).toBe(6);
    const outboxBefore = (await w.lg.store.outbox.countOutbox()).pending;

    // Nothing changed since ingest, and no lot's clock-due instant has come: nothing to recompute.
    const quiet = await w.run('readiness-sweep');
    expect(quiet).toMatchObject({ status: 'ok', counts: { lots: 6, recomputed: 0, changed: 0, batches: 0 } });

    // Three years on the shelf-life rule blocks the lots that are still open.
    w.clock.advance(3 * 365 * 86_400_000);
    const swept = await w.run('readiness-sweep');
    expect(swept.status).toBe('ok');
    const changed = swept.status === 'busy' ? 0 : Number(swept.counts.changed);
    expect(changed).toBeGreaterThan(0);
    const board = await w.lg.store.reads.listLots();
    expect(board.filter((l) => l.reasonCodes.includes('R_SHELF_LIFE') || l.reasonCodes.includes('R_EXPIRED')).length).toBe(changed);
    // Audited as the sweep's doing, and in the outbox with no submission behind it.
    const audit = (await w.lg.store.audit.listAudit({ action: 'lot.readiness_changed' })).filter((e) => e.actor === 'job:readiness-sweep');
    expect(audit).toHaveLength(changed);
    const fresh = (await w.lg.store.outbox.listOutbox({ state: 'pending', topic: 'erp.lot_readiness', limit: 1000 })).filter((m) => m.submissionId === null);
    expect(fresh).toHaveLength(changed);
    expect((await w.lg.store.outbox.countOutbox()).pending).toBe(outboxBefore + changed);

    // Swept again at the same time: nothing new.
    expect(await w.run('readiness-sweep')).toMatchObject({ counts: { changed: 0 } });
  });

  it('with option all, recomputes every open lot in batches', async () => {
    const w = await makeWorld({ jobs: { 'readiness-sweep': { batchSize: 4, all: true } } });
    await ingestDemo(w);
    const progress: [number, number][] = [];
    const full = await w.run('readiness-sweep', {}, { progress: (d, t) => progress.push([d, t]) });
    expect(full).toMatchObject({ status: 'ok', counts: { lots: 6, recomputed: 6, changed: 0, batches: 2 } });
    expect(progress).toEqual([[0, 6], [4, 6], [6, 6]]);
  });

  it('judges every other batch on a second thread, and records each change once', async () => {
    const w = await makeWorld({ jobs: { 'readiness-sweep': { batchSize: 1, all: true, parallelMinLots: 1 } } });
    await ingestDemo(w);
    expect(await w.run('readiness-sweep')).toMatchObject({ status: 'ok', counts: { lots: 6, recomputed: 6, changed: 0, judgedOnThread: 3 } });

    // Three years on: lots judged on either thread change, and each change is recorded once.
    w.clock.advance(3 * 365 * 86_400_000);
    const swept = await w.run('readiness-sweep');
    expect(swept).toMatchObject({ status: 'ok', counts: { recomputed: 6, judgedOnThread: 3 } });
    const changed = swept.status === 'busy' ? 0 : Number(swept.counts.changed);
    const board = await w.lg.store.reads.listLots();
    const expired = board.filter((l) => l.reasonCodes.includes('R_SHELF_LIFE') || l.reasonCodes.includes('R_EXPIRED'));
    expect(changed).toBe(expired.length);
    expect(changed).toBeGreaterThan(1);
    expect((await w.lg.store.audit.listAudit({ action: 'lot.readiness_changed' })).filter((e) => e.actor === 'job:readiness-sweep')).toHaveLength(changed);
    expect((await w.lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness', limit: 1000 })).filter((m) => m.submissionId === null)).toHaveLength(changed);
    // Swept again at the same time: nothing is stale on either thread.
    expect(await w.run('readiness-sweep')).toMatchObject({ counts: { changed: 0, judgedOnThread: 3 } });
  });

  it('recomputes only the lots whose clock-due day has come', async () => {
    const w = await makeWorld({ jobs: { 'readiness-sweep': { batchSize: 4 } } });
    await ingestDemo(w);
    const rows: { id: number; due: string | null }[] = [];
    for (const id of await w.lg.store.readiness.listOpenLotIds()) rows.push({ id, due: await dueOf(w, id) });
    const dues = rows.map((r) => r.due).filter((d): d is string => d !== null).sort();
    expect(dues.length).toBeGreaterThan(0);
    // Just past the earliest due instant: exactly the lots due by then are recomputed.
    const first = Date.parse(dues[0]);
    w.clock.advance(first - w.clock.now().getTime() + 1);
    const expected = rows.filter((r) => r.due !== null && Date.parse(r.due) <= first).length;
    const swept = await w.run('readiness-sweep');
    expect(swept).toMatchObject({ status: 'ok', counts: { lots: 6, recomputed: expected } });
    // Each recomputed lot now names a later instant (or none): swept again, nothing is due.
    expect(await w.run('readiness-sweep')).toMatchObject({ counts: { recomputed: 0 } });
  });
});

async function dueOf(w: World, lotId: number): Promise<string | null> {
  const row = await w.lg.store.db.get<{ due: string | null }>('SELECT clock_due_at AS due FROM lot_readiness WHERE lot_id = ?', [lotId]);
  return row?.due ?? null;
}
