// The jobs area on both dialects: a lease has exactly one holder however many processes race for
// it (two connections, many concurrent acquirers), expires and is taken over, is renewed by its
// holder and released only by it; the run log and cursors.

import { expect, it } from 'vitest';
import { UNFINISHED_RUN_ERROR } from '../../../pipeline/store/areas/jobs.js';
import { describeStore, type OpenedStore } from './harness.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** Every holder of `holders` tries for the lease at once, alternating between the two connections. */
async function race(a: OpenedStore, b: OpenedStore, name: string, holders: string[], now: string, ttlMs = 60_000): Promise<string[]> {
  const won = await Promise.all(holders.map((holder, i) => (i % 2 ? b : a).jobs.tryAcquireLease(name, holder, ttlMs, now)));
  return holders.filter((_, i) => won[i]);
}

describeStore('jobs area', (h) => {
  it('gives a free lease, refuses it to others while valid, renews it for its holder', async () => {
    const s = await h.fresh();
    expect(await s.jobs.getLease('import')).toBeUndefined();
    expect(await s.jobs.tryAcquireLease('import', 'a', 10_000, at(0))).toBe(true);
    expect(await s.jobs.getLease('import')).toEqual({ name: 'import', holder: 'a', expiresAt: at(10_000) });
    expect(await s.jobs.tryAcquireLease('import', 'b', 10_000, at(5_000))).toBe(false);
    // One millisecond before expiry it is still a's.
    expect(await s.jobs.tryAcquireLease('import', 'b', 10_000, at(9_999))).toBe(false);
    expect(await s.jobs.tryAcquireLease('import', 'a', 10_000, at(5_000))).toBe(true);
    expect(await s.jobs.getLease('import')).toEqual({ name: 'import', holder: 'a', expiresAt: at(15_000) });
    // Another lease name is independent.
    expect(await s.jobs.tryAcquireLease('sweep', 'b', 10_000, at(5_000))).toBe(true);
    expect((await s.jobs.getLease('import'))?.holder).toBe('a');
  });

  it('lets another holder take over an expired lease; the former holder then waits its turn', async () => {
    const s = await h.fresh();
    expect(await s.jobs.tryAcquireLease('import', 'a', 10_000, at(0))).toBe(true);
    expect(await s.jobs.tryAcquireLease('import', 'b', 10_000, at(10_000))).toBe(true);
    expect(await s.jobs.getLease('import')).toEqual({ name: 'import', holder: 'b', expiresAt: at(20_000) });
    expect(await s.jobs.tryAcquireLease('import', 'a', 10_000, at(15_000))).toBe(false);
    // a renewing late finds b holding it; once b's lease runs out, a may come back.
    expect(await s.jobs.tryAcquireLease('import', 'a', 10_000, at(25_000))).toBe(true);
    expect((await s.jobs.getLease('import'))?.holder).toBe('a');
  });

  it('releases only for the holder', async () => {
    const s = await h.fresh();
    expect(await s.jobs.releaseLease('import', 'a')).toBe(false);
    expect(await s.jobs.tryAcquireLease('import', 'a', 10_000, at(0))).toBe(true);
    expect(await s.jobs.releaseLease('import', 'b')).toBe(false);
    expect(await s.jobs.getLease('import')).toEqual({ name: 'import', holder: 'a', expiresAt: at(10_000) });
    expect(await s.jobs.tryAcquireLease('import', 'b', 10_000, at(1_000))).toBe(false);
    expect(await s.jobs.releaseLease('import', 'a')).toBe(true);
    expect(await s.jobs.getLease('import')).toBeUndefined();
    expect(await s.jobs.tryAcquireLease('import', 'b', 10_000, at(1_000))).toBe(true);
  });

  it('many concurrent acquirers on two connections: exactly one wins a free lease', async () => {
    const a = await h.fresh();
    const b = await h.another();
    const holders = Array.from({ length: 24 }, (_, i) => `host-${i}`);
    for (const name of ['j1', 'j2', 'j3', 'j4', 'j5']) {
      const winners = await race(a, b, name, holders, at(0));
      expect(winners).toHaveLength(1);
      expect((await b.jobs.getLease(name))?.holder).toBe(winners[0]);
      expect((await a.jobs.getLease(name))?.holder).toBe(winners[0]);
    }
  });

  it('many concurrent acquirers on two connections: exactly one takes over an expired lease', async () => {
    const a = await h.fresh();
    const b = await h.another();
    const holders = Array.from({ length: 24 }, (_, i) => `host-${i}`);
    for (const [round, name] of ['j1', 'j2', 'j3', 'j4', 'j5'].entries()) {
      expect(await a.jobs.tryAcquireLease(name, 'old', 1_000, at(0))).toBe(true);
      const winners = await race(a, b, name, holders, at(1_000 + round));
      expect(winners).toHaveLength(1);
      expect(winners[0]).not.toBe('old');
      expect((await b.jobs.getLease(name))?.holder).toBe(winners[0]);
    }
  });

  it('the holder renewing while others race keeps the lease', async () => {
    const a = await h.fresh();
    const b = await h.another();
    expect(await a.jobs.tryAcquireLease('import', 'owner', 10_000, at(0))).toBe(true);
    const holders = ['owner', ...Array.from({ length: 15 }, (_, i) => `host-${i}`)];
    const winners = await race(a, b, 'import', holders, at(5_000));
    expect(winners).toEqual(['owner']);
    expect(await b.jobs.getLease('import')).toEqual({ name: 'import', holder: 'owner', expiresAt: at(65_000) });
  });

  it('records job runs and lists them newest first, by name, with a limit', async () => {
    const s = await h.fresh();
    const r1 = await s.jobs.recordJobRun({ name: 'sweep', holder: 'a', startedAt: '2026-03-01T00:00:00Z', finishedAt: '2026-03-01T00:00:02Z', status: 'ok', details: { lots: 3 } });
    const r2 = await s.jobs.recordJobRun({ name: 'push', startedAt: '2026-03-01T00:01:00Z', status: 'error', error: 'HTTP 500' });
    const r3 = await s.jobs.recordJobRun({ name: 'sweep', startedAt: '2026-03-01T00:02:00Z', status: 'skipped' });
    // Same start as r3: the id breaks the tie.
    const r4 = await s.jobs.recordJobRun({ name: 'push', startedAt: '2026-03-01T00:02:00.000Z', status: 'ok' });
    expect(new Set([r1, r2, r3, r4]).size).toBe(4);
    expect((await s.jobs.listJobRuns()).map((r) => r.id)).toEqual([r4, r3, r2, r1]);
    expect((await s.jobs.listJobRuns({ name: 'sweep' })).map((r) => r.id)).toEqual([r3, r1]);
    expect((await s.jobs.listJobRuns({ limit: 1 })).map((r) => r.id)).toEqual([r4]);
    expect(await s.jobs.listJobRuns({ name: 'nothing' })).toEqual([]);
    expect((await s.jobs.listJobRuns({ name: 'sweep' }))[1]).toEqual({
      id: r1,
      name: 'sweep',
      holder: 'a',
      startedAt: '2026-03-01T00:00:00.000Z',
      finishedAt: '2026-03-01T00:00:02.000Z',
      status: 'ok',
      details: { lots: 3 },
      error: null,
    });
    expect((await s.jobs.listJobRuns({ name: 'push' }))[1]).toMatchObject({ id: r2, status: 'error', error: 'HTTP 500', details: null, holder: null, finishedAt: null });
  });

  it('a started run reads as unfinished until it is finished; finishing an unknown run throws', async () => {
    const s = await h.fresh();
    const id = await s.jobs.startJobRun('sweep', 'host-1', '2026-03-01T00:00:00Z', { phase: 'start' });
    expect((await s.jobs.listJobRuns({ name: 'sweep' }))[0]).toEqual({
      id,
      name: 'sweep',
      holder: 'host-1',
      startedAt: '2026-03-01T00:00:00.000Z',
      finishedAt: null,
      status: 'error',
      details: { phase: 'start' },
      error: UNFINISHED_RUN_ERROR,
    });
    await s.jobs.finishJobRun(id, { finishedAt: new Date('2026-03-01T00:00:03Z'), status: 'ok', details: { lots: 2 } });
    expect((await s.jobs.listJobRuns({ name: 'sweep' }))[0]).toMatchObject({ id, finishedAt: '2026-03-01T00:00:03.000Z', status: 'ok', details: { lots: 2 }, error: null });
    await expect(s.jobs.finishJobRun(id + 100, { finishedAt: at(0), status: 'ok' })).rejects.toThrow(/no job run/);
  });

  it('concurrent starts on two connections get distinct run ids, each finished once', async () => {
    const a = await h.fresh();
    const b = await h.another();
    const starts = Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).jobs.startJobRun('sweep', `host-${i}`, at(i)));
    const ids = await Promise.all(starts);
    expect(new Set(ids).size).toBe(20);
    await Promise.all(ids.map((id, i) => (i % 2 ? a : b).jobs.finishJobRun(id, { finishedAt: at(i + 1), status: 'ok' })));
    const runs = await a.jobs.listJobRuns({ name: 'sweep', limit: 100 });
    expect(runs).toHaveLength(20);
    expect(runs.every((r) => r.status === 'ok' && r.error === null)).toBe(true);
  });

  it('keeps a cursor per job, overwritten on set', async () => {
    let clock = new Date(T0);
    const s = await h.fresh({ now: () => clock });
    expect(await s.jobs.getJobCursor('notify:audit-seq')).toBeUndefined();
    await s.jobs.setJobCursor('notify:audit-seq', '10');
    await s.jobs.setJobCursor('other', 'x');
    clock = new Date(T0 + 1000);
    await s.jobs.setJobCursor('notify:audit-seq', '42');
    expect(await s.jobs.getJobCursor('notify:audit-seq')).toBe('42');
    expect(await s.jobs.getJobCursor('other')).toBe('x');
    expect(await s.db.get('SELECT updated_at FROM job_cursors WHERE name = ?', ['notify:audit-seq'])).toEqual({ updated_at: at(1000) });
  });
});
