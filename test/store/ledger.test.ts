import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../pipeline/store/store.js';
import { tempStore } from './helpers.js';

describe('submission ledger', () => {
  let t: ReturnType<typeof tempStore>;
  let store: Store;
  beforeEach(() => {
    t = tempStore();
    store = t.store;
  });
  afterEach(() => t.cleanup());

  const sha = (c: string) => c.repeat(64);
  const add = (partner: string, name: string, digest: string, receivedAt: string, extra: Record<string, unknown> = {}) =>
    store.insertSubmission({ partner, originalName: name, size: 42, sha256: digest, source: 'sftp', archivePath: `/archive/${digest.slice(0, 4)}`, receivedAt, ...extra });

  it('stores a submission with defaults and reads it back in camelCase', () => {
    const idA = store.insertSubmission({ partner: 'acme', originalName: 'batch.csv', size: 10, sha256: sha('a'), source: 'watch', archivePath: '/arc/a' });
    expect(store.getSubmission(idA)).toEqual({
      id: idA,
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
    expect(store.getSubmission(9999)).toBeUndefined();
  });

  it('updates only the fields given and refuses unknown ones', () => {
    const sid = add('acme', 'a.csv', sha('a'), '2026-01-01T00:00:00.000Z');
    store.updateSubmission(sid, { state: 'processing', attempts: 1, mappingName: 'acme/batch', mappingHash: 'abc', startedAt: '2026-01-01T00:00:01Z' });
    store.updateSubmission(sid, { state: 'applied', rows: 10, applied: 9, rejected: 1, feed: undefined });
    expect(store.getSubmission(sid)).toMatchObject({ state: 'applied', attempts: 1, mappingName: 'acme/batch', rows: 10, applied: 9, rejected: 1, feed: null });
    store.updateSubmission(sid, { errorMessage: null });
    expect(() => store.updateSubmission(sid, { bogus: 1 } as never)).toThrow(/unknown field/);
    expect(() => store.updateSubmission(12345, { state: 'applied' })).toThrow(/no submission/);
    expect(() => store.updateSubmission(sid, { state: 'weird' as never })).toThrow(/CHECK/);
  });

  it('finds the earliest counting submission of the same bytes from the same partner', () => {
    const q1 = add('acme', 'a.csv', sha('a'), '2026-01-01T00:00:00.000Z', { state: 'quarantined' });
    const first = add('acme', 'a.csv', sha('a'), '2026-01-02T00:00:00.000Z', { state: 'applied' });
    const dup = add('acme', 'a-copy.csv', sha('a'), '2026-01-03T00:00:00.000Z', { state: 'duplicate', duplicateOf: first });
    add('beta', 'a.csv', sha('a'), '2026-01-01T00:00:00.000Z', { state: 'applied' });
    expect(store.findAppliedBySha('acme', sha('a'))?.id).toBe(first);
    expect(store.findAppliedBySha('acme', sha('a'), first)).toBeUndefined();
    expect(store.findAppliedBySha('acme', sha('b'))).toBeUndefined();
    expect(store.getSubmission(dup)?.duplicateOf).toBe(first);
    expect(q1).toBeLessThan(first);
    expect(store.findSubmissionByName('acme', 'a-copy.csv', sha('a'))?.id).toBe(dup);
    expect(store.findSubmissionByName('acme', 'a-copy.csv', sha('b'))).toBeUndefined();
    expect(store.findSubmissionByArchive('/archive/aaaa').map((s) => s.id)).toEqual([q1, first, dup, first + 2]);
  });

  it('counts only applied or pending content as the original; a rejected one is what a resend resends', () => {
    const rej = add('acme', 'a.csv', sha('a'), '2026-01-01T00:00:00.000Z', { state: 'rejected' });
    const q = add('acme', 'b.csv', sha('a'), '2026-01-02T00:00:00.000Z', { state: 'quarantined' });
    const now = add('acme', 'c.csv', sha('a'), '2026-01-03T00:00:00.000Z');
    expect(store.findAppliedBySha('acme', sha('a'), now)).toBeUndefined();
    expect(store.findResendOrigin('acme', sha('a'), now)?.id).toBe(q);
    expect(store.findResendOrigin('acme', sha('a'), q)?.id).toBe(rej);
    expect(store.findResendOrigin('beta', sha('a'), now)).toBeUndefined();
    store.updateSubmission(now, { state: 'applied', resendOf: q });
    expect(store.listResendsOf(q).map((s) => s.id)).toEqual([now]);
    const pending = add('acme', 'd.csv', sha('d'), '2026-01-04T00:00:00.000Z', { state: 'pending_review' });
    expect(store.findAppliedBySha('acme', sha('d'))?.id).toBe(pending);
  });

  it('lists newest first with filters, and the unfinished ones oldest first', () => {
    const a = add('acme', 'a.csv', sha('a'), '2026-01-01T00:00:00.000Z', { state: 'applied' });
    const b = add('acme', 'b.csv', sha('b'), '2026-01-03T00:00:00.000Z', { state: 'processing' });
    const c = add('beta', 'c.csv', sha('c'), '2026-01-02T00:00:00.000Z');
    const d = add('acme', 'd.csv', sha('d'), '2026-01-04T00:00:00.000Z', { state: 'rejected' });
    expect(store.listSubmissions().map((s) => s.id)).toEqual([d, b, c, a]);
    expect(store.listSubmissions({ partner: 'acme', limit: 2 }).map((s) => s.id)).toEqual([d, b]);
    expect(store.listSubmissions({ state: 'applied' }).map((s) => s.id)).toEqual([a]);
    expect(store.listSubmissions({ state: ['applied', 'rejected'] }).map((s) => s.id)).toEqual([d, a]);
    expect(store.listSubmissions({ since: '2026-01-02T00:00:00Z' }).map((s) => s.id)).toEqual([d, b, c]);
    expect(store.listUnfinishedSubmissions().map((s) => s.id)).toEqual([b, c]);
  });

  it('records rejected rows in file order and counts them', () => {
    const sid = add('acme', 'a.csv', sha('a'), '2026-01-01T00:00:00.000Z');
    store.insertRejectedRow(sid, { line: 9, column: 3, field: 'eventTime', code: 'E_BAD_DATE', message: 'not a date', value: '31.02.2026' });
    store.insertRejectedRow(sid, { line: 2, code: 'E_UNKNOWN_LOT', message: 'no lot' });
    store.insertRejectedRow(sid, { code: 'E_NO_ROWS', message: 'whole file' });
    expect(store.countRejectedRows(sid)).toBe(3);
    const rows = store.listRejectedRows(sid, 10);
    expect(rows.map((r) => r.code)).toEqual(['E_NO_ROWS', 'E_UNKNOWN_LOT', 'E_BAD_DATE']);
    expect(rows[2]).toMatchObject({ submissionId: sid, line: 9, column: 3, field: 'eventTime', value: '31.02.2026' });
    expect(rows[0]).not.toHaveProperty('line');
    expect(store.listRejectedRows(sid, 1)).toHaveLength(1);
    // Foreign keys are on: a rejected row needs its submission.
    expect(() => store.insertRejectedRow(777, { code: 'E_UNKNOWN_LOT', message: 'm' })).toThrow(/FOREIGN KEY/);
  });

  it('refuses rows the schema does not allow', () => {
    expect(() => store.insertSubmission({ partner: 'p', originalName: 'x', size: 1, sha256: 's', source: 'carrier-pigeon' as never, archivePath: '/a' })).toThrow(/CHECK/);
    const raw = new Database(t.path);
    try {
      expect(() => raw.prepare("INSERT INTO submissions (partner, original_name, size, sha256, received_at, source) VALUES ('p','x',1,'s','t','cli')").run()).toThrow(/NOT NULL/);
    } finally {
      raw.close();
    }
  });
});
