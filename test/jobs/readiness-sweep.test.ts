// readiness-sweep: the clock alone changes readiness (shelf life, late milestones); the sweep
// finds it in batches, audits each change and puts it in the outbox, and reports progress.

import { afterEach, describe, expect, it } from 'vitest';
import { closeWorlds, ingestDemo, makeWorld } from './helpers/world.js';

afterEach(() => closeWorlds());

describe('readiness-sweep', () => {
  it('recomputes every open lot against the clock, in batches', async () => {
    const w = makeWorld({ jobs: { 'readiness-sweep': { batchSize: 4 } } });
    await ingestDemo(w);
    const lots = w.lg.store.listOpenLotIds();
    expect(lots.length).toBe(6);
    const outboxBefore = w.lg.store.countOutbox().pending;

    // Nothing changed since ingest: the sweep finds nothing to report.
    const progress: [number, number][] = [];
    const quiet = await w.run('readiness-sweep', {}, { progress: (d, t) => progress.push([d, t]) });
    expect(quiet).toMatchObject({ status: 'ok', counts: { lots: 6, changed: 0, batches: 2 } });
    expect(progress).toEqual([[0, 6], [4, 6], [6, 6]]);

    // Three years on the shelf-life rule blocks the lots that are still open.
    w.clock.advance(3 * 365 * 86_400_000);
    const swept = await w.run('readiness-sweep');
    expect(swept.status).toBe('ok');
    const changed = swept.status === 'busy' ? 0 : Number(swept.counts.changed);
    expect(changed).toBeGreaterThan(0);
    const board = w.lg.store.listLots();
    expect(board.filter((l) => l.reasonCodes.includes('R_SHELF_LIFE') || l.reasonCodes.includes('R_EXPIRED')).length).toBe(changed);
    // Audited as the sweep's doing, and in the outbox with no submission behind it.
    const audit = w.lg.store.listAudit({ action: 'lot.readiness_changed' }).filter((e) => e.actor === 'job:readiness-sweep');
    expect(audit).toHaveLength(changed);
    const fresh = w.lg.store.listOutbox({ state: 'pending', topic: 'erp.lot_readiness', limit: 1000 }).filter((m) => m.submissionId === null);
    expect(fresh).toHaveLength(changed);
    expect(w.lg.store.countOutbox().pending).toBe(outboxBefore + changed);

    // Swept again at the same time: nothing new.
    expect(await w.run('readiness-sweep')).toMatchObject({ counts: { changed: 0 } });
  });
});
