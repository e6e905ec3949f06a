import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../pipeline/store/canonical-json.js';
import type { Store } from '../../pipeline/store/store.js';
import { tempStore } from './helpers.js';

describe('audit trail', () => {
  let t: ReturnType<typeof tempStore>;
  let store: Store;
  beforeEach(() => {
    t = tempStore();
    store = t.store;
  });
  afterEach(() => t.cleanup());

  const append = (n: number) => {
    for (let i = 1; i <= n; i++) {
      store.appendAudit({ actor: 'tester', action: 'job.run', subject: `thing:${i}`, details: { i, nested: { b: 2, a: [1, { z: true, y: null }] } } });
    }
  };

  it('chains hashes from 64 zeros and verifies', () => {
    expect(store.verifyAudit()).toEqual({ ok: true, count: 0 });
    const first = store.appendAudit({ actor: 'a', action: 'outbox.hold', subject: 's', details: { b: 1, a: 2 }, at: '2026-01-01T00:00:00Z' });
    expect(first.seq).toBe(1);
    const expected = createHash('sha256')
      .update('0'.repeat(64) + canonicalJson({ seq: 1, at: '2026-01-01T00:00:00.000Z', actor: 'a', action: 'outbox.hold', subject: 's', details: { a: 2, b: 1 } }))
      .digest('hex');
    expect(first.hash).toBe(expected);
    const second = store.appendAudit({ actor: 'a', action: 'outbox.release', details: undefined });
    expect(second.seq).toBe(2);
    append(3);
    expect(store.verifyAudit()).toEqual({ ok: true, count: 5 });
    const rows = store.listAudit({ limit: 10 });
    expect(rows.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(rows[3].prevHash).toBe(first.hash);
    expect(rows[3].subject).toBeNull();
    expect(store.listAudit({ subject: 'thing:2' })).toHaveLength(1);
    expect(store.auditHead()).toEqual({ seq: 5, hash: rows[0].hash });
  });

  it('canonical JSON ignores key order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [3, 'x'] } })).toBe('{"a":{"c":[3,"x"]},"b":1}');
    const a = store.appendAudit({ actor: 'a', action: 'outbox.hold', details: { when: new Date('2026-01-01T00:00:00Z'), skip: undefined } });
    expect(store.listAudit({ limit: 1 })[0].details).toEqual({ when: '2026-01-01T00:00:00.000Z' });
    expect(store.verifyAudit()).toEqual({ ok: true, count: 1 });
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the database itself refuses UPDATE and DELETE on audit_events', () => {
    append(3);
    const raw = new Database(t.path);
    try {
      expect(() => raw.prepare("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2").run()).toThrow(/audit trail is append-only/);
      expect(() => raw.prepare('DELETE FROM audit_events WHERE seq = 3').run()).toThrow(/audit trail is append-only/);
      expect(() => raw.prepare('DELETE FROM audit_events').run()).toThrow(/audit trail is append-only/);
    } finally {
      raw.close();
    }
    expect(store.verifyAudit()).toEqual({ ok: true, count: 3 });
  });

  it('reports the first altered row when the triggers were bypassed', () => {
    append(5);
    const raw = new Database(t.path);
    try {
      raw.exec('DROP TRIGGER audit_events_no_update');
      raw.prepare(`UPDATE audit_events SET details = '{"i":99}' WHERE seq = 3`).run();
      raw.prepare(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 4`).run();
    } finally {
      raw.close();
    }
    const v = store.verifyAudit();
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.brokenAt).toBe(3);
      expect(v.reason).toMatch(/hash does not match/);
    }
  });

  it('reports a removed row and a forged re-link', () => {
    append(5);
    const raw = new Database(t.path);
    try {
      raw.exec('DROP TRIGGER audit_events_no_delete');
      raw.prepare('DELETE FROM audit_events WHERE seq = 2').run();
    } finally {
      raw.close();
    }
    let v = store.verifyAudit();
    expect(v).toMatchObject({ ok: false, brokenAt: 3 });
    if (!v.ok) expect(v.reason).toMatch(/sequence gap/);

    // Renumbering to hide the gap still breaks the link.
    const raw2 = new Database(t.path);
    try {
      raw2.exec('DROP TRIGGER audit_events_no_update');
      raw2.exec('UPDATE audit_events SET seq = seq - 1 WHERE seq >= 3');
    } finally {
      raw2.close();
    }
    v = store.verifyAudit();
    expect(v).toMatchObject({ ok: false, brokenAt: 2 });
    if (!v.ok) expect(v.reason).toMatch(/prev_hash/);
  });

  it('appends inside an open transaction and disappears with its rollback', () => {
    append(1);
    store.begin();
    store.appendAudit({ actor: 'a', action: 'outbox.retry' });
    store.rollback();
    expect(store.verifyAudit()).toEqual({ ok: true, count: 1 });
    const next = store.appendAudit({ actor: 'a', action: 'outbox.release' });
    expect(next.seq).toBe(2);
    expect(store.verifyAudit()).toEqual({ ok: true, count: 2 });
  });
});
