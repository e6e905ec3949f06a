// The ledger area on both dialects: what a submission row holds, the reads the intake's
// exactly-once decisions rest on (duplicate by sha, resend origin, unfinished and ack-pending
// lists, rejected-row counts), bulk rejected rows, and two connections inserting at once.

import { describe, expect, it } from 'vitest';
import type { RowError } from '../../../pipeline/model/types.js';
import { rejectedChunks } from '../../../pipeline/store/areas/ledger.js';
import type { NewSubmission } from '../../../pipeline/store/types.js';
import type { AsyncStore } from '../../../pipeline/store/areas/index.js';
import { describeStore, type OpenedStore } from './harness.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const sha = (c: string) => c.repeat(64);

function adder(s: Pick<AsyncStore, 'ledger'>) {
  return (partner: string, name: string, digest: string, extra: Partial<NewSubmission> = {}) =>
    s.ledger.insertSubmission({ partner, originalName: name, size: 42, sha256: digest, source: 'sftp', archivePath: `/archive/${digest.slice(0, 4)}`, ...extra });
}

const rowError = (i: number): RowError => ({ line: i + 2, column: (i % 5) + 1, field: `f${i % 3}`, code: 'E_BAD_DATE', message: `bad date on row ${i}`, value: `v${i}` });

describe('rejectedChunks', () => {
  it('covers n exactly with full chunks and power-of-two pieces', () => {
    expect(rejectedChunks(0)).toEqual([]);
    expect(rejectedChunks(1)).toEqual([1]);
    expect(rejectedChunks(7)).toEqual([4, 2, 1]);
    expect(rejectedChunks(600)).toEqual([256, 256, 64, 16, 8]);
    for (const n of [1, 255, 256, 257, 1000, 5001]) expect(rejectedChunks(n).reduce((a, b) => a + b, 0)).toBe(n);
  });
});

describeStore('ledger area', (h) => {
  it('stores a submission with defaults, reads it back in camelCase, and keeps given fields', async () => {
    const s = await h.fresh({ now: () => NOW });
    const id = await s.ledger.insertSubmission({ partner: 'acme', originalName: 'batch.csv', size: 10, sha256: sha('a'), source: 'watch', archivePath: '/arc/a' });
    expect(await s.ledger.getSubmission(id)).toEqual({
      id,
      partner: 'acme',
      feed: null,
      originalName: 'batch.csv',
      size: 10,
      sha256: sha('a'),
      receivedAt: '2026-03-01T12:00:00.000Z',
      source: 'watch',
      archivePath: '/arc/a',
      state: 'received',
      mappingName: null,
      mappingHash: null,
      rows: 0,
      applied: 0,
      rejected: 0,
      filtered: 0,
      superseded: 0,
      errorCode: null,
      errorMessage: null,
      attempts: 0,
      startedAt: null,
      finishedAt: null,
      replayOf: null,
      duplicateOf: null,
      resendOf: null,
      ackPath: null,
      ackPending: false,
      ackWrittenAt: null,
    });
    const replay = await s.ledger.insertSubmission({
      partner: 'acme',
      originalName: 'batch.csv',
      size: 10,
      sha256: sha('a'),
      source: 'replay',
      archivePath: '/arc/a',
      replayOf: id,
      feed: 'batches',
      ackPending: true,
      receivedAt: '2026-02-01T00:00:00.000Z',
      state: undefined,
    });
    expect(replay).toBeGreaterThan(id);
    expect(await s.ledger.getSubmission(replay)).toMatchObject({ replayOf: id, feed: 'batches', ackPending: true, receivedAt: '2026-02-01T00:00:00.000Z', state: 'received' });
    expect(await s.ledger.getSubmission(9999)).toBeUndefined();
  });

  it('updates only the fields given, refuses unknown fields and missing submissions', async () => {
    const s = await h.fresh();
    const id = await adder(s)('acme', 'a.csv', sha('a'));
    await s.ledger.updateSubmission(id, { state: 'processing', attempts: 1, mappingName: 'acme/batch', startedAt: '2026-01-01T00:00:01Z' });
    await s.ledger.updateSubmission(id, { state: 'applied', rows: 10, applied: 9, rejected: 1, feed: undefined, ackPending: true });
    expect(await s.ledger.getSubmission(id)).toMatchObject({ state: 'applied', attempts: 1, mappingName: 'acme/batch', rows: 10, applied: 9, rejected: 1, feed: null, ackPending: true });
    await s.ledger.updateSubmission(id, { ackPending: false, ackPath: '/acks/a.ack' });
    expect(await s.ledger.getSubmission(id)).toMatchObject({ ackPending: false, ackPath: '/acks/a.ack' });
    await expect(s.ledger.updateSubmission(id, { bogus: 1 } as never)).rejects.toThrow(/unknown field/);
    await expect(s.ledger.updateSubmission(9999, { state: 'applied' })).rejects.toThrow(/no submission 9999/);
    await s.ledger.updateSubmission(9999, {}); // nothing to change: no statement, no error
  });

  it('finds the counted original of the same bytes: earliest, counting states only, same partner, not itself', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const rejected = await add('acme', 'a.csv', sha('a'), { state: 'rejected' });
    const first = await add('acme', 'a.csv', sha('a'), { state: 'applied_with_errors' });
    const second = await add('acme', 'a2.csv', sha('a'), { state: 'applied' });
    await add('other', 'a.csv', sha('b'), { state: 'applied' });
    const review = await add('other', 'b.csv', sha('c'), { state: 'pending_review' });
    const incoming = await add('acme', 'again.csv', sha('a'));

    expect((await s.ledger.findAppliedBySha('acme', sha('a'), incoming))?.id).toBe(first);
    expect((await s.ledger.findAppliedBySha('acme', sha('a'), first))?.id).toBe(second);
    expect((await s.ledger.findAppliedBySha('acme', sha('a')))?.id).toBe(first);
    expect((await s.ledger.findAppliedBySha('other', sha('c')))?.id).toBe(review);
    expect(await s.ledger.findAppliedBySha('other', sha('a'))).toBeUndefined();
    expect(await s.ledger.findAppliedBySha('acme', sha('z'))).toBeUndefined();
    expect(rejected).toBeLessThan(first);
  });

  it('finds what a resend resends (latest rejected or quarantined before it) and lists resends', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const q1 = await add('acme', 'a.csv', sha('a'), { state: 'quarantined' });
    const r1 = await add('acme', 'renamed.csv', sha('a'), { state: 'rejected' });
    await add('acme', 'x.csv', sha('a'), { state: 'duplicate' });
    await add('other', 'a.csv', sha('a'), { state: 'rejected' });
    const now = await add('acme', 'a.csv', sha('a'));
    const later = await add('acme', 'a.csv', sha('a'), { state: 'rejected' });

    expect((await s.ledger.findResendOrigin('acme', sha('a'), now))?.id).toBe(r1);
    expect((await s.ledger.findResendOrigin('acme', sha('a'), r1))?.id).toBe(q1);
    expect(await s.ledger.findResendOrigin('acme', sha('a'), q1)).toBeUndefined();
    expect(await s.ledger.findResendOrigin('acme', sha('b'), later + 1)).toBeUndefined();

    await s.ledger.updateSubmission(now, { resendOf: r1 });
    await s.ledger.updateSubmission(later, { resendOf: r1 });
    expect((await s.ledger.listResendsOf(r1)).map((x) => x.id)).toEqual([now, later]);
    expect(await s.ledger.listResendsOf(q1)).toEqual([]);
  });

  it('tells whether a newer submission of the same name is already answered', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const a = await add('acme', 'a.csv', sha('a'));
    const b = await add('acme', 'a.csv', sha('b'));
    await add('other', 'a.csv', sha('c'), { ackPath: '/acks/other' });
    expect(await s.ledger.hasNewerAnsweredByName('acme', 'a.csv', a)).toBe(false);
    await s.ledger.updateSubmission(b, { ackPath: '/acks/b' });
    expect(await s.ledger.hasNewerAnsweredByName('acme', 'a.csv', a)).toBe(true);
    expect(await s.ledger.hasNewerAnsweredByName('acme', 'a.csv', b)).toBe(false);
    expect(await s.ledger.hasNewerAnsweredByName('acme', 'A.csv', a)).toBe(false);
  });

  it('finds submissions by name and sha (newest) and by archive path (oldest first)', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const one = await add('acme', 'a.csv', sha('a'));
    const two = await add('acme', 'a.csv', sha('a'));
    const three = await add('acme', 'b.csv', sha('a'));
    await add('acme', 'c.csv', sha('b'));
    expect((await s.ledger.findSubmissionByName('acme', 'a.csv', sha('a')))?.id).toBe(two);
    expect(await s.ledger.findSubmissionByName('acme', 'a.csv', sha('b'))).toBeUndefined();
    expect(await s.ledger.findSubmissionByName('other', 'a.csv', sha('a'))).toBeUndefined();
    expect((await s.ledger.findSubmissionByArchive('/archive/aaaa')).map((x) => x.id)).toEqual([one, two, three]);
    expect(await s.ledger.findSubmissionByArchive('/archive/none')).toEqual([]);
  });

  it('lists submissions newest first with partner, state, since and limit filters', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const a = await add('acme', 'a.csv', sha('a'), { receivedAt: '2026-01-01T00:00:00.000Z', state: 'applied' });
    const b = await add('acme', 'b.csv', sha('b'), { receivedAt: '2026-01-03T00:00:00.000Z', state: 'rejected' });
    const c = await add('other', 'c.csv', sha('c'), { receivedAt: '2026-01-02T00:00:00.000Z', state: 'applied' });
    // Same receivedAt as b: the id breaks the tie (newest id first).
    const d = await add('acme', 'd.csv', sha('d'), { receivedAt: '2026-01-03T00:00:00.000Z', state: 'quarantined' });
    const ids = async (opts?: Parameters<typeof s.ledger.listSubmissions>[0]) => (await s.ledger.listSubmissions(opts)).map((x) => x.id);

    expect(await ids()).toEqual([d, b, c, a]);
    expect(await ids({ partner: 'acme' })).toEqual([d, b, a]);
    expect(await ids({ state: 'applied' })).toEqual([c, a]);
    expect(await ids({ state: ['rejected', 'quarantined'] })).toEqual([d, b]);
    expect(await ids({ state: [] })).toEqual([]);
    expect(await ids({ since: '2026-01-02T00:00:00Z' })).toEqual([d, b, c]);
    expect(await ids({ since: new Date('2026-01-02T00:00:00Z'), partner: 'acme', state: ['applied', 'rejected'] })).toEqual([b]);
    expect(await ids({ limit: 2 })).toEqual([d, b]);
  });

  it('lists unfinished (received, processing) and ack-pending submissions oldest first', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const received = await add('acme', 'a.csv', sha('a'));
    const processing = await add('acme', 'b.csv', sha('b'), { state: 'processing' });
    const applied = await add('acme', 'c.csv', sha('c'), { state: 'applied', ackPending: true });
    const review = await add('acme', 'd.csv', sha('d'), { state: 'pending_review' });
    const rejected = await add('acme', 'e.csv', sha('e'), { state: 'rejected', ackPending: true });
    expect((await s.ledger.listUnfinishedSubmissions()).map((x) => x.id)).toEqual([received, processing]);
    expect((await s.ledger.listAckPending()).map((x) => x.id)).toEqual([applied, rejected]);
    expect((await s.ledger.listAckPending(1)).map((x) => x.id)).toEqual([applied]);

    // Deciding and answering a file moves it off both lists.
    await s.ledger.updateSubmission(processing, { state: 'applied', ackPending: true });
    await s.ledger.updateSubmission(applied, { ackPending: false, ackWrittenAt: '2026-01-01T00:00:00.000Z' });
    expect((await s.ledger.listUnfinishedSubmissions()).map((x) => x.id)).toEqual([received]);
    expect((await s.ledger.listAckPending()).map((x) => x.id)).toEqual([processing, rejected]);
    expect(review).toBeGreaterThan(0);
  });

  it('records rejected rows one by one and in bulk, lists them in file order, counts and clears them', async () => {
    const s = await h.fresh();
    const add = adder(s);
    const id = await add('acme', 'a.csv', sha('a'));
    const other = await add('acme', 'b.csv', sha('b'));
    await s.ledger.insertRejectedRow(id, { line: 5, code: 'E_BAD_DATE', message: 'bad date', field: 'expiry', column: 3, value: '31/02' });
    await s.ledger.insertRejectedRow(id, { code: 'E_RAGGED_ROW', message: 'whole file' });
    await s.ledger.insertRejectedRow(id, { line: 2, code: 'E_UNKNOWN_LOT', message: 'no lot' });
    expect(await s.ledger.insertRejectedRows(other, [rowError(0)])).toBe(1);

    const rows = await s.ledger.listRejectedRows(id);
    expect(rows.map((r) => r.line ?? null)).toEqual([null, 2, 5]);
    expect(rows[0]).toEqual({ id: rows[0]!.id, submissionId: id, code: 'E_RAGGED_ROW', message: 'whole file' });
    expect(rows[2]).toMatchObject({ submissionId: id, line: 5, column: 3, field: 'expiry', code: 'E_BAD_DATE', message: 'bad date', value: '31/02' });
    expect((await s.ledger.listRejectedRows(id, 2)).map((r) => r.line ?? null)).toEqual([null, 2]);
    expect(await s.ledger.countRejectedRows(id)).toBe(3);

    // A big file: more rows than one INSERT carries, in reverse line order to check the sort.
    const many = Array.from({ length: 1300 }, (_, i) => rowError(1299 - i));
    expect(await s.ledger.insertRejectedRows(id, many)).toBe(1300);
    expect(await s.ledger.insertRejectedRows(id, [])).toBe(0);
    expect(await s.ledger.countRejectedRows(id)).toBe(1303);
    const all = await s.ledger.listRejectedRows(id, 5000);
    expect(all).toHaveLength(1303);
    const lines = all.map((r) => r.line ?? -1);
    expect(lines).toEqual([...lines].sort((x, y) => x - y));
    expect(all.find((r) => r.line === 1301)).toMatchObject({ column: 5, field: 'f0', value: 'v1299', message: 'bad date on row 1299' });

    expect(await s.ledger.clearRejectedRows(id)).toBe(1303);
    expect(await s.ledger.countRejectedRows(id)).toBe(0);
    expect(await s.ledger.countRejectedRows(other)).toBe(1);
    expect(await s.ledger.clearRejectedRows(id)).toBe(0);
  });

  it('writes a bulk of rejected rows all or none', async () => {
    const s = await h.fresh();
    const id = await adder(s)('acme', 'a.csv', sha('a'));
    const errors = Array.from({ length: 700 }, (_, i) => rowError(i));
    // A row in the third INSERT breaks the NOT NULL on code: the first two must not stay.
    errors[600] = { ...errors[600]!, code: null as never };
    await expect(s.ledger.insertRejectedRows(id, errors)).rejects.toThrow();
    expect(await s.ledger.countRejectedRows(id)).toBe(0);
    // Inside the caller's transaction it is a savepoint: the caller's own writes survive.
    await s.transaction(async (tx) => {
      await tx.ledger.insertRejectedRow(id, rowError(0));
      await expect(tx.ledger.insertRejectedRows(id, errors)).rejects.toThrow();
    });
    expect(await s.ledger.countRejectedRows(id)).toBe(1);
  });

  it('knows when each partner last sent a file', async () => {
    const s = await h.fresh();
    const add = adder(s);
    expect(await s.ledger.lastReceivedByPartner()).toEqual(new Map());
    await add('acme', 'a.csv', sha('a'), { receivedAt: '2026-01-01T00:00:00.000Z' });
    await add('acme', 'b.csv', sha('b'), { receivedAt: '2026-01-05T00:00:00.000Z', state: 'rejected' });
    await add('other', 'c.csv', sha('c'), { receivedAt: '2026-01-03T00:00:00.000Z' });
    expect(await s.ledger.lastReceivedByPartner()).toEqual(
      new Map([
        ['acme', '2026-01-05T00:00:00.000Z'],
        ['other', '2026-01-03T00:00:00.000Z'],
      ]),
    );
  });

  it('refuses rows the schema does not allow: unknown state or source, a rejected row without its submission, a missing NOT NULL', async () => {
    const s = await h.fresh();
    const id = await adder(s)('acme', 'a.csv', sha('a'));
    await expect(s.ledger.updateSubmission(id, { state: 'weird' as never })).rejects.toThrow(/check/i);
    await expect(s.ledger.insertSubmission({ partner: 'p', originalName: 'x', size: 1, sha256: 's', source: 'carrier-pigeon' as never, archivePath: '/a' })).rejects.toThrow(/check/i);
    await expect(s.ledger.insertRejectedRow(777, { code: 'E_UNKNOWN_LOT', message: 'm' })).rejects.toThrow(/foreign key/i);
    await expect(s.db.run("INSERT INTO submissions (partner, original_name, size, sha256, received_at, source) VALUES ('p','x',1,'s','t','cli')")).rejects.toThrow(/not.null/i);
    expect((await s.ledger.getSubmission(id))?.state).toBe('received');
  });

  // The intake's decision, as process-submission makes it: under the lock, re-read the state and
  // look for a counted original; then write the outcome. The rejected rows in between widen the
  // window in which an unserialised second worker would read the same "nothing applied yet".
  const decide = (s: AsyncStore, id: number, partner: string, digest: string) =>
    s.transaction(async (tx) => {
      await tx.ledger.lockDecision(partner, digest);
      const current = await tx.ledger.getSubmission(id);
      if (current?.state !== 'processing') return 'already_decided' as const;
      const counted = await tx.ledger.findAppliedBySha(partner, digest, id);
      if (counted) {
        await tx.ledger.updateSubmission(id, { state: 'duplicate', duplicateOf: counted.id });
        return 'duplicate' as const;
      }
      await tx.ledger.insertRejectedRows(id, Array.from({ length: 20 }, (_, i) => rowError(i)));
      await tx.ledger.updateSubmission(id, { state: 'applied', applied: 1 });
      return 'applied' as const;
    });

  // SQLite's two sides share one connection: two connections of ONE process cannot both hold a
  // write transaction across awaits (the second's BEGIN IMMEDIATE blocks the event loop the first
  // needs to commit), and SQLite serialises writers anyway. PostgreSQL gets two real connections.
  const twoSides = async (): Promise<[OpenedStore, OpenedStore]> => {
    const a = await h.fresh();
    return [a, h.dialect === 'postgres' ? await h.another() : a];
  };

  it('lockDecision refuses to run outside a transaction', async () => {
    const s = await h.fresh();
    await expect(s.ledger.lockDecision('acme', sha('a'))).rejects.toThrow(/inside the deciding transaction/);
  });

  it('two workers deciding copies of the same bytes at once: exactly one applies, the other is its duplicate', async () => {
    const [a, b] = await twoSides();
    const digests = ['1', '2', '3', '4', '5', '6'].map(sha);
    const pairs = await Promise.all(
      digests.map(async (digest) => {
        const one = await adder(a)('acme', 'one.csv', digest, { state: 'processing' });
        const two = await adder(a)('acme', 'two.csv', digest, { state: 'processing' });
        const outcomes = await Promise.all([decide(a, one, 'acme', digest), decide(b, two, 'acme', digest)]);
        return { one, two, outcomes };
      }),
    );
    for (const { one, two, outcomes } of pairs) {
      expect([...outcomes].sort()).toEqual(['applied', 'duplicate']);
      const [winner, loser] = outcomes[0] === 'applied' ? [one, two] : [two, one];
      expect(await b.ledger.getSubmission(loser)).toMatchObject({ state: 'duplicate', duplicateOf: winner });
      expect(await b.ledger.countRejectedRows(winner)).toBe(20);
      expect(await b.ledger.countRejectedRows(loser)).toBe(0);
    }
  });

  it('two workers deciding the same submission at once: it is applied once', async () => {
    const [a, b] = await twoSides();
    const ids = await Promise.all(['7', '8', '9'].map((c) => adder(a)('acme', `${c}.csv`, sha(c), { state: 'processing' })));
    const outcomes = await Promise.all(ids.flatMap((id, i) => [a, b].map((s) => decide(s, id, 'acme', sha(['7', '8', '9'][i]!)))));
    for (let i = 0; i < ids.length; i++) expect([outcomes[2 * i], outcomes[2 * i + 1]].sort()).toEqual(['already_decided', 'applied']);
    for (const id of ids) expect(await a.ledger.countRejectedRows(id)).toBe(20);
  });

  it('two connections inserting at once get distinct ids and see each other’s rows', async () => {
    const a = await h.fresh();
    const b = await h.another();
    const N = 25;
    // Autocommitted statements: on SQLite two connections of ONE process must not hold a write
    // transaction across an await while the other writes (see the report); two processes may.
    const side = (s: OpenedStore, who: string) =>
      Array.from({ length: N }, async (_, i) => {
        const id = await adder(s)(who, `${who}-${i}.csv`, sha(i % 2 ? 'e' : 'f'));
        await s.ledger.insertRejectedRow(id, rowError(i));
        return id;
      });
    const ids = await Promise.all([...side(a, 'acme'), ...side(b, 'other')]);
    expect(new Set(ids).size).toBe(2 * N);
    for (const s of [a, b]) {
      const seen = await s.ledger.listSubmissions({ limit: 1000 });
      expect(seen.map((x) => x.id).sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y));
      for (const id of ids) expect(await s.ledger.countRejectedRows(id)).toBe(1);
    }
    expect((await b.ledger.findSubmissionByName('acme', 'acme-3.csv', sha('e')))?.id).toBe(ids[3]);
    expect((await a.ledger.findSubmissionByName('other', 'other-4.csv', sha('f')))?.id).toBe(ids[N + 4]);
  });

  it('another connection sees a submission and its rejected rows only once their transaction commits', async () => {
    const a = await h.fresh();
    const b = await h.another();
    let seenInside: unknown = 'not read';
    const id = await a.transaction(async (tx) => {
      const id = await adder(tx)('acme', 'a.csv', sha('a'), { state: 'applied' });
      await tx.ledger.insertRejectedRows(id, [rowError(0), rowError(1)]);
      seenInside = [await b.ledger.findAppliedBySha('acme', sha('a')), await b.ledger.countRejectedRows(id)];
      return id;
    });
    expect(seenInside).toEqual([undefined, 0]);
    expect((await b.ledger.findAppliedBySha('acme', sha('a')))?.id).toBe(id);
    expect(await b.ledger.countRejectedRows(id)).toBe(2);
  });
});
