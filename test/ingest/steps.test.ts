// processSubmission's named steps return values: each can be asked on its own what it would do.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decide, finalStateOf, processSubmission, selectFeed } from '../../pipeline/ingest/process-submission.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { testLog } from '../runtime/helpers/log.js';
import { registerText } from '../runtime/helpers/ingest.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';

let w: World;
let lg: Lotgate;

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
});
afterEach(async () => {
  await lg.close();
  w.cleanup();
});

const register = (partner: string, name: string, content: string, source: 'cli' | 'replay' = 'cli'): Promise<number> => registerText(lg, w.dir, partner, name, content, source);

describe('processSubmission steps', () => {
  it('decide: process a new file, settle a decided one, point a resend at the original', async () => {
    const first = await register('erp', 'LOTS_1.csv', lotsCsv(['L1']));
    const d = await decide(lg, (await lg.store.ledger.getSubmission(first))!);
    expect(d).toMatchObject({ kind: 'process', review: false, partner: { id: 'erp' } });

    await processSubmission(lg, first);
    expect(await decide(lg, (await lg.store.ledger.getSubmission(first))!)).toEqual({ kind: 'settled' });

    const again = await register('erp', 'LOTS_again.csv', lotsCsv(['L1']));
    expect(await decide(lg, (await lg.store.ledger.getSubmission(again))!)).toMatchObject({ kind: 'duplicate', first: { id: first } });
    // Deciding changes nothing in the ledger.
    expect((await lg.store.ledger.getSubmission(again))!.state).toBe('received');
  });

  it('decide: an unknown partner is a coded rejection; an approval of an open file is refused', async () => {
    const id = await register('erp', 'LOTS_1.csv', lotsCsv(['L1']));
    const sub = { ...(await lg.store.ledger.getSubmission(id))!, partner: 'nobody' };
    expect(await decide(lg, sub)).toMatchObject({ kind: 'reject', code: 'E_UNKNOWN_PARTNER' });
    await expect(decide(lg, (await lg.store.ledger.getSubmission(id))!, { approval: { by: 'qa', reason: 'ok' } })).rejects.toThrow(/only a submission pending review/);
  });

  it('selectFeed: the feed for a known name, E_NO_FEED naming the accepted names otherwise', () => {
    const lab = lg.partners().get('lab-a')!;
    expect(selectFeed(lg, lab, { originalName: 'RESULTS_1.csv' })).toMatchObject({ kind: 'feed', feed: { spec: { feed: 'results' } } });
    const none = selectFeed(lg, lab, { originalName: 'other.txt' });
    expect(none).toMatchObject({ kind: 'reject', code: 'E_NO_FEED' });
    expect(none.kind === 'reject' && none.message).toContain('RESULTS_*.csv');
  });

  it('finalStateOf: counts to state', () => {
    expect(finalStateOf({ applied: 3, rejected: 0 }, false)).toBe('applied');
    expect(finalStateOf({ applied: 3, rejected: 1 }, false)).toBe('applied_with_errors');
    expect(finalStateOf({ applied: 0, rejected: 2 }, false)).toBe('rejected');
    expect(finalStateOf({ applied: 0, rejected: 0 }, true)).toBe('rejected');
  });

  it('exactly once: a second run of an applied submission only re-acknowledges', async () => {
    await processSubmission(lg, await register('erp', 'LOTS_1.csv', lotsCsv(['L1'])));
    const id = await register('lab-a', 'RESULTS_1.csv', resultsCsv('L1', 5));
    const a = await processSubmission(lg, id);
    const b = await processSubmission(lg, id);
    expect([a.state, b.state]).toEqual(['applied', 'applied']);
    expect(a.touchedLots).toBe(1);
    expect(b.touchedLots).toBe(0);
    expect(await lg.store.audit.listAudit({ subject: `submission:${id}`, action: 'submission.applied' })).toHaveLength(1);
    expect((await lg.store.reads.getLotDetail('L1') as { tests: unknown[] }).tests).toHaveLength(5);
  });
});
