// The pulls area on both dialects: remote files seen, fetching and fetched (the stable-size rule,
// the ledger mark that survives an interrupted fetch), and the SFTP bans every process shares.
// Across machines: two starting the same file leave one row with one mark, a late start never
// undoes a finished fetch, and two bans of one key at once keep the later one.

import { expect, it } from 'vitest';
import type { AsyncStore } from '../../../pipeline/store/areas/index.js';
import type { RemoteFileKey } from '../../../pipeline/store/areas/pulls.js';
import { describeStore } from './harness.js';

const T0 = '2026-03-01T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const clock = () => new Date(T0);
const DAY = 86_400_000;

const file = (over: Partial<RemoteFileKey> = {}): RemoteFileKey => ({ partner: 'cmo-a', remotePath: '/out/coa-1.csv', size: 100, mtime: 1_700_000_000_123.7, ...over });

/** A ledger row (plain SQL: the ledger is another area). */
async function submission(s: AsyncStore, over: { partner?: string; name?: string; sha?: string; source?: string } = {}): Promise<number> {
  const r = await s.db.run(
    `INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [over.partner ?? 'cmo-a', over.name ?? 'coa-1.csv', 100, over.sha ?? 'aa', T0, over.source ?? 'pull', '/arch/x'],
  );
  return r.rows[0].id as number;
}

describeStore('pulls area', (h) => {
  it('notes a file seen once per size and mtime, dropping what it saw of the path while it grew', async () => {
    const s = await h.fresh({ now: clock });
    const first = await s.pulls.notePulledSeen(file({ size: 50 }), T0);
    expect(first).toEqual({
      partner: 'cmo-a',
      remotePath: '/out/coa-1.csv',
      size: 50,
      mtime: 1_700_000_000_123,
      state: 'seen',
      firstSeenAt: T0,
      fetchStartedAt: null,
      ledgerMark: null,
      sha256: null,
      submissionId: null,
      fetchedAt: null,
      afterDone: false,
      updatedAt: T0,
    });
    expect((await s.pulls.notePulledSeen(file({ size: 50 }), at(1000))).firstSeenAt).toBe(T0);
    const grown = await s.pulls.notePulledSeen(file({ size: 100 }), at(2000));
    expect(grown.firstSeenAt).toBe(at(2000));
    expect(await s.pulls.getPulledFile(file({ size: 50 }))).toBeUndefined();
    await s.pulls.notePulledSeen(file({ remotePath: '/out/other.csv' }), at(3000));
    expect((await s.pulls.listPulledFiles()).map((r) => r.remotePath)).toEqual(['/out/other.csv', '/out/coa-1.csv']);
  });

  it('starts, finishes and completes a fetch; an interrupted fetch keeps its first ledger mark', async () => {
    const s = await h.fresh({ now: clock });
    await submission(s);
    const mark = await submission(s);
    await s.pulls.notePulledSeen(file(), T0);
    const started = await s.pulls.startPullFetch(file(), at(10));
    expect(started).toMatchObject({ state: 'fetching', firstSeenAt: T0, fetchStartedAt: at(10), ledgerMark: mark });
    // The fetch died; the pull row it wrote is in the ledger now. The next attempt keeps the mark.
    const written = await submission(s, { sha: 'cafe' });
    const again = await s.pulls.startPullFetch(file(), at(20));
    expect(again).toMatchObject({ state: 'fetching', fetchStartedAt: at(20), ledgerMark: mark });
    expect(await s.pulls.findPulledSubmission('cmo-a', 'coa-1.csv', 'cafe', again.ledgerMark!)).toBe(written);
    await s.pulls.finishPullFetch(file(), { sha256: 'cafe', submissionId: written }, at(30));
    await s.pulls.markPullAfterDone(file(), at(40));
    expect(await s.pulls.getPulledFile(file())).toMatchObject({ state: 'fetched', sha256: 'cafe', submissionId: written, fetchedAt: at(30), afterDone: true, updatedAt: at(40) });
    // A fetched file is never started again, and a listing does not touch it.
    expect(await s.pulls.startPullFetch(file(), at(50))).toMatchObject({ state: 'fetched', fetchStartedAt: at(20) });
    expect(await s.pulls.notePulledSeen(file(), at(60))).toMatchObject({ state: 'fetched' });
    // A fetch without a listing first (done-marker rule) starts from nothing.
    expect(await s.pulls.startPullFetch(file({ remotePath: '/out/b.csv' }), at(70))).toMatchObject({ state: 'fetching', firstSeenAt: at(70), ledgerMark: written });
  });

  it('finds only a pull row of the same partner, name and bytes after the mark', async () => {
    const s = await h.fresh({ now: clock });
    const before = await submission(s, { sha: 'x' });
    await submission(s, { sha: 'x', source: 'sftp' });
    await submission(s, { sha: 'x', partner: 'cmo-b' });
    await submission(s, { sha: 'x', name: 'other.csv' });
    expect(await s.pulls.findPulledSubmission('cmo-a', 'coa-1.csv', 'x', before)).toBeUndefined();
    const hit = await submission(s, { sha: 'x' });
    await submission(s, { sha: 'x' });
    expect(await s.pulls.findPulledSubmission('cmo-a', 'coa-1.csv', 'x', before)).toBe(hit);
    expect(await s.pulls.findPulledSubmission('cmo-a', 'coa-1.csv', 'x', 0)).toBe(before);
  });

  it('lists newest first, by partner and state, limited', async () => {
    const s = await h.fresh({ now: clock });
    await s.pulls.notePulledSeen(file({ remotePath: '/a' }), at(1));
    await s.pulls.startPullFetch(file({ remotePath: '/b' }), at(2));
    await s.pulls.notePulledSeen(file({ partner: 'cmo-b', remotePath: '/c' }), at(3));
    await s.pulls.notePulledSeen(file({ remotePath: '/d' }), at(3));
    expect((await s.pulls.listPulledFiles()).map((r) => r.remotePath)).toEqual(['/d', '/c', '/b', '/a']);
    expect((await s.pulls.listPulledFiles({ partner: 'cmo-a' })).map((r) => r.remotePath)).toEqual(['/d', '/b', '/a']);
    expect((await s.pulls.listPulledFiles({ partner: 'cmo-a', state: 'seen', limit: 1 })).map((r) => r.remotePath)).toEqual(['/d']);
    expect((await s.pulls.listPulledFiles({ state: 'fetching' })).map((r) => r.remotePath)).toEqual(['/b']);
  });

  it('two machines starting the same file at once leave one fetching row, the first ledger mark winning', async () => {
    const a = await h.fresh({ now: clock });
    const b = await h.another({ now: clock });
    await submission(a);
    for (let i = 0; i < 20; i++) {
      const k = file({ remotePath: `/race/${i}.csv` });
      // b's machine registers a file just before its start: whichever start writes first, its
      // mark is the one both see (a later mark would let a re-fetch miss the crashed run's row).
      const [ra, rb] = await Promise.all([
        a.pulls.startPullFetch(k, at(1)),
        (async () => {
          await submission(b);
          return b.pulls.startPullFetch(k, at(2));
        })(),
      ]);
      expect([ra.state, rb.state]).toEqual(['fetching', 'fetching']);
      const stored = await a.pulls.getPulledFile(k);
      expect([ra.ledgerMark, rb.ledgerMark]).toEqual([stored!.ledgerMark, stored!.ledgerMark]);
      expect((await a.db.get<{ n: number }>('SELECT count(*) AS n FROM pulled_files WHERE remote_path = ?', [k.remotePath]))!.n).toBe(1);
    }
  });

  it('a start racing a finish on another machine never undoes the finished fetch', async () => {
    const a = await h.fresh({ now: clock });
    const b = await h.another({ now: clock });
    const sub = await submission(a);
    for (let i = 0; i < 20; i++) {
      const k = file({ remotePath: `/race/${i}.csv` });
      await a.pulls.startPullFetch(k, at(1));
      await Promise.all([a.pulls.finishPullFetch(k, { sha256: 'ff', submissionId: sub }, at(2)), b.pulls.startPullFetch(k, at(3))]);
      expect(await b.pulls.getPulledFile(k)).toMatchObject({ state: 'fetched', submissionId: sub });
    }
  });

  it('records bans: strikes and end times only grow, lifting keeps strikes, old ones are forgotten', async () => {
    const s = await h.fresh({ now: clock });
    const now = Date.parse(T0);
    await s.pulls.recordBan({ kind: 'ip', key: '10.0.0.1', until: now + 60_000.4, strike: 1, bannedAt: now });
    await s.pulls.recordBan({ kind: 'ip', key: '10.0.0.1', until: now + 30_000, strike: 1, bannedAt: now - 5 }); // a stale report
    expect(await s.pulls.getBan('ip', '10.0.0.1')).toEqual({ kind: 'ip', key: '10.0.0.1', until: now + 60_000, strike: 1, bannedAt: now });
    await s.pulls.recordBan({ kind: 'user', key: 'mallory', until: now + 120_000, strike: 2, bannedAt: now });
    await s.pulls.recordBan({ kind: 'user', key: 'ended', until: now - 1000, strike: 1, bannedAt: now - 2000 });
    expect((await s.pulls.listActiveBans(now)).map((b) => b.key)).toEqual(['mallory', '10.0.0.1']);
    expect(await s.pulls.liftBan('user', 'mallory', now + 10)).toBe(true);
    expect(await s.pulls.liftBan('user', 'mallory', now + 20)).toBe(false);
    expect(await s.pulls.getBan('user', 'mallory')).toMatchObject({ until: now + 10, strike: 2 });
    expect((await s.pulls.listActiveBans(now + 10)).map((b) => b.key)).toEqual(['10.0.0.1']);
    expect(await s.pulls.getBan('user', 'nobody')).toBeUndefined();
    // A ban a month later forgets the ones that ended more than 30 days before it.
    await s.pulls.recordBan({ kind: 'ip', key: '10.0.0.2', until: now + 31 * DAY + 60_000, strike: 1, bannedAt: now + 31 * DAY });
    expect(await s.pulls.getBan('user', 'ended')).toBeUndefined();
    expect(await s.pulls.getBan('user', 'mallory')).toBeUndefined();
    expect(await s.pulls.getBan('ip', '10.0.0.1')).toBeUndefined();
    expect((await s.pulls.listActiveBans(now)).map((b) => b.key)).toEqual(['10.0.0.2']);
    expect(await s.pulls.pruneBans(now + 31 * DAY)).toBe(0);
    expect(await s.pulls.pruneBans(now + 40 * DAY)).toBe(1);
  });

  it('two machines banning one key at once keep the longer ban and the higher strike', async () => {
    const a = await h.fresh({ now: clock });
    const b = await h.another({ now: clock });
    const now = Date.parse(T0);
    for (let i = 0; i < 20; i++) {
      const key = `10.1.0.${i}`;
      await Promise.all([
        a.pulls.recordBan({ kind: 'ip', key, until: now + 60_000, strike: 2, bannedAt: now }),
        b.pulls.recordBan({ kind: 'ip', key, until: now + 90_000, strike: 1, bannedAt: now + 1 }),
      ]);
      expect(await a.pulls.getBan('ip', key)).toEqual({ kind: 'ip', key, until: now + 90_000, strike: 2, bannedAt: now + 1 });
    }
  });
});
