// `store.auth`: the identity tables (auth-principals.ts, auth-sessions.ts) behind one object.

import * as P from './auth-principals.js';
import * as S from './auth-sessions.js';
import * as G from './signatures.js';
import type { Scope } from './scope.js';
import type { Sql } from './sql.js';

export type { PrincipalKind, PrincipalRow, RoleBindingRow } from './auth-principals.js';
export type { ServiceTokenRow, SessionRow } from './auth-sessions.js';
export type { SignatureRow } from './signatures.js';

export class AuthStore {
  constructor(private readonly sql: Sql) {}

  now(): string {
    return this.sql.now();
  }

  atomic<T>(fn: () => T): T {
    return this.sql.atomic(fn);
  }

  insertPrincipal(p: Parameters<typeof P.insertPrincipal>[1]): number {
    return P.insertPrincipal(this.sql, p);
  }
  getPrincipal(id: number) {
    return P.getPrincipal(this.sql, id);
  }
  getPrincipalByName(username: string) {
    return P.getPrincipalByName(this.sql, username);
  }
  listPrincipals() {
    return P.listPrincipals(this.sql);
  }
  updatePrincipal(id: number, patch: Partial<P.PrincipalRow>): void {
    P.updatePrincipal(this.sql, id, patch);
  }
  noteLoginFailure(id: number): number {
    return P.noteLoginFailure(this.sql, id);
  }
  acceptTotpStep(id: number, step: number): boolean {
    return P.acceptTotpStep(this.sql, id, step);
  }
  addRoleBinding(b: { principalId: number; role: string; scope: Scope; createdBy: string }): number | null {
    return P.addRoleBinding(this.sql, b);
  }
  removeRoleBinding(principalId: number, role: string): number {
    return P.removeRoleBinding(this.sql, principalId, role);
  }
  listRoleBindings(principalId?: number) {
    return P.listRoleBindings(this.sql, principalId);
  }
  replaceRecoveryCodes(principalId: number, hashes: string[]): void {
    P.replaceRecoveryCodes(this.sql, principalId, hashes);
  }
  useRecoveryCode(principalId: number, hash: string): boolean {
    return P.useRecoveryCode(this.sql, principalId, hash);
  }
  countRecoveryCodesLeft(principalId: number): number {
    return P.countRecoveryCodesLeft(this.sql, principalId);
  }

  insertSession(s: Parameters<typeof S.insertSession>[1]): void {
    S.insertSession(this.sql, s);
  }
  getSession(idHash: string) {
    return S.getSession(this.sql, idHash);
  }
  touchSession(idHash: string, at: string): void {
    S.touchSession(this.sql, idHash, at);
  }
  updateSessionStage(idHash: string, stage: 'full' | 'enrol', mfaAt: string | null): void {
    S.updateSessionStage(this.sql, idHash, stage, mfaAt);
  }
  revokeSession(idHash: string, reason: string): boolean {
    return S.revokeSession(this.sql, idHash, reason);
  }
  revokeSessionsOf(principalId: number, reason: string): number {
    return S.revokeSessionsOf(this.sql, principalId, reason);
  }
  listSessionsOf(principalId: number) {
    return S.listSessionsOf(this.sql, principalId);
  }
  insertServiceToken(t: Parameters<typeof S.insertServiceToken>[1]): number {
    return S.insertServiceToken(this.sql, t);
  }
  getServiceTokenByHash(hash: string) {
    return S.getServiceTokenByHash(this.sql, hash);
  }
  getServiceToken(id: number) {
    return S.getServiceToken(this.sql, id);
  }
  noteTokenUse(id: number, at: string, ip: string | null): void {
    S.noteTokenUse(this.sql, id, at, ip);
  }
  revokeServiceToken(id: number): boolean {
    return S.revokeServiceToken(this.sql, id);
  }
  listServiceTokens(principalId?: number) {
    return S.listServiceTokens(this.sql, principalId);
  }
  findApiSubmission(principalId: number, key: string): number | undefined {
    return S.findApiSubmission(this.sql, principalId, key);
  }
  insertApiSubmission(submissionId: number, principalId: number, key: string | null): void {
    S.insertApiSubmission(this.sql, submissionId, principalId, key);
  }
  apiSubmissionOwner(submissionId: number): number | undefined {
    return S.apiSubmissionOwner(this.sql, submissionId);
  }

  // ---- electronic signatures (pipeline/sign)
  insertSignature(s: Parameters<typeof G.insertSignature>[1]): number {
    return G.insertSignature(this.sql, s);
  }
  listLotSignatures(lotId: number) {
    return G.listLotSignatures(this.sql, lotId);
  }
  listAllSignatures() {
    return G.listAllSignatures(this.sql);
  }
  listValidLotSignatures(lotId: number) {
    return G.listValidLotSignatures(this.sql, lotId);
  }
  invalidateSignature(id: number, submissionId: number | null, reason: string): boolean {
    return G.invalidateSignature(this.sql, id, submissionId, reason);
  }
  insertChallenge(c: Parameters<typeof G.insertChallenge>[1]): void {
    G.insertChallenge(this.sql, c);
  }
  takeChallenge(id: string, principalId: number, now: string) {
    return G.takeChallenge(this.sql, id, principalId, now);
  }
  noteSessionSigned(sessionHash: string, at: string): void {
    G.noteSessionSigned(this.sql, sessionHash, at);
  }
  sessionHasSigned(sessionHash: string): boolean {
    return G.sessionHasSigned(this.sql, sessionHash);
  }
  submissionShas(ids: number[]): Map<number, string> {
    return G.submissionShas(this.sql, ids);
  }
}
