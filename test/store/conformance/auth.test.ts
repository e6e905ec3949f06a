// Conformance of the auth area (pipeline/store/areas/auth.ts) on SQLite and PostgreSQL: the rows
// it keeps, and the single-use and counting guarantees that must hold when two lotgate processes
// (two connections here, racing with Promise.all) share one database: a TOTP step accepted once,
// a recovery code and a signing challenge used once, a revocation seen by the other process,
// failed logins counted without lost updates, an Idempotency-Key mapping to one submission.

import { expect, it } from 'vitest';
import type { OpenedStore } from './harness.js';
import { describeStore } from './harness.js';

const T0 = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-02T10:00:00.000Z';
const EARLIER = '2026-02-28T10:00:00.000Z';

/** A submissions row (the ledger is another area): plain SQL, returns its id. */
async function submission(s: OpenedStore, sha256: string): Promise<number> {
  const r = await s.db.run(
    `INSERT INTO submissions (partner, original_name, size, sha256, received_at, source, archive_path) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ['acme', `${sha256}.csv`, 10, sha256, T0, 'cli', `/archive/${sha256}`],
  );
  return Number(r.rows[0]!.id);
}

/** A lots row for signatures to point at. */
async function lot(s: OpenedStore, lotNumber: string): Promise<number> {
  const r = await s.db.run('INSERT INTO lots (material_id, lot_number, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id', ['MAT-1', lotNumber, T0, T0]);
  return Number(r.rows[0]!.id);
}

const user = (s: OpenedStore, username = 'alice') => s.auth.insertPrincipal({ kind: 'user', username, displayName: username.toUpperCase(), passwordHash: 'h' });

const session = (idHash: string, principalId: number, over: { createdAt?: string; expiresAt?: string } = {}) => ({
  idHash,
  principalId,
  createdAt: over.createdAt ?? T0,
  expiresAt: over.expiresAt ?? '2099-01-01T00:00:00.000Z',
  mfaAt: null,
  stage: 'enrol' as const,
  csrfToken: `csrf-${idHash}`,
  ip: '10.0.0.1',
  userAgent: 'ua',
});

/** How many of the settled promises were fulfilled with `true` / a value. */
const winners = (results: unknown[]) => results.filter((r) => r === true || (r !== false && r !== undefined && r !== null)).length;

describeStore('auth area', (h) => {
  // Both processes on one fixed clock: whichever wins a race writes the same instant.
  const clock = () => new Date(T0);
  const fresh = () => h.fresh({ now: clock });
  const another = () => h.another({ now: clock });

  // ---------------------------------------------------------------- principals

  it('inserts, reads and lists principals; a password sets password_set_at', async () => {
    const s = await fresh();
    const a = await s.auth.insertPrincipal({ kind: 'user', username: 'bob', displayName: 'Bob', email: 'b@x', passwordHash: 'ph' });
    const p = await s.auth.insertPrincipal({ kind: 'partner_user', username: 'acme-ann', displayName: 'Ann', partner: 'acme' });
    expect(a).not.toBe(p);
    const bob = await s.auth.getPrincipal(a);
    expect(bob).toEqual({
      id: a,
      kind: 'user',
      username: 'bob',
      displayName: 'Bob',
      email: 'b@x',
      partner: null,
      passwordHash: 'ph',
      passwordSetAt: T0,
      resetCodeHash: null,
      resetExpiresAt: null,
      totpSecret: null,
      totpEnrolledAt: null,
      totpLastStep: null,
      failedLogins: 0,
      lockedUntil: null,
      disabledAt: null,
      lastLoginAt: null,
      createdAt: T0,
    });
    expect((await s.auth.getPrincipalByName('acme-ann'))).toMatchObject({ id: p, partner: 'acme', passwordHash: null, passwordSetAt: null });
    expect(await s.auth.getPrincipal(999)).toBeUndefined();
    expect(await s.auth.getPrincipalByName('nobody')).toBeUndefined();
    // Binary order on both dialects ("C" collation on PostgreSQL): upper case before lower case.
    await s.auth.insertPrincipal({ kind: 'service', username: 'Zed', displayName: 'Z' });
    expect((await s.auth.listPrincipals()).map((x) => x.username)).toEqual(['Zed', 'acme-ann', 'bob']);
    await expect(s.auth.insertPrincipal({ kind: 'user', username: 'bob', displayName: 'again' })).rejects.toThrow();
  });

  it('updates only known columns, nulls included', async () => {
    const s = await fresh();
    const id = await user(s);
    await s.auth.updatePrincipal(id, { displayName: 'Alice A', totpSecret: 'SECRET', lockedUntil: LATER, failedLogins: 3 });
    await s.auth.updatePrincipal(id, { lockedUntil: null, username: 'mallory', id: 77 } as never);
    await s.auth.updatePrincipal(id, {});
    expect(await s.auth.getPrincipal(id)).toMatchObject({ id, username: 'alice', displayName: 'Alice A', totpSecret: 'SECRET', lockedUntil: null, failedLogins: 3 });
  });

  it('counts failed logins from two processes without losing one', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    const counts = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? s : b).auth.noteLoginFailure(id)));
    // Every attempt saw its own count: exactly one of them crossed any lockout threshold.
    expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect((await b.auth.getPrincipal(id))!.failedLogins).toBe(16);
    await expect(s.auth.noteLoginFailure(4242)).rejects.toThrow();
  });

  // Two transactions of two processes: the production flow (service.ts fail()) counts and, at the
  // threshold, locks and resets the count in the same transaction. SQLite is left out: two
  // connections of one Node process cannot hold interleaved write transactions (the second
  // BEGIN IMMEDIATE would block the event loop the first needs to commit).
  it.skipIf(h.dialect !== 'postgres')('locks out exactly once per threshold when failing transactions race', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    const MAX = 3;
    const attempt = (st: OpenedStore) =>
      st.transaction(async (tx) => {
        const n = await tx.auth.noteLoginFailure(id);
        if (n < MAX) return false;
        await tx.auth.updatePrincipal(id, { lockedUntil: LATER, failedLogins: 0 });
        return true;
      });
    const locked = await Promise.all(Array.from({ length: 9 }, (_, i) => attempt(i % 2 ? s : b)));
    expect(locked.filter(Boolean)).toHaveLength(3);
    expect(await s.auth.getPrincipal(id)).toMatchObject({ failedLogins: 0, lockedUntil: LATER });
  });

  it('accepts a TOTP time step once, across processes, and only newer steps after it', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    const first = await Promise.all([s.auth.acceptTotpStep(id, 1000), b.auth.acceptTotpStep(id, 1000), s.auth.acceptTotpStep(id, 1000), b.auth.acceptTotpStep(id, 1000)]);
    expect(winners(first)).toBe(1);
    expect(await b.auth.acceptTotpStep(id, 999)).toBe(false);
    expect(await b.auth.acceptTotpStep(id, 1000)).toBe(false);
    expect(await s.auth.acceptTotpStep(id, 1001)).toBe(true);
    expect((await b.auth.getPrincipal(id))!.totpLastStep).toBe(1001);
    expect(await s.auth.acceptTotpStep(999, 5000)).toBe(false);
  });

  // ---------------------------------------------------------------- role bindings

  it('adds a role binding once per scope, lists and removes them', async () => {
    const s = await fresh();
    const a = await user(s, 'alice');
    const c = await user(s, 'carol');
    const siteScope = { sites: ['S2', 'S1'], materials: '*', partners: ['*', 'x'] } as const;
    const b1 = await s.auth.addRoleBinding({ principalId: a, role: 'viewer', scope: siteScope, createdBy: 'admin' });
    expect(b1).toEqual(expect.any(Number));
    // The same scope in another order is the same binding (sorted, '*' wins).
    expect(await s.auth.addRoleBinding({ principalId: a, role: 'viewer', scope: { sites: ['S1', 'S2'], materials: '*', partners: '*' }, createdBy: 'x' })).toBeNull();
    const b2 = await s.auth.addRoleBinding({ principalId: a, role: 'viewer', scope: { sites: '*', materials: '*', partners: '*' }, createdBy: 'admin' });
    const b3 = await s.auth.addRoleBinding({ principalId: c, role: 'qa', scope: { sites: '*', materials: ['M'], partners: '*' }, createdBy: 'admin' });
    const b4 = await s.auth.addRoleBinding({ principalId: a, role: 'admin', scope: { sites: '*', materials: '*', partners: '*' }, createdBy: 'admin' });
    expect(await s.auth.listRoleBindings(a)).toEqual([
      { id: b1, principalId: a, role: 'viewer', scope: { sites: ['S1', 'S2'], materials: '*', partners: '*' }, createdAt: T0, createdBy: 'admin' },
      { id: b2, principalId: a, role: 'viewer', scope: { sites: '*', materials: '*', partners: '*' }, createdAt: T0, createdBy: 'admin' },
      { id: b4, principalId: a, role: 'admin', scope: { sites: '*', materials: '*', partners: '*' }, createdAt: T0, createdBy: 'admin' },
    ]);
    expect((await s.auth.listRoleBindings()).map((r) => r.id)).toEqual([b1, b2, b4, b3]);
    expect(await s.auth.removeRoleBinding(a, 'viewer')).toBe(2);
    expect(await s.auth.removeRoleBinding(a, 'viewer')).toBe(0);
    expect((await s.auth.listRoleBindings(a)).map((r) => r.role)).toEqual(['admin']);
  });

  it('two processes granting the same binding at once create it once', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    const grant = (st: OpenedStore) => st.auth.addRoleBinding({ principalId: id, role: 'qa', scope: { sites: '*', materials: '*', partners: '*' }, createdBy: 'admin' });
    const ids = await Promise.all([grant(s), grant(b), grant(s), grant(b)]);
    expect(ids.filter((x) => x !== null)).toHaveLength(1);
    expect(await b.auth.listRoleBindings(id)).toHaveLength(1);
  });

  // ---------------------------------------------------------------- recovery codes

  it('replaces recovery codes and uses each one once, across processes', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    const other = await user(s, 'bob');
    await s.auth.replaceRecoveryCodes(id, ['old1', 'old2']);
    await s.auth.replaceRecoveryCodes(id, ['r1', 'r2', 'r3']);
    await s.auth.replaceRecoveryCodes(other, ['r1']);
    expect(await s.auth.countRecoveryCodesLeft(id)).toBe(3);
    expect(await s.auth.useRecoveryCode(id, 'old1')).toBe(false);
    const uses = await Promise.all([s.auth.useRecoveryCode(id, 'r2'), b.auth.useRecoveryCode(id, 'r2'), s.auth.useRecoveryCode(id, 'r2'), b.auth.useRecoveryCode(id, 'r2')]);
    expect(winners(uses)).toBe(1);
    expect(await b.auth.countRecoveryCodesLeft(id)).toBe(2);
    // Another principal's code of the same hash is its own.
    expect(await b.auth.countRecoveryCodesLeft(other)).toBe(1);
    expect(await b.auth.useRecoveryCode(other, 'r2')).toBe(false);
    await s.auth.replaceRecoveryCodes(id, []);
    expect(await s.auth.countRecoveryCodesLeft(id)).toBe(0);
    expect(await s.auth.countRecoveryCodesLeft(12345)).toBe(0);
  });

  it('replaces recovery codes inside the caller transaction, and undoes them with it', async () => {
    const s = await fresh();
    const id = await user(s);
    await s.auth.replaceRecoveryCodes(id, ['keep']);
    await expect(
      s.transaction(async (tx) => {
        await tx.auth.replaceRecoveryCodes(id, ['new1', 'new2']);
        expect(await tx.auth.countRecoveryCodesLeft(id)).toBe(2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await s.auth.countRecoveryCodesLeft(id)).toBe(1);
    expect(await s.auth.useRecoveryCode(id, 'keep')).toBe(true);
    // Long lists go in chunks.
    const many = Array.from({ length: 1203 }, (_, i) => `c${i}`);
    await s.auth.replaceRecoveryCodes(id, many);
    expect(await s.auth.countRecoveryCodesLeft(id)).toBe(1203);
  });

  // ---------------------------------------------------------------- sessions

  it('inserts, touches, promotes and lists sessions', async () => {
    const s = await fresh();
    const id = await user(s);
    await s.auth.insertSession(session('h1', id));
    await s.auth.insertSession(session('h2', id, { createdAt: LATER }));
    await s.auth.insertSession(session('h0', id, { createdAt: LATER }));
    expect(await s.auth.getSession('h1')).toEqual({
      idHash: 'h1',
      principalId: id,
      createdAt: T0,
      lastSeenAt: T0,
      expiresAt: '2099-01-01T00:00:00.000Z',
      mfaAt: null,
      stage: 'enrol',
      csrfToken: 'csrf-h1',
      ip: '10.0.0.1',
      userAgent: 'ua',
      revokedAt: null,
      revokedReason: null,
    });
    await s.auth.touchSession('h1', LATER);
    await s.auth.updateSessionStage('h1', 'full', LATER);
    expect(await s.auth.getSession('h1')).toMatchObject({ lastSeenAt: LATER, stage: 'full', mfaAt: LATER });
    // A null mfaAt keeps the one recorded.
    await s.auth.updateSessionStage('h1', 'enrol', null);
    expect(await s.auth.getSession('h1')).toMatchObject({ stage: 'enrol', mfaAt: LATER });
    expect(await s.auth.getSession('nope')).toBeUndefined();
    expect((await s.auth.listSessionsOf(id)).map((x) => x.idHash)).toEqual(['h2', 'h0', 'h1']);
    expect(await s.auth.listSessionsOf(999)).toEqual([]);
  });

  it('a session revoked by one process is refused by the other, and revoked once', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    await s.auth.insertSession(session('h1', id));
    const revokes = await Promise.all([s.auth.revokeSession('h1', 'logout'), b.auth.revokeSession('h1', 'admin'), s.auth.revokeSession('h1', 'logout')]);
    expect(winners(revokes)).toBe(1);
    const seen = await b.auth.getSession('h1');
    expect(seen!.revokedAt).toBe(T0);
    expect(['logout', 'admin']).toContain(seen!.revokedReason);
    expect(await b.auth.revokeSession('missing', 'x')).toBe(false);
  });

  it('revokes all live sessions of a principal, leaving expired, revoked and other sessions alone', async () => {
    const s = await fresh();
    const b = await another();
    const id = await user(s);
    const other = await user(s, 'bob');
    await s.auth.insertSession(session('live1', id));
    await s.auth.insertSession(session('live2', id));
    await s.auth.insertSession(session('expired', id, { expiresAt: EARLIER }));
    await s.auth.insertSession(session('gone', id));
    await s.auth.revokeSession('gone', 'logout');
    await s.auth.insertSession(session('bobs', other));
    const [n1, n2] = await Promise.all([s.auth.revokeSessionsOf(id, 'password changed'), b.auth.revokeSessionsOf(id, 'disabled')]);
    expect(n1 + n2).toBe(2);
    const byHash = new Map((await b.auth.listSessionsOf(id)).map((x) => [x.idHash, x]));
    expect(byHash.get('live1')!.revokedAt).toBe(T0);
    expect(byHash.get('live2')!.revokedAt).toBe(T0);
    expect(byHash.get('expired')!.revokedAt).toBeNull();
    expect(byHash.get('gone')!.revokedReason).toBe('logout');
    expect((await b.auth.getSession('bobs'))!.revokedAt).toBeNull();
  });

  // ---------------------------------------------------------------- service tokens

  it('stores service tokens by hash, notes their use, lists them', async () => {
    const s = await fresh();
    const svc = await s.auth.insertPrincipal({ kind: 'service', username: 'svc-acme', displayName: 'Acme', partner: 'acme' });
    const other = await s.auth.insertPrincipal({ kind: 'service', username: 'svc-x', displayName: 'X' });
    const t1 = await s.auth.insertServiceToken({ principalId: svc, name: 'acme', prefix: 'lgt_ab', tokenHash: 'th1', createdBy: 'admin', expiresAt: LATER });
    const t2 = await s.auth.insertServiceToken({ principalId: other, name: 'x', prefix: 'lgt_cd', tokenHash: 'th2', createdBy: 'admin', expiresAt: LATER });
    expect(await s.auth.getServiceTokenByHash('th1')).toEqual({
      id: t1,
      principalId: svc,
      name: 'acme',
      prefix: 'lgt_ab',
      createdAt: T0,
      createdBy: 'admin',
      expiresAt: LATER,
      lastUsedAt: null,
      lastIp: null,
      revokedAt: null,
    });
    await s.auth.noteTokenUse(t1, LATER, '10.1.1.1');
    expect(await s.auth.getServiceToken(t1)).toMatchObject({ lastUsedAt: LATER, lastIp: '10.1.1.1' });
    expect(await s.auth.getServiceToken(999)).toBeUndefined();
    expect(await s.auth.getServiceTokenByHash('nope')).toBeUndefined();
    expect((await s.auth.listServiceTokens()).map((t) => t.id)).toEqual([t1, t2]);
    expect((await s.auth.listServiceTokens(other)).map((t) => t.id)).toEqual([t2]);
    await expect(s.auth.insertServiceToken({ principalId: svc, name: 'dup', prefix: 'p', tokenHash: 'th1', createdBy: 'a', expiresAt: LATER })).rejects.toThrow();
  });

  it('a service token revoked on one machine is refused on the other, and revoked once', async () => {
    const s = await fresh();
    const b = await another();
    const svc = await s.auth.insertPrincipal({ kind: 'service', username: 'svc-x', displayName: 'X' });
    const t = await s.auth.insertServiceToken({ principalId: svc, name: 'x', prefix: 'lgt_x', tokenHash: 'th', createdBy: 'admin', expiresAt: LATER });
    expect((await b.auth.getServiceTokenByHash('th'))!.revokedAt).toBeNull();
    const revokes = await Promise.all([s.auth.revokeServiceToken(t), b.auth.revokeServiceToken(t), s.auth.revokeServiceToken(t)]);
    expect(winners(revokes)).toBe(1);
    expect((await b.auth.getServiceTokenByHash('th'))!.revokedAt).toBe(T0);
    expect(await b.auth.revokeServiceToken(999)).toBe(false);
  });

  // ---------------------------------------------------------------- API submissions

  it('maps an Idempotency-Key to one submission per principal, even when two requests race', async () => {
    const s = await fresh();
    const b = await another();
    const p = await s.auth.insertPrincipal({ kind: 'service', username: 'svc-acme', displayName: 'Acme', partner: 'acme' });
    const q = await s.auth.insertPrincipal({ kind: 'service', username: 'svc-beta', displayName: 'Beta', partner: 'beta' });
    const [s1, s2, s3, s4, s5] = [await submission(s, 'a'), await submission(s, 'b'), await submission(s, 'c'), await submission(s, 'd'), await submission(s, 'e')];
    const raced = await Promise.allSettled([s.auth.insertApiSubmission(s1, p, 'k1'), b.auth.insertApiSubmission(s2, p, 'k1')]);
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = raced[0]!.status === 'fulfilled' ? s1 : s2;
    expect(await s.auth.findApiSubmission(p, 'k1')).toBe(winner);
    expect(await b.auth.findApiSubmission(p, 'k1')).toBe(winner);
    // The same key of another principal is another mapping; no key is never a conflict.
    await b.auth.insertApiSubmission(s3, q, 'k1');
    expect(await s.auth.findApiSubmission(q, 'k1')).toBe(s3);
    await s.auth.insertApiSubmission(s4, p, null);
    await s.auth.insertApiSubmission(s5, p, null);
    expect(await s.auth.findApiSubmission(p, 'k2')).toBeUndefined();
    // A submission is sent by one principal only.
    await expect(s.auth.insertApiSubmission(s4, q, 'k9')).rejects.toThrow();
  });

  // ---------------------------------------------------------------- signatures

  const signature = (lotId: number | null, principalId: number, signedAt: string, submissionId: number | null = null) => ({
    kind: 'lot_disposition' as const,
    lotId,
    submissionId,
    principalId,
    printedName: 'Alice',
    signedAt,
    timeZone: 'Europe/Berlin',
    localTime: '2026-03-01 11:00:00 +01:00',
    meaning: 'release',
    decision: 'released',
    record: '{"lot":1}',
    recordHash: 'rh',
    evidenceHash: 'eh',
    auditSeq: 7,
  });

  it('stores signatures, lists them per lot in order, invalidates each once', async () => {
    const s = await fresh();
    const b = await another();
    const p = await user(s);
    const [l1, l2] = [await lot(s, 'L1'), await lot(s, 'L2')];
    const sub = await submission(s, 'sha-x');
    const late = await s.auth.insertSignature(signature(l1, p, LATER));
    const early = await s.auth.insertSignature(signature(l1, p, T0));
    const onL2 = await s.auth.insertSignature({ ...signature(l2, p, T0), kind: 'submission_review', submissionId: sub, auditSeq: null });
    expect((await s.auth.listLotSignatures(l1)).map((x) => x.id)).toEqual([early, late]);
    expect((await s.auth.listAllSignatures()).map((x) => x.id)).toEqual([late, early, onL2]);
    expect((await s.auth.listAllSignatures())[2]).toEqual({
      ...signature(l2, p, T0),
      id: onL2,
      kind: 'submission_review',
      submissionId: sub,
      auditSeq: null,
      invalidatedAt: null,
      invalidatedBySubmission: null,
      invalidatedReason: null,
    });
    const inv = await Promise.all([s.auth.invalidateSignature(late, sub, 'lot changed'), b.auth.invalidateSignature(late, null, 'other')]);
    expect(winners(inv)).toBe(1);
    expect((await b.auth.listValidLotSignatures(l1)).map((x) => x.id)).toEqual([early]);
    expect((await b.auth.listLotSignatures(l1)).find((x) => x.id === late)!.invalidatedAt).toBe(T0);
    expect(await s.auth.invalidateSignature(9999, null, 'x')).toBe(false);
  });

  it('a signing challenge is taken once, only by its principal, only before it expires', async () => {
    const s = await fresh();
    const b = await another();
    const p = await user(s);
    const q = await user(s, 'bob');
    const ch = { principalId: p, subject: 'lot:1', recordHash: 'rh', decision: 'released', meaning: 'release', expiresAt: LATER };
    await s.auth.insertChallenge({ ...ch, id: 'c1' });
    await s.auth.insertChallenge({ ...ch, id: 'c2', expiresAt: EARLIER });
    expect(await b.auth.takeChallenge('c1', q, T0)).toBeUndefined();
    const takes = await Promise.all([s.auth.takeChallenge('c1', p, T0), b.auth.takeChallenge('c1', p, T0), s.auth.takeChallenge('c1', p, T0), b.auth.takeChallenge('c1', p, T0)]);
    expect(takes.filter((x) => x !== undefined)).toEqual([{ subject: 'lot:1', recordHash: 'rh', decision: 'released', meaning: 'release' }]);
    expect(await s.auth.takeChallenge('c1', p, T0)).toBeUndefined();
    expect(await s.auth.takeChallenge('c2', p, T0)).toBeUndefined();
    expect(await s.auth.takeChallenge('unknown', p, T0)).toBeUndefined();
    await expect(s.auth.insertChallenge({ ...ch, id: 'c1' })).rejects.toThrow();
  });

  it('remembers that a session has signed', async () => {
    const s = await fresh();
    const b = await another();
    const p = await user(s);
    await s.auth.insertSession(session('h1', p));
    expect(await b.auth.sessionHasSigned('h1')).toBe(false);
    await s.auth.noteSessionSigned('h1', LATER);
    expect(await b.auth.sessionHasSigned('h1')).toBe(true);
    expect(await b.auth.sessionHasSigned('unknown')).toBe(false);
  });

  it('maps submission ids to their sha256, in chunks, ignoring unknown ids', async () => {
    const s = await fresh();
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await submission(s, `sha-${i}`));
    expect(await s.auth.submissionShas([])).toEqual(new Map());
    const filler = Array.from({ length: 1100 }, (_, i) => 100_000 + i);
    const got = await s.auth.submissionShas([...filler, ids[2]!, ids[0]!, ids[0]!, ...filler]);
    expect(got).toEqual(
      new Map([
        [ids[0]!, 'sha-0'],
        [ids[2]!, 'sha-2'],
      ]),
    );
  });

  it('the area follows the caller transaction', async () => {
    const s = await fresh();
    const id = await user(s);
    await expect(
      s.transaction(async (tx) => {
        await tx.auth.updatePrincipal(id, { disabledAt: T0 });
        await tx.auth.insertSession(session('h1', id));
        expect(tx.auth.now()).toBe(T0);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await s.auth.getPrincipal(id))!.disabledAt).toBeNull();
    expect(await s.auth.getSession('h1')).toBeUndefined();
  });
});
