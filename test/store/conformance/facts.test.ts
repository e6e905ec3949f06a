// The facts area's promises, on both dialects: idempotent on natural keys (the same fact twice
// changes nothing), latest-wins only where facts-rule.ts says so (lifecycle rank, restrictiveness,
// filling gaps), provenance credited to the earliest submission, deviations linked to several
// lots — and two machines writing the same new facts at once store each of them once.

import { expect, it } from 'vitest';
import type { Prov } from '../../../pipeline/store/types.js';
import { describeStore, type OpenedStore } from './harness.js';
import { seed } from './facts-fixtures.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');

describeStore('facts', (h) => {
  /** A store with 3 lots and 4 submissions and a clock the test moves. */
  const setup = async () => {
    const clock = { t: T0 };
    const s = await h.fresh({ now: () => new Date(clock.t) });
    const { lotIds, subIds } = await seed(s.db);
    const prov = (sub: number | null, line?: number): Prov => ({ submissionId: sub === null ? null : subIds[sub], partner: 'lab-one', mappingHash: 'h1', ...(line === undefined ? {} : { line }) });
    const tick = () => (clock.t += 60_000);
    return { s, lot: lotIds[0], lotIds, subIds, prov, tick };
  };
  const one = (s: OpenedStore, table: string) => s.db.get<Record<string, unknown>>(`SELECT * FROM ${table}`);

  it('stage event: the same event twice is unchanged; the earliest submission keeps the credit; a missing site is filled', async () => {
    const { s, lot, prov, subIds, tick } = await setup();
    const e = { stage: 'filling', status: 'completed' as const, eventTime: '2026-03-01T10:00Z' };
    const first = await s.facts.insertStageEvent(lot, e, prov(1, 5));
    expect(first.created).toBe(true);
    const stored = await one(s, 'stage_events');
    expect(stored).toMatchObject({ id: first.id, event_time: '2026-03-01T10:00:00.000Z', site: null, submission_id: subIds[1], line: 5 });
    tick();
    // Same instant in another form, a later submission: nothing changes, the prior credit is reported.
    expect(await s.facts.insertStageEvent(lot, { ...e, eventTime: '2026-03-01T12:00:00+02:00' }, prov(2, 9))).toEqual({ id: first.id, created: false, prior: { submissionId: subIds[1], line: 5 } });
    expect(await one(s, 'stage_events')).toEqual(stored);
    // An earlier submission takes the credit; a site is filled, never replaced.
    await s.facts.insertStageEvent(lot, { ...e, site: 'DE-01' }, prov(0, 3));
    await s.facts.insertStageEvent(lot, { ...e, site: 'FR-02' }, prov(3, 4));
    expect(await one(s, 'stage_events')).toMatchObject({ site: 'DE-01', submission_id: subIds[0], line: 3, recorded_at: stored!.recorded_at });
    // A hand entry (no submission) never takes the credit from a file.
    await s.facts.insertStageEvent(lot, e, prov(null));
    expect(await s.facts.factCredit('stage_events', first.id)).toEqual({ submissionId: subIds[0], line: 3 });
    await expect(s.facts.insertStageEvent(lot, { ...e, eventTime: '' }, prov(0))).rejects.toThrow(/eventTime/);
  });

  it('test result: same values twice are unchanged; ranks only move forward; a correction at the same rank wins', async () => {
    const { s, lot, prov, subIds, tick } = await setup();
    const key = { testCode: 'ASSAY', sampleId: 'S-1', testedAt: '2026-03-01T09:00Z' };
    const w1 = await s.facts.upsertTestResult(lot, { ...key, resultValue: 98.2, unit: '%', resultStatus: 'preliminary' }, prov(1, 2));
    expect(w1.created).toBe(true);
    const r1 = await one(s, 'test_results');
    tick();
    expect(await s.facts.upsertTestResult(lot, { ...key, resultValue: 98.2, unit: '%', resultStatus: 'preliminary' }, prov(2, 7))).toEqual({ id: w1.id, created: false, prior: { submissionId: subIds[1], line: 2 } });
    expect(await one(s, 'test_results')).toEqual(r1);
    // The same submission again (a later line of it): the first line it came from keeps the credit.
    await s.facts.upsertTestResult(lot, { ...key, resultValue: 98.2, unit: '%', resultStatus: 'preliminary' }, prov(1, 30));
    expect(await one(s, 'test_results')).toEqual(r1);
    // final beats preliminary: values, recorded_at and provenance move to the new write.
    tick();
    await s.facts.upsertTestResult(lot, { ...key, resultValue: 99.0, unit: '%', resultStatus: 'final' }, prov(2, 8));
    const r2 = await one(s, 'test_results');
    expect(r2).toMatchObject({ result_value: 99, result_status: 'final', submission_id: subIds[2], line: 8, recorded_at: new Date(T0 + 120_000).toISOString() });
    // A late preliminary never undoes the final.
    tick();
    expect(await s.facts.upsertTestResult(lot, { ...key, resultValue: 1, resultStatus: 'preliminary' }, prov(0, 1))).toEqual({ id: w1.id, created: false, prior: { submissionId: subIds[2], line: 8 } });
    expect(await one(s, 'test_results')).toEqual(r2);
    // A correction at the same rank (no time to order it by): the later write wins.
    await s.facts.upsertTestResult(lot, { ...key, resultValue: 99.5, unit: '%', resultStatus: 'final' }, prov(3, 4));
    expect(await one(s, 'test_results')).toMatchObject({ result_value: 99.5, submission_id: subIds[3], line: 4 });
    // Same values from an earlier submission: the credit moves to it, recorded_at stays.
    const before = await one(s, 'test_results');
    await s.facts.upsertTestResult(lot, { ...key, resultValue: 99.5, unit: '%', resultStatus: 'final' }, prov(0, 6));
    expect(await one(s, 'test_results')).toEqual({ ...before, submission_id: subIds[0], line: 6 });
    // Retracted beats final, final never un-retracts.
    await s.facts.upsertTestResult(lot, { ...key, resultStatus: 'retracted' }, prov(1, 1));
    await s.facts.upsertTestResult(lot, { ...key, resultValue: 99.5, unit: '%', resultStatus: 'final' }, prov(1, 1));
    expect(await one(s, 'test_results')).toMatchObject({ result_status: 'retracted', result_value: null });
    expect((await s.db.get<{ n: number }>('SELECT count(*) AS n FROM test_results'))!.n).toBe(1);
  });

  it('test result key: empty and absent sample, tested_at and replicate are one key; a replicate or another instant is another', async () => {
    const { s, lot, prov } = await setup();
    const base = { testCode: 'PH', resultValue: 7, resultStatus: 'final' as const };
    const a = await s.facts.upsertTestResult(lot, { ...base, sampleId: '', testedAt: '', replicate: '' }, prov(0));
    expect((await s.facts.upsertTestResult(lot, base, prov(0))).id).toBe(a.id);
    expect((await s.facts.upsertTestResult(lot, { ...base, sampleId: null, testedAt: null, replicate: null }, prov(0))).created).toBe(false);
    expect((await s.facts.upsertTestResult(lot, { ...base, replicate: '2' }, prov(0))).created).toBe(true);
    const t1 = await s.facts.upsertTestResult(lot, { ...base, testedAt: '2026-03-01T10:00Z' }, prov(0));
    expect(t1.created).toBe(true);
    expect((await s.facts.upsertTestResult(lot, { ...base, testedAt: '2026-03-01T11:00:00+01:00' }, prov(0))).id).toBe(t1.id);
    expect((await s.db.get<{ n: number }>('SELECT count(*) AS n FROM test_results'))!.n).toBe(3);
  });

  it('document: the same version again only fills what was unknown; a new version is a new row', async () => {
    const { s, lot, prov, subIds } = await setup();
    const d = { type: 'coa' as const, docId: 'COA-1' };
    const w = await s.facts.upsertDocument(lot, { ...d, sha256: 'aaa' }, prov(2, 3));
    expect(w.created).toBe(true);
    expect(await s.facts.upsertDocument(lot, { ...d, version: 1, sha256: 'bbb', storedPath: '/docs/coa-1.pdf', issuedAt: '2026-02-01T00:00Z' }, prov(1, 2))).toEqual({
      id: w.id,
      created: false,
      prior: { submissionId: subIds[2], line: 3 },
    });
    expect(await one(s, 'documents')).toMatchObject({ version: 1, sha256: 'aaa', stored_path: '/docs/coa-1.pdf', issued_at: '2026-02-01T00:00:00.000Z', submission_id: subIds[1], line: 2 });
    const stored = await one(s, 'documents');
    expect((await s.facts.upsertDocument(lot, { ...d, sha256: 'ccc' }, prov(3))).created).toBe(false);
    expect(await one(s, 'documents')).toEqual(stored);
    const v2 = await s.facts.upsertDocument(lot, { ...d, version: 2, supersedes: 'COA-1 v1' }, prov(3));
    expect(v2.created).toBe(true);
    expect(v2.id).not.toBe(w.id);
  });

  it('deviation: one version linked to several lots; the same version at a higher status merges, at a lower one is ignored', async () => {
    const { s, lotIds, prov, subIds, tick } = await setup();
    const d = { partnerRef: 'DEV-7', classification: 'major' as const, status: 'open' as const, openedAt: '2026-02-20T08:00Z', title: 'Temperature excursion', capaRefs: ['C-2', 'C-1', 'C-1', ''] };
    const w = await s.facts.upsertDeviation([lotIds[0], lotIds[1], lotIds[0]], d, 'qms', prov(1, 4));
    expect(w.created).toBe(true);
    const links = () => s.db.all('SELECT deviation_id, lot_id, submission_id, line FROM deviation_lots ORDER BY deviation_id, lot_id');
    expect(await links()).toEqual([
      { deviation_id: w.id, lot_id: lotIds[0], submission_id: subIds[1], line: 4 },
      { deviation_id: w.id, lot_id: lotIds[1], submission_id: subIds[1], line: 4 },
    ]);
    const v1 = await one(s, 'deviations');
    expect(v1).toMatchObject({ issuer: 'qms', capa_refs: '["C-1","C-2"]', updated_at: '2026-02-20T08:00:00.000Z', opened_at: '2026-02-20T08:00:00.000Z' });
    tick();
    // The same fact again: unchanged, and a third lot linked to the version it names.
    expect(await s.facts.upsertDeviation([lotIds[2]], d, 'qms', prov(2, 1))).toEqual({ id: w.id, created: false, prior: { submissionId: subIds[1], line: 4 } });
    expect(await one(s, 'deviations')).toEqual(v1);
    expect((await links()).map((l) => (l as { lot_id: number }).lot_id)).toEqual(lotIds);
    // Same version, higher status: merged (capa refs united, an absent title kept).
    await s.facts.upsertDeviation([lotIds[0]], { ...d, status: 'investigation', title: null, capaRefs: ['C-3'] }, 'qms', prov(2, 2));
    expect(await one(s, 'deviations')).toMatchObject({ status: 'investigation', title: 'Temperature excursion', capa_refs: '["C-1","C-2","C-3"]', submission_id: subIds[2], line: 2 });
    // Lower status at the same version: ignored.
    const merged = await one(s, 'deviations');
    await s.facts.upsertDeviation([lotIds[0]], d, 'qms', prov(0, 1));
    expect(await one(s, 'deviations')).toEqual(merged);
    // A closing update is another version; another issuer's same reference is another deviation.
    const closed = await s.facts.upsertDeviation([lotIds[0]], { ...d, status: 'closed', closedAt: '2026-02-25T08:00Z' }, 'qms', prov(3));
    expect(closed.created).toBe(true);
    expect((await s.facts.upsertDeviation([lotIds[0]], d, 'other-qms', prov(3))).created).toBe(true);
    expect(await s.db.all('SELECT issuer, status, updated_at FROM deviations ORDER BY id')).toEqual([
      { issuer: 'qms', status: 'investigation', updated_at: '2026-02-20T08:00:00.000Z' },
      { issuer: 'qms', status: 'closed', updated_at: '2026-02-25T08:00:00.000Z' },
      { issuer: 'other-qms', status: 'open', updated_at: '2026-02-20T08:00:00.000Z' },
    ]);
  });

  it('disposition: at the same instant the more restrictive decision stands, in either order; the same decision fills decided_by', async () => {
    const { s, lotIds, prov, subIds } = await setup();
    const at = '2026-03-01T10:00Z';
    // Order 1: quarantine, then released — quarantine stands.
    const q = await s.facts.insertDisposition(lotIds[0], { decision: 'quarantine', decidedAt: at }, prov(1, 1));
    expect(await s.facts.insertDisposition(lotIds[0], { decision: 'released', decidedBy: 'QP', decidedAt: at }, prov(2, 1))).toEqual({ id: q.id, created: false, prior: { submissionId: subIds[1], line: 1 } });
    // Order 2: released, then quarantine — quarantine replaces it.
    await s.facts.insertDisposition(lotIds[1], { decision: 'released', decidedBy: 'QP', decidedAt: at }, prov(2, 1));
    await s.facts.insertDisposition(lotIds[1], { decision: 'quarantine', decidedAt: at }, prov(1, 1));
    const rows = () => s.db.all<Record<string, unknown>>('SELECT lot_id, decision, decided_by, submission_id FROM dispositions ORDER BY lot_id, id');
    expect((await rows()).map((r) => r.decision)).toEqual(['quarantine', 'quarantine']);
    // Same decision: decided_by filled when unknown, never replaced; the earliest submission credited.
    await s.facts.insertDisposition(lotIds[0], { decision: 'quarantine', decidedBy: 'QA', decidedAt: '2026-03-01T11:00:00+01:00' }, prov(0, 9));
    await s.facts.insertDisposition(lotIds[0], { decision: 'quarantine', decidedBy: 'Other', decidedAt: at }, prov(3, 9));
    expect((await rows())[0]).toEqual({ lot_id: lotIds[0], decision: 'quarantine', decided_by: 'QA', submission_id: subIds[0] });
    // Another instant is another decision.
    expect((await s.facts.insertDisposition(lotIds[0], { decision: 'released', decidedAt: '2026-03-02T10:00Z' }, prov(null))).created).toBe(true);
    await expect(s.facts.insertDisposition(lotIds[0], { decision: 'released', decidedAt: '' }, prov(null))).rejects.toThrow(/decidedAt/);
  });

  it('a fact written inside a rolled-back transaction is gone', async () => {
    const { s, lot, prov } = await setup();
    await expect(
      s.transaction(async (tx) => {
        await tx.facts.upsertTestResult(lot, { testCode: 'PH', resultStatus: 'final' }, prov(0));
        await tx.facts.upsertDeviation([lot], { partnerRef: 'D', classification: 'minor', status: 'open', openedAt: '2026-03-01' }, 'qms', prov(0));
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    for (const t of ['test_results', 'deviations', 'deviation_lots']) expect(await s.db.all(`SELECT * FROM ${t}`)).toEqual([]);
  });

  // PostgreSQL only: two SQLite handles in ONE process cannot interleave write transactions (the
  // driver's BEGIN IMMEDIATE waits for the file lock synchronously, blocking the event loop the
  // lock holder needs to finish); across processes SQLite serialises writers on the file lock.
  it.runIf(h.dialect === 'postgres')('two machines writing the same new facts at once store each once, and exactly one of them creates it', async () => {
    const { s, lotIds, prov } = await setup();
    const other = await h.another({ now: () => new Date(T0) });
    const writes = (store: OpenedStore, order: number[]) =>
      order.map(async (i) => {
        const lot = lotIds[i % 3];
        const p = prov(i % 4, i);
        return [
          await store.facts.insertStageEvent(lot, { stage: `s${i}`, status: 'started', eventTime: '2026-03-01T10:00Z' }, p),
          await store.facts.upsertTestResult(lot, { testCode: `T${i}`, resultValue: i, resultStatus: 'final' }, p),
          await store.facts.upsertDocument(lot, { type: 'coa', docId: `C${i}` }, p),
          await store.facts.upsertDeviation([lot, lotIds[(i + 1) % 3]], { partnerRef: `D${i}`, classification: 'minor', status: 'open', openedAt: '2026-03-01' }, 'qms', p),
          await store.facts.insertDisposition(lot, { decision: 'quarantine', decidedAt: `2026-03-01T10:00:${String(i).padStart(2, '0')}Z` }, p),
        ];
      });
    const ids = Array.from({ length: 12 }, (_, i) => i);
    const [mine, theirs] = await Promise.all([Promise.all(writes(s, ids)), Promise.all(writes(other, [...ids].reverse()))]);
    theirs.reverse();
    for (let i = 0; i < ids.length; i++) {
      for (let k = 0; k < 5; k++) {
        expect(mine[i][k].id).toBe(theirs[i][k].id);
        expect([mine[i][k].created, theirs[i][k].created].sort()).toEqual([false, true]);
      }
    }
    for (const t of ['stage_events', 'test_results', 'documents', 'deviations', 'dispositions']) {
      expect((await s.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))!.n, t).toBe(12);
    }
    expect((await s.db.get<{ n: number }>('SELECT count(*) AS n FROM deviation_lots'))!.n).toBe(24);
  });
});
