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

let w: World;
let lg: Lotgate;

beforeEach(() => {
  w = makeWorld();
  lg = createLotgate(w.config, { log: testLog() });
});
afterEach(() => {
  vi.restoreAllMocks();
  lg.close();
  w.cleanup();
});

const ingest = (partner: string, name: string, text: string): Promise<number> => ingestText(lg, w.dir, partner, name, text);

const changesOf = (lot: string) => lg.store.listAudit({ subject: `lot:${MATERIAL}/${lot}`, action: 'lot.readiness_changed' });

describe('readiness after the commit', () => {
  it('recomputes the touched lots right after the commit and leaves no marker', async () => {
    const sub = await ingest('erp', 'LOTS_1.csv', lotsCsv(['L1', 'L2']));
    expect(lg.store.countDirtyLots()).toBe(0);
    for (const lot of ['L1', 'L2']) {
      const events = changesOf(lot);
      expect(events).toHaveLength(1);
      expect(events[0].actor).toBe(`submission:${sub}`);
    }
    expect(lg.store.listOutbox({ submissionId: sub, topic: 'erp.lot_readiness' }).length).toBeGreaterThanOrEqual(2);
  });

  it('after a crash between commit and recompute, the markers are drained exactly once', async () => {
    // The process "dies" after the file's commit, before its lots are recomputed.
    const spy = vi.spyOn(lg.store, 'stillDirty').mockImplementation(() => {
      throw new Error('killed');
    });
    const sub = await ingest('erp', 'LOTS_1.csv', lotsCsv(['L1', 'L2']));
    spy.mockRestore();
    expect(lg.store.getSubmission(sub)!.state).toBe('applied');
    const lotIds = lg.store.listLots().map((l) => l.lotId);
    expect(lotIds).toHaveLength(2);
    expect(lg.store.countDirtyLots()).toBe(2);
    for (const id of lotIds) {
      expect(lg.store.isLotDirty(id)).toBe(true);
      expect(lg.store.getReadiness(id)).toBeNull();
    }
    expect(lg.store.listOutbox({ topic: 'erp.lot_readiness' })).toHaveLength(0);

    const first = recomputeDirtyLots(lg, new Date(), { actor: 'job:readiness-sweep', batchSize: 1 });
    expect(first).toEqual({ lots: 2, changed: 2 });
    for (const id of lotIds) {
      expect(lg.store.isLotDirty(id)).toBe(false);
      expect(lg.store.getReadiness(id)).not.toBeNull();
    }
    for (const lot of ['L1', 'L2']) {
      const events = changesOf(lot);
      expect(events).toHaveLength(1);
      expect(events[0].actor).toBe(`submission:${sub}`);
    }
    const msgs = lg.store.listOutbox({ topic: 'erp.lot_readiness' });
    expect(msgs).toHaveLength(2);
    expect(msgs.every((m) => m.submissionId === sub)).toBe(true);

    // A second drain (another sweep, the reconciler) finds nothing to do.
    expect(recomputeDirtyLots(lg, new Date())).toEqual({ lots: 0, changed: 0 });
    expect(changesOf('L1')).toHaveLength(1);
    expect(lg.store.listOutbox({ topic: 'erp.lot_readiness' })).toHaveLength(2);
  });
});
