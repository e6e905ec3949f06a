// The notifications area on both dialects: one row per (event, channel) key whose attempts add
// up until it is sent (and then stays sent, also when two machines report at once), document
// requests open until a matching document arrives, and the partners a lot has heard from.

import { expect, it } from 'vitest';
import type { AsyncStore } from '../../../pipeline/store/areas/index.js';
import { describeStore } from './harness.js';

const T0 = '2026-03-01T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

const attempt = (key: string, ok: boolean, error?: string) => ({ key, channel: 'email', eventType: 'lot.released', subject: 'LOT-1', eventAt: T0, ok, error });

/** A lot row (plain SQL: the lot model is another area). */
async function lot(s: AsyncStore, n: string, over: { partner?: string | null; vendor?: string | null } = {}): Promise<number> {
  const r = await s.db.run(`INSERT INTO lots (material_id, lot_number, vendor, partner, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, [
    'MAT-1',
    n,
    over.vendor ?? null,
    over.partner ?? null,
    T0,
    T0,
  ]);
  return r.rows[0].id as number;
}

async function document(s: AsyncStore, lotId: number, type: string, partner: string, recordedAt: string, docId = `${type}-${recordedAt}`): Promise<void> {
  await s.db.run(`INSERT INTO documents (lot_id, type, doc_id, partner, recorded_at) VALUES (?, ?, ?, ?, ?)`, [lotId, type, docId, partner, recordedAt]);
}

describeStore('notifications area', (h) => {
  it('counts attempts per key until sent; a sent key stays sent', async () => {
    const s = await h.fresh();
    expect(await s.notifications.recordNotification(attempt('k1', false, 'smtp down'), at(1))).toBe(1);
    expect(await s.notifications.getNotificationSent('k1')).toEqual({
      key: 'k1',
      channel: 'email',
      eventType: 'lot.released',
      subject: 'LOT-1',
      eventAt: T0,
      state: 'failed',
      attempts: 1,
      lastError: 'smtp down',
      updatedAt: at(1),
    });
    expect(await s.notifications.recordNotification(attempt('k1', true, 'ignored when ok'), at(2))).toBe(2);
    expect(await s.notifications.getNotificationSent('k1')).toMatchObject({ state: 'sent', attempts: 2, lastError: null, updatedAt: at(2) });
    expect(await s.notifications.recordNotification(attempt('k1', false, 'late'), at(3))).toBe(0);
    expect(await s.notifications.getNotificationSent('k1')).toMatchObject({ state: 'sent', attempts: 2, updatedAt: at(2) });
    await s.notifications.recordNotification(attempt('k2', false), at(4));
    expect(await s.notifications.getNotificationSent('k2')).toMatchObject({ state: 'failed', lastError: null });
    expect(await s.notifications.getNotificationSent('nope')).toBeUndefined();
    expect(await s.notifications.countNotificationsSent()).toEqual({ sent: 1, failed: 1 });
  });

  it('two machines reporting the same key at once: the attempts add up and sent wins over failed', async () => {
    const a = await h.fresh();
    const b = await h.another();
    for (let i = 0; i < 20; i++) {
      const key = `race-${i}`;
      const [na, nb] = await Promise.all([
        a.notifications.recordNotification(attempt(key, true), at(1)),
        b.notifications.recordNotification(attempt(key, false, 'timeout'), at(2)),
      ]);
      const row = await a.notifications.getNotificationSent(key);
      expect(row?.state).toBe('sent');
      // Failed first: both counted (1 and 2). Sent first: the failure is not recorded (0).
      expect([na, nb].sort()).toEqual(row!.attempts === 2 ? [1, 2] : [0, 1]);
    }
  });

  it('keeps document requests open until a matching document arrives, then fulfilled', async () => {
    let now = Date.parse(T0);
    const s = await h.fresh({ now: () => new Date(now) });
    const lotId = await lot(s, 'L1');
    const other = await lot(s, 'L2');
    const req = { lotId, partner: 'cmo-a', documentType: 'coa', message: 'please send the CoA', requestedBy: 'qa.lead' };
    await document(s, lotId, 'coa', 'cmo-a', at(-1)); // before the request: does not fulfil it
    now += 10;
    const first = await s.notifications.insertDocumentRequest(req);
    expect(first).toEqual({ ...req, id: first.id, requestedAt: at(10), state: 'open', closedAt: null, fulfilledAt: null });
    now += 10;
    const second = await s.notifications.insertDocumentRequest({ ...req, documentType: 'batch_record' });
    await s.notifications.insertDocumentRequest({ ...req, lotId: other });
    expect((await s.notifications.listDocumentRequests(lotId)).map((r) => r.id)).toEqual([first.id, second.id]);

    await document(s, lotId, 'coa', 'cmo-b', at(30)); // another partner's CoA
    await document(s, lotId, 'coa', 'cmo-a', at(40));
    await document(s, lotId, 'coa', 'cmo-a', at(50), 'coa-v2');
    expect((await s.notifications.listDocumentRequests(lotId)).map((r) => r.id)).toEqual([second.id]);
    const all = await s.notifications.listDocumentRequests(lotId, true);
    expect(all.map((r) => [r.id, r.state, r.fulfilledAt])).toEqual([
      [first.id, 'fulfilled', at(40)],
      [second.id, 'open', null],
    ]);
    await s.db.run(`UPDATE document_requests SET state = 'closed', closed_at = ? WHERE id = ?`, [at(60), second.id]);
    expect(await s.notifications.listDocumentRequests(lotId)).toEqual([]);
    expect((await s.notifications.listDocumentRequests(lotId, true))[1]).toMatchObject({ state: 'closed', closedAt: at(60) });
    expect(await s.notifications.listDocumentRequests(9999, true)).toEqual([]);
  });

  it('names every partner that told lotgate about the lot, its vendor and creator, sorted and once', async () => {
    const s = await h.fresh();
    const lotId = await lot(s, 'L1', { partner: 'cmo-z', vendor: 'Vendor-B' });
    const other = await lot(s, 'L2', { partner: 'cmo-other' });
    await s.db.run(`INSERT INTO stage_events (lot_id, stage, status, event_time, partner, recorded_at) VALUES (?, 'fill', 'started', ?, ?, ?)`, [lotId, T0, 'cmo-a', T0]);
    await s.db.run(`INSERT INTO stage_events (lot_id, stage, status, event_time, partner, recorded_at) VALUES (?, 'fill', 'completed', ?, ?, ?)`, [lotId, T0, null, T0]);
    await s.db.run(`INSERT INTO test_results (lot_id, test_code, partner, recorded_at) VALUES (?, 'assay', ?, ?)`, [lotId, 'lab-c', T0]);
    await document(s, lotId, 'coa', 'cmo-a', T0);
    await s.db.run(`INSERT INTO dispositions (lot_id, decision, decided_at, partner, recorded_at) VALUES (?, 'released', ?, ?, ?)`, [lotId, T0, 'QP-d', T0]);
    await s.db.run(`INSERT INTO lot_identifiers (lot_id, scheme, value, issuer, partner, created_at) VALUES (?, 'erp_lot', 'E1', 'erp', ?, ?)`, [lotId, 'erp-e', T0]);
    await document(s, other, 'coa', 'not-this-lot', T0);
    // Code-unit order: upper case first, as Array.prototype.sort puts it.
    expect(await s.notifications.partnersOfLot(lotId)).toEqual(['QP-d', 'Vendor-B', 'cmo-a', 'cmo-z', 'erp-e', 'lab-c']);
    expect(await s.notifications.partnersOfLot(9999)).toEqual([]);
  });
});
