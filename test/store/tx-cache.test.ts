// The per-transaction lookup cache (pipeline/store/tx-cache.ts): what the ingest path remembers
// between rows must never outlive a write that changes it, nor a rollback that undoes one.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditHash, auditHashOfText } from '../../pipeline/store/audit.js';
import { canonicalJson } from '../../pipeline/store/canonical-json.js';
import type { Store } from '../../pipeline/store/store.js';
import { Lru } from '../../pipeline/store/tx-cache.js';
import { ACME, ERP, LAB, addSubmission, id, prov, seedErp, tempStore } from './helpers.js';

describe('Lru', () => {
  it('forgets the least recently used entry beyond its capacity', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // now b is the oldest
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
    lru.delete('a');
    expect(lru.get('a')).toBeUndefined();
    lru.clear();
    expect(lru.size).toBe(0);
  });
});

describe('Store lookups cached within begin()…commit()', () => {
  let t: ReturnType<typeof tempStore>;
  let store: Store;
  let lotId: number;
  beforeEach(() => {
    t = tempStore();
    store = t.store;
    lotId = seedErp(store).lotId;
  });
  afterEach(() => {
    store.rollback();
    t.cleanup();
  });

  it('follows identifiers learned in the transaction', () => {
    store.begin();
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    expect(store.resolveLot(ACME, { ids: [id('erp_lot', 'L1'), id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [id('cmo_batch', 'B-1')] });
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [] });
    // A second lot named by the same batch id (cached as pointing at L1 alone) is a conflict now.
    const l2 = store.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, prov('erp', null)).lotId;
    store.addIdentifier(l2, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', null));
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
    store.commit();
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toMatchObject({ error: { code: 'E_ID_CONFLICT' } });
  });

  it('forgets what a rolled-back savepoint wrote', () => {
    store.begin();
    const l2 = store.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, prov('erp', null)).lotId;
    store.addIdentifier(lotId, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', null));
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [] }); // cached: [L1]
    expect(() =>
      store.transaction(() => {
        store.addIdentifier(l2, id('cmo_batch', 'B-1'), 'acme-cmo', prov('acme-cmo', null)); // cached: [L1, L2]
        store.upsertLot('000999', 'L1', {}, prov('erp', null)); // L1 now ambiguous without a material
        throw new Error('undo');
      }),
    ).toThrow('undo');
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-1')] })).toEqual({ lotId, learned: [] });
    expect(store.resolveLot(LAB, { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
    store.commit();
  });

  it('forgets a record rejected half-way (its savepoint is rolled back)', () => {
    store.begin();
    const l2 = store.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, prov('erp', null)).lotId;
    store.addIdentifier(l2, id('cmo_batch', 'B-2'), 'acme-cmo', prov('acme-cmo', null));
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-2')] })).toEqual({ lotId: l2, learned: [] });
    // Pieces of a deviation: B-9 is learned for L1 through its lot number, then L3 is unknown —
    // the whole record is refused, and B-9 must not be remembered as L1's.
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-9')] })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    const sub = addSubmission(store, 'acme-cmo');
    const r = store.applyRecord(
      ACME,
      {
        kind: 'deviation',
        line: 5,
        ids: [id('cmo_batch', 'B-2'), id('erp_lot', 'L1'), id('erp_lot', 'L3')],
        fields: { partnerRef: 'DEV-1', classification: 'minor', status: 'open', openedAt: '2026-03-01T00:00:00Z' },
      },
      prov('acme-cmo', sub, 5),
    );
    expect(r).toMatchObject({ error: {} });
    expect(store.resolveLot(ACME, { ids: [id('cmo_batch', 'B-2')] })).toEqual({ lotId: l2, learned: [] });
    store.commit();
  });

  it('forgets everything on rollback', () => {
    store.begin();
    const l2 = store.upsertLot('000123', 'L2', { vendor: 'acme-cmo' }, prov('erp', null)).lotId;
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L2' })).toEqual({ lotId: l2, learned: [] });
    store.rollback();
    store.begin();
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L2' })).toMatchObject({ error: { code: 'E_UNKNOWN_LOT' } });
    store.rollback();
  });

  it('sees a lot created in the transaction under a number it already looked up', () => {
    store.begin();
    expect(store.resolveLot(LAB, { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
    store.upsertLot('000999', 'L1', { vendor: 'acme-cmo' }, prov('erp', null));
    expect(store.resolveLot(LAB, { ids: [], lotNumber: 'L1' })).toMatchObject({ error: { code: 'E_AMBIGUOUS_LOT' } });
    // A vendor change reaches the scope check of the next row.
    store.upsertLot('000123', 'L1', { vendor: 'beta-cmo' }, prov('erp', null));
    expect(store.resolveLot(ACME, { ids: [], lotNumber: 'L1', materialId: '000123' })).toMatchObject({ error: { code: 'E_PARTNER_SCOPE' } });
    store.commit();
  });

  it('sees a material master change in the facts readiness reads', () => {
    store.begin();
    expect(store.loadLotFacts(lotId).material?.description).toBe('Tablet 10 mg');
    store.upsertMaterial({ materialId: '000123', description: 'Tablet 20 mg' }, prov('erp', null));
    expect(store.loadLotFacts(lotId).material?.description).toBe('Tablet 20 mg');
    store.commit();
    expect(store.loadLotFacts(lotId).material?.description).toBe('Tablet 20 mg');
  });

  it('keeps the audit chain whole across savepoints and rollbacks', () => {
    store.begin();
    store.appendAudit({ actor: 'a', action: 'job.run', details: { n: 1 } });
    expect(() =>
      store.transaction(() => {
        store.appendAudit({ actor: 'a', action: 'outbox.retry' });
        throw new Error('undo');
      }),
    ).toThrow('undo');
    const kept = store.appendAudit({ actor: 'a', action: 'outbox.hold' });
    store.commit();
    store.begin();
    store.appendAudit({ actor: 'a', action: 'outbox.release' });
    store.rollback();
    store.begin();
    const last = store.appendAudit({ actor: 'a', action: 'job.run_requested' });
    store.commit();
    expect(last.seq).toBe(kept.seq + 1);
    expect(store.listAudit({ limit: 3 }).map((e) => e.action)).toEqual(['job.run_requested', 'outbox.hold', 'job.run']);
    expect(store.verifyAudit()).toMatchObject({ ok: true });
  });

  it('records identifiers insert-first without changing who is credited', () => {
    const early = addSubmission(store, 'erp');
    const late = addSubmission(store, 'erp');
    store.begin();
    expect(store.addIdentifier(lotId, id('vendor_batch', 'V1'), 'acme-cmo', prov('erp', late, 3))).toBe(true);
    expect(store.addIdentifier(lotId, id('vendor_batch', 'V1'), 'acme-cmo', prov('erp', null))).toBe(false);
    expect(store.getLotDetailById(lotId)?.identifiers.find((i) => i.value === 'V1')).toMatchObject({ submissionId: late });
    expect(store.addIdentifier(lotId, id('vendor_batch', 'V1'), 'acme-cmo', prov('erp', early, 9))).toBe(false);
    expect(store.addIdentifier(lotId, id('vendor_batch', 'V1'), 'acme-cmo', prov('erp', late, 4))).toBe(false);
    store.commit();
    expect(store.getLotDetailById(lotId)?.identifiers.find((i) => i.value === 'V1')).toMatchObject({ submissionId: early });
    expect(store.resolveLot(ERP, { ids: [], lotNumber: 'L1' })).toEqual({ lotId, learned: [] });
  });
});

describe('auditHashOfText', () => {
  it('hashes the canonical details text as auditHash hashes the parsed details', () => {
    const cases: unknown[] = [null, 0, -0, 1e21, 'ü\u2028"\\', [1, undefined, { b: 2, a: [] }], { z: { y: null, x: 'é' }, a: 1.5, __proto__x: true }, { '': 1, ' ': 2 }];
    for (const [i, details] of cases.entries()) {
      const detailsText = canonicalJson(details);
      for (const subject of [null, 'lot:M/L"1']) {
        const e = { seq: i + 1, at: '2026-03-01T12:00:00.000Z', actor: 'partner:a', action: 'x.y', subject };
        expect(auditHashOfText('f'.repeat(64), { ...e, detailsText })).toBe(auditHash('f'.repeat(64), { ...e, details: JSON.parse(detailsText) }));
      }
    }
  });
});
