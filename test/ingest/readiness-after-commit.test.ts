// Readiness off the file's transaction: the file marks the lots it touched dirty, and they are
// recomputed right after the commit. A crash between the commit and that recompute (simulated
// by the recompute failing) leaves the file applied and the markers durable; the next drain
// (the readiness sweep's first step) recomputes every marked lot exactly once — one audit event
// and one outbox message per change, caused by the submission — and a second drain does nothing.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { recomputeDirtyLots } from '../../pipeline/readiness/recompute.js';
import { testLog } from '../runtime/helpers/log.js';
import { ingestText } from '../runtime/helpers/ingest.js';
import { lotsCsv, makeWorld, MATERIAL, type World } from '../runtime/helpers/world.js';
import { failStillDirty } from './helpers.js';

let w: World;
let lg: Lotgate;

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await lg.close();
  w.cleanup();
});

const ingest = (partner: string, name: string, text: string): Promise<number> => ingestText(lg, w.dir, partner, name, text);

const changesOf = (lot: string) => lg.store.audit.listAudit({ subject: `lot:${MATERIAL}/${lot}`, action: 'lot.readiness_changed' });

describe('readiness after the commit', () => {
  it('recomputes the touched lots right after the commit and leaves no marker', async () => {
    const sub = await ingest('erp', 'LOTS_1.csv', lotsCsv(['L1', 'L2']));
    expect(await lg.store.readiness.countDirtyLots()).toBe(0);
    for (const lot of ['L1', 'L2']) {
      const events = await changesOf(lot);
      expect(events).toHaveLength(1);
      expect(events[0].actor).toBe(`submission:${sub}`);
    }
    expect((await lg.store.outbox.listOutbox({ submissionId: sub, topic: 'erp.lot_readiness' })).length).toBeGreaterThanOrEqual(2);
  });

  it('after a crash between commit and recompute, the markers are drained exactly once', async () => {
    // The process "dies" after the file's commit, before its lots are recomputed.
    const restore = failStillDirty(lg.store);
    const sub = await ingest('erp', 'LOTS_1.csv', lotsCsv(['L1', 'L2']));
    restore();
    expect((await lg.store.ledger.getSubmission(sub))!.state).toBe('applied');
    const lotIds = (await lg.store.reads.listLots()).map((l) => l.lotId);
    expect(lotIds).toHaveLength(2);
    expect(await lg.store.readiness.countDirtyLots()).toBe(2);
    for (const id of lotIds) {
      expect(await lg.store.readiness.isLotDirty(id)).toBe(true);
      expect(await lg.store.readiness.getReadiness(id)).toBeNull();
    }
    expect(await lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness' })).toHaveLength(0);

    const first = await recomputeDirtyLots(lg, new Date(), { actor: 'job:readiness-sweep', batchSize: 1 });
    expect(first).toEqual({ lots: 2, changed: 2 });
    for (const id of lotIds) {
      expect(await lg.store.readiness.isLotDirty(id)).toBe(false);
      expect(await lg.store.readiness.getReadiness(id)).not.toBeNull();
    }
    for (const lot of ['L1', 'L2']) {
      const events = await changesOf(lot);
      expect(events).toHaveLength(1);
      expect(events[0].actor).toBe(`submission:${sub}`);
    }
    const msgs = await lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness' });
    expect(msgs).toHaveLength(2);
    expect(msgs.every((m) => m.submissionId === sub)).toBe(true);

    // A second drain (another sweep, the reconciler) finds nothing to do.
    expect(await recomputeDirtyLots(lg, new Date())).toEqual({ lots: 0, changed: 0 });
    expect(await changesOf('L1')).toHaveLength(1);
    expect(await lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness' })).toHaveLength(2);
  });
});
