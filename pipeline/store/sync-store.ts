// The SQLite store: the ledger, the canonical lot model, readiness, audit trail, outbox and job
// leases. ALL SQL of lotgate lives in pipeline/store; everything else calls this class.
//
// One Store = one better-sqlite3 connection (synchronous), WAL, synchronous=NORMAL,
// foreign_keys=ON, busy_timeout=30s. Prepared statements are cached per Store (sql.ts).
// Several processes may open the same file; every write transaction is BEGIN IMMEDIATE so
// writers queue on the lock instead of failing half-way with SQLITE_BUSY.
//
// Adding a migration:
//   1. Append { version: <last + 1>, name, sql } to MIGRATIONS in migrations.ts. Never edit
//      or reorder a migration that has shipped: databases in the field are already past it.
//   2. Write SQL that works on a database holding data (ALTER TABLE ADD COLUMN with a default,
//      CREATE TABLE/INDEX, INSERT … SELECT to backfill). To change a column or a constraint,
//      create the new table, copy, drop, rename — inside the same migration.
//   3. Keep the audit_events triggers: a migration that rebuilds audit_events must recreate them
//      and must not alter rows (the hash chain covers them).
//   4. Update the row mappers (rows.ts / the module that reads the table) and add a test that
//      opens a database created at the previous version and checks the data survived.
//   Each migration runs in its own IMMEDIATE transaction together with `PRAGMA user_version`,
//   on the next Store.open(); a failure leaves the database at the previous version.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { IdRef, LotFacts, MappedRecord, PartnerConfig, Readiness, RowError, SubmissionState } from '../model/types.js';
import { applyRecord, applyRecordDirect, type ApplyResult } from './apply.js';
import { appendAudit, auditHashAt, auditHead, listAudit, verifyAudit } from './audit.js';
import { getBan, liftBan, listActiveBans, pruneBans, recordBan, type BanKind, type BanRecord } from './bans.js';
import { insertDisposition, insertStageEvent, upsertDeviation, upsertDocument, upsertTestResult } from './facts.js';
import { listJobRuns, recordJobRun, releaseLease, tryAcquireLease, getLease } from './jobs.js';
import {
  countRejectedRows,
  findAppliedBySha,
  findResendOrigin,
  hasNewerAnsweredByName,
  listResendsOf,
  findSubmissionByArchive,
  findSubmissionByName,
  getSubmission,
  insertRejectedRow,
  insertSubmission,
  listAckPending,
  listRejectedRows,
  listSubmissions,
  listUnfinishedSubmissions,
  updateSubmission,
} from './ledger.js';
import { clearDirty, countDirtyLots, dirtyAmong, dirtyLots, isLotDirty, markLotsDirty, stillDirty, type DirtyLot } from './dirty-lots.js';
import { getReadiness, loadLotFacts, loadLotFactsBatch, readinessStamps, saveReadiness, type ReadinessClock, type ReadinessStamp } from './lot-facts.js';
import { addIdentifier, getLotRow, upsertLot, upsertMaterial, upsertPurchaseOrder } from './masterdata.js';
import { migrate, MIGRATIONS, schemaVersion, type Migration } from './migrations.js';
import { latestPushes, type LotPush } from './board-reads.js';
import { claimOutbox, countOutbox, countOutboxOnHold, enqueueOutbox, getOutbox, holdOutbox, listOutbox, markOutboxFailed, markOutboxSent, releaseHeldOutbox, releaseOutboxHold, retryOutbox } from './outbox.js';
import { findLotIdsByIdentifier, getLotDetail, getLotDetailById, listAllLotIds, listClockDueLotIds, listLots, listOpenLotIds } from './reads.js';
import { ResolutionWrites, resolveLot, type ResolveResult } from './resolve.js';
import { isoInstant, Sql } from './sql.js';
import { searchAudit, type AuditSearch } from './audit-search.js';
import { insertDocumentRequest, listDocumentRequests, partnersOfLot, type DocumentRequestRow } from './document-requests.js';
import { AuthStore } from './auth-store.js';
import { metricsSnapshot, probeWritable, type MetricsSnapshot } from './metrics-reads.js';
import type { Access } from './scope.js';
import {
  countLotsScoped,
  getSubmissionScoped,
  listLotsScoped,
  listSubmissionsScoped,
  lotIdInScope,
  lotIdsByNumberInScope,
  submissionTouchedLot,
  type LotFilters,
  type ScopedLotRow,
  type SubmissionFilters,
} from './scoped-reads.js';
import { listDeliveries, listDeliveriesOf, markDeliverySent, olderUndelivered, recordDeliveryFailure, retryDeadDeliveries, type DeliveryRow } from './deliveries.js';
import { auditSeqAt, clearRejectedRows, findOutboxIdsByPrefix, getDeviationWithLots, lastReceivedByPartner, listAuditAfter, listOpenBoard, type BoardLot } from './job-reads.js';
import { finishJobRun, getJobCursor, setJobCursor, startJobRun } from './job-state.js';
import { countNotificationsSent, getNotificationSent, recordNotification, type NotificationSentRow } from './notifications-sent.js';
import {
  findPulledSubmission,
  finishPullFetch,
  getPulledFile,
  listPulledFiles,
  markPullAfterDone,
  notePulledSeen,
  startPullFetch,
  type PulledFileRow,
  type PulledState,
  type RemoteFileKey,
} from './pulled-files.js';
import type {
  AuditInput,
  AuditRow,
  AuditVerification,
  DeviationInput,
  DocumentInput,
  Instant,
  JobRunInput,
  JobRunRow,
  LotDetail,
  LotFields,
  LotRef,
  LotSummary,
  MaterialFields,
  NewSubmission,
  OutboxHold,
  OutboxMessage,
  OutboxRow,
  OutboxState,
  Prov,
  PurchaseOrderFields,
  RejectedRowRow,
  StageEventInput,
  StoredReadiness,
  StoreHealth,
  SubmissionRow,
  TestResultInput,
  WriteResult,
} from './types.js';

export type * from './types.js';
export type { ApplyResult } from './apply.js';
export type { MetricsSnapshot } from './metrics-reads.js';
export type { AuthStore, PrincipalKind, PrincipalRow, RoleBindingRow, ServiceTokenRow, SessionRow, SignatureRow } from './auth-store.js';
export type { LotFilters, ScopedLotRow, SubmissionFilters } from './scoped-reads.js';
export type { Access, Scope, ScopeDim } from './scope.js';
export type { ResolveResult } from './resolve.js';
export type { DirtyLot } from './dirty-lots.js';
export type { ReadinessStamp } from './lot-facts.js';
export { readinessHash, readinessText } from './lot-facts.js';
export { LATEST_VERSION, MIGRATIONS } from './migrations.js';
export type { DeliveryRow, DeliveryState } from './deliveries.js';
export type { DocumentRequestRow } from './document-requests.js';
export type { BoardLot } from './job-reads.js';
export type { NotificationSentRow } from './notifications-sent.js';
export type { PulledFileRow, PulledState, RemoteFileKey } from './pulled-files.js';
export type { BanKind, BanRecord } from './bans.js';
export { UNFINISHED_RUN_ERROR } from './job-state.js';

export interface StoreOpenOptions {
  readonly?: boolean;
  /** Clock for recorded_at/created_at columns and default times (tests pin it). */
  now?: () => Date;
  /** Migrations to apply instead of the built-in ones (tests of the migration runner). */
  migrations?: readonly Migration[];
  /** How long a statement waits for another connection's write lock before SQLITE_BUSY (default 30 s). */
  busyTimeoutMs?: number;
}

/** Page cache during a Store.begin() transaction (KiB), and SQLite's default outside it. */
export const BULK_CACHE_KIB = 32_768;
const DEFAULT_CACHE_KIB = 2_000;

/** A value the record's checks let through but the schema refuses is still the row's fault. */
function refusedByStore(e: unknown, rec: MappedRecord, prov: Prov): { error: RowError } | undefined {
  const code = (e as { code?: unknown })?.code;
  if (code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_NOTNULL') {
    return { error: { line: prov.line ?? rec.line, code: 'E_INVALID_VALUE', message: `The ${rec.kind} record was refused by the store: ${(e as Error).message}` } };
  }
  return undefined;
}

/** Carries a RowError out of a savepoint so the savepoint is rolled back. */
class Rejected {
  constructor(readonly result: { error: RowError }) {}
}

export class Store {
  private readonly sql: Sql;
  /** Principals, role bindings, sessions, service tokens (pipeline/auth uses them). */
  readonly auth: AuthStore;
  private readonly applyTx: (partner: PartnerConfig, rec: MappedRecord, prov: Prov) => ApplyResult;
  private readonly resolveTx: (partner: PartnerConfig, ref: LotRef, prov: Prov) => ResolveResult;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    readonly readonly: boolean,
    private readonly latestVersion: number,
    now: () => Date,
  ) {
    this.sql = new Sql(db, now);
    this.auth = new AuthStore(this.sql);
    // Each record in its own savepoint: a record rejected half-way leaves no trace, while the
    // file's transaction goes on with the next row.
    this.applyTx = db.transaction((partner: PartnerConfig, rec: MappedRecord, prov: Prov) => {
      const r = applyRecord(this.sql, partner, rec, prov);
      if ('error' in r) throw new Rejected(r);
      return r;
    }).immediate;
    this.resolveTx = db.transaction((partner: PartnerConfig, ref: LotRef, prov: Prov) => {
      const r = resolveLot(this.sql, partner, ref, prov);
      if ('error' in r) throw new Rejected(r);
      return r;
    }).immediate;
  }

  static open(dbPath: string, opts: StoreOpenOptions = {}): Store {
    const readonly = opts.readonly ?? false;
    const inMemory = dbPath === ':memory:' || dbPath === '';
    if (!readonly && !inMemory) mkdirSync(dirname(dbPath), { recursive: true });
    const migrations = opts.migrations ?? MIGRATIONS;
    const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
    const db = new Database(dbPath, { readonly, fileMustExist: readonly });
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 30_000))}`);
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      if (readonly) {
        const v = schemaVersion(db);
        if (v !== latest) {
          throw new Error(
            v < latest
              ? `database ${dbPath} is at schema version ${v}, this lotgate needs ${latest}; open it once read-write (e.g. any lotgate command that writes) to migrate it`
              : `database ${dbPath} is at schema version ${v}, newer than this lotgate knows (${latest}); upgrade lotgate`,
          );
        }
      } else {
        migrate(db, migrations);
      }
    } catch (err) {
      db.close();
      throw err;
    }
    return new Store(db, dbPath, readonly, latest, opts.now ?? (() => new Date()));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get schemaVersion(): number {
    return schemaVersion(this.db);
  }

  // ---------------------------------------------------------------- transactions

  /** Runs fn in one IMMEDIATE transaction (a savepoint when one is already open). fn must be synchronous. */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      // Rolled back (the whole transaction, or its savepoint): cached lookups may name undone rows.
      this.sql.tx.clear();
      throw e;
    }
  }

  /**
   * Opens a transaction that spans awaits (the ingest path streams a file inside one). The
   * caller owns the connection until commit()/rollback(): nothing else may use this Store meanwhile.
   */
  begin(): void {
    if (this.db.inTransaction) throw new Error('Store.begin: a transaction is already open on this connection');
    this.sql.q('BEGIN IMMEDIATE').run();
    this.sql.tx.start();
    // A file's apply inserts into random leaves of the fact indexes: the default 2 MB page cache
    // thrashes. 32 MB for the life of the transaction keeps peak RSS within the budget.
    this.db.pragma(`cache_size = -${BULK_CACHE_KIB}`);
  }

  commit(): void {
    this.sql.q('COMMIT').run();
    this.endBulk();
  }

  /** Safe to call from error handlers: does nothing when no transaction is open. */
  rollback(): void {
    if (this.db.inTransaction) this.sql.q('ROLLBACK').run();
    this.endBulk();
  }

  private endBulk(): void {
    this.sql.tx.end();
    this.db.pragma(`cache_size = -${DEFAULT_CACHE_KIB}`);
  }

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  // ---------------------------------------------------------------- ledger

  insertSubmission(s: NewSubmission): number {
    return insertSubmission(this.sql, s);
  }

  getSubmission(id: number): SubmissionRow | undefined {
    return getSubmission(this.sql, id);
  }

  /** Earliest submission of these bytes from this partner that was applied or is pending review. */
  findAppliedBySha(partner: string, sha256: string, excludeId?: number): SubmissionRow | undefined {
    return findAppliedBySha(this.sql, partner, sha256, excludeId);
  }

  /** Latest earlier rejected or quarantined submission of these bytes from this partner. */
  findResendOrigin(partner: string, sha256: string, beforeId: number): SubmissionRow | undefined {
    return findResendOrigin(this.sql, partner, sha256, beforeId);
  }

  listResendsOf(id: number): SubmissionRow[] {
    return listResendsOf(this.sql, id);
  }

  hasNewerAnsweredByName(partner: string, originalName: string, id: number): boolean {
    return hasNewerAnsweredByName(this.sql, partner, originalName, id);
  }

  findSubmissionByName(partner: string, originalName: string, sha256: string): SubmissionRow | undefined {
    return findSubmissionByName(this.sql, partner, originalName, sha256);
  }

  findSubmissionByArchive(archivePath: string): SubmissionRow[] {
    return findSubmissionByArchive(this.sql, archivePath);
  }

  updateSubmission(id: number, patch: Partial<SubmissionRow>): void {
    updateSubmission(this.sql, id, patch);
  }

  listSubmissions(opts: { partner?: string; state?: SubmissionState | SubmissionState[]; limit?: number; since?: Instant } = {}): SubmissionRow[] {
    return listSubmissions(this.sql, opts);
  }

  listUnfinishedSubmissions(): SubmissionRow[] {
    return listUnfinishedSubmissions(this.sql);
  }

  listAckPending(limit?: number): SubmissionRow[] {
    return listAckPending(this.sql, limit);
  }

  insertRejectedRow(submissionId: number, err: RowError): void {
    insertRejectedRow(this.sql, submissionId, err);
  }

  listRejectedRows(submissionId: number, limit?: number): RejectedRowRow[] {
    return listRejectedRows(this.sql, submissionId, limit);
  }

  countRejectedRows(submissionId: number): number {
    return countRejectedRows(this.sql, submissionId);
  }

  // ---------------------------------------------------------------- master data and facts

  upsertMaterial(fields: MaterialFields, prov: Prov): void {
    upsertMaterial(this.sql, fields, prov);
  }

  upsertPurchaseOrder(fields: PurchaseOrderFields, prov: Prov): void {
    upsertPurchaseOrder(this.sql, fields, prov);
  }

  upsertLot(materialId: string, lotNumber: string, fields: LotFields, prov: Prov): { lotId: number; created: boolean } {
    return upsertLot(this.sql, materialId, lotNumber, fields, prov);
  }

  getLot(lotId: number) {
    return getLotRow(this.sql, lotId);
  }

  /**
   * Which lot a partner's record means (DESIGN.md §3; rules in resolve.ts). May write: a lot
   * created from an open PO line, and identifiers learned from this reference (returned in
   * `learned`), with `prov` as their provenance. Nothing is written when it returns an error.
   */
  resolveLot(partner: PartnerConfig, ref: LotRef, prov?: Prov): ResolveResult {
    try {
      return this.resolveTx(partner, ref, prov ?? { submissionId: null, partner: partner.id });
    } catch (e) {
      // The savepoint was rolled back: cached lookups may name rows it undid.
      this.sql.tx.clear();
      if (e instanceof Rejected) return e.result;
      throw e;
    }
  }

  addIdentifier(lotId: number, ref: IdRef, issuer: string, prov: Prov): boolean {
    return addIdentifier(this.sql, lotId, ref, issuer, prov);
  }

  insertStageEvent(lotId: number, e: StageEventInput, prov: Prov): WriteResult {
    return insertStageEvent(this.sql, lotId, e, prov);
  }

  upsertTestResult(lotId: number, r: TestResultInput, prov: Prov): WriteResult {
    return upsertTestResult(this.sql, lotId, r, prov);
  }

  upsertDocument(lotId: number, d: DocumentInput, prov: Prov): WriteResult {
    return upsertDocument(this.sql, lotId, d, prov);
  }

  upsertDeviation(lotIds: number[], d: DeviationInput, issuer: string, prov: Prov): WriteResult {
    return this.sql.atomic(() => upsertDeviation(this.sql, lotIds, d, issuer, prov));
  }

  insertDisposition(lotId: number, d: { decision: 'released' | 'rejected' | 'quarantine'; decidedBy?: string | null; decidedAt: string }, prov: Prov): WriteResult {
    return insertDisposition(this.sql, lotId, d, prov);
  }

  /**
   * Resolves (when the kind names a lot) and writes one mapped record, all or nothing.
   * Returns the lots whose readiness may have changed, or the coded reason it was not applied.
   */
  applyRecord(partner: PartnerConfig, rec: MappedRecord, prov: Prov, opts: { savepoint?: 'always' | 'when-needed' } = {}): ApplyResult {
    // Inside the file's transaction a record that cannot half-fail skips its savepoint (and the
    // statement journal that comes with it): see applyRecordDirect.
    if (opts.savepoint !== 'always' && this.db.inTransaction) {
      try {
        const direct = applyRecordDirect(this.sql, partner, rec, prov);
        if (direct) return direct;
      } catch (e) {
        if (!(e instanceof ResolutionWrites)) {
          // Nothing of this record was written (the one fact statement failed whole).
          const refused = refusedByStore(e, rec, prov);
          if (refused) return refused;
          throw e;
        }
      }
    }
    try {
      return this.applyTx(partner, rec, prov);
    } catch (e) {
      // The savepoint was rolled back: cached lookups may name rows it undid.
      this.sql.tx.clear();
      if (e instanceof Rejected) return e.result;
      const refused = refusedByStore(e, rec, prov);
      if (refused) return refused;
      throw e;
    }
  }

  // ---------------------------------------------------------------- readiness

  loadLotFacts(lotId: number): LotFacts {
    return loadLotFacts(this.sql, lotId);
  }

  /** loadLotFacts of several lots, each fact table read once for the batch. */
  loadLotFactsBatch(lotIds: readonly number[]): LotFacts[] {
    return loadLotFactsBatch(this.sql, lotIds);
  }

  getReadiness(lotId: number): StoredReadiness | null {
    return getReadiness(this.sql, lotId);
  }

  saveReadiness(lotId: number, r: Readiness, at: string, clock?: ReadinessClock, stamp?: ReadinessStamp | null): { changed: boolean; previous: Readiness | null } {
    return saveReadiness(this.sql, lotId, r, at, clock, stamp);
  }

  /** The stored readiness digests and clocks of a batch of lots (one statement). */
  readinessStamps(lotIds: readonly number[]): Map<number, ReadinessStamp> {
    return readinessStamps(this.sql, lotIds);
  }

  // ---------------------------------------------------------------- reads

  /** By the sponsor's lot number: undefined when unknown; an array when several materials share it. */
  getLotDetail(lotNumber: string, materialId?: string): LotDetail | LotDetail[] | undefined {
    return getLotDetail(this.sql, lotNumber, materialId);
  }

  getLotDetailById(lotId: number): LotDetail | undefined {
    return getLotDetailById(this.sql, lotId);
  }

  findLotIdsByIdentifier(value: string, opts?: { scheme?: string; issuer?: string }): number[] {
    return findLotIdsByIdentifier(this.sql, value, opts);
  }

  listLots(opts?: Parameters<typeof listLots>[1]): LotSummary[] {
    return listLots(this.sql, opts);
  }

  // ---------------------------------------------------------------- dirty lots (readiness to recompute)

  /** Marks lots whose readiness must be recomputed (in the caller's transaction). */
  markLotsDirty(lotIds: Iterable<number>, cause: { submissionId?: number | null; partner?: string | null }): number {
    return markLotsDirty(this.sql, lotIds, cause);
  }

  dirtyLots(limit: number, afterLotId = 0, markedBefore?: string): DirtyLot[] {
    return dirtyLots(this.sql, limit, afterLotId, markedBefore);
  }

  /** Which of these lots await recomputation (one statement, for lists). */
  dirtyAmong(lotIds: readonly number[]): Set<number> {
    return dirtyAmong(this.sql, lotIds);
  }

  stillDirty(lotIds: readonly number[]): DirtyLot[] {
    return stillDirty(this.sql, lotIds);
  }

  clearDirty(lotIds: Iterable<number>): void {
    clearDirty(this.sql, lotIds);
  }

  /** True while the lot's readiness awaits recomputation ("recomputing" in the lot view). */
  isLotDirty(lotId: number): boolean {
    return isLotDirty(this.sql, lotId);
  }

  countDirtyLots(): number {
    return countDirtyLots(this.sql);
  }

  listOpenLotIds(): number[] {
    return listOpenLotIds(this.sql);
  }

  /** Open lots the clock may have changed by `now`, computed with other rules, or never computed. */
  listClockDueLotIds(now: Instant, rulesHash: string): number[] {
    return listClockDueLotIds(this.sql, isoInstant(now), rulesHash);
  }

  listAllLotIds(): number[] {
    return listAllLotIds(this.sql);
  }

  // ---------------------------------------------------------------- health and metrics (HTTP API)

  metricsSnapshot(staleLeaseBefore: Instant): MetricsSnapshot {
    return metricsSnapshot(this.sql, new Date(isoInstant(staleLeaseBefore)).getTime());
  }

  /** Throws when the store cannot take a write lock (read-only, disk, locked for too long). */
  probeWritable(): void {
    probeWritable(this.sql);
  }

  // ---------------------------------------------------------------- reads within a scope (scope.ts)

  listLotsScoped(access: Access, f: LotFilters, page: { limit: number; after?: { lotNumber: string; materialId: string; id: number } }): ScopedLotRow[] {
    return listLotsScoped(this.sql, access, f, page);
  }

  countLotsScoped(access: Access, f: LotFilters): number {
    return countLotsScoped(this.sql, access, f);
  }

  lotIdInScope(access: Access, lotId: number): number | undefined {
    return lotIdInScope(this.sql, access, lotId);
  }

  lotIdsByNumberInScope(access: Access, lotNumber: string, materialId?: string): number[] {
    return lotIdsByNumberInScope(this.sql, access, lotNumber, materialId);
  }

  submissionTouchedLot(lotId: number, submissionId: number, line?: number): boolean {
    return submissionTouchedLot(this.sql, lotId, submissionId, line);
  }

  listSubmissionsScoped(access: Access, f: SubmissionFilters, page: { limit: number; before?: number }): SubmissionRow[] {
    return listSubmissionsScoped(this.sql, access, f, page);
  }

  getSubmissionScoped(access: Access, id: number): SubmissionRow | undefined {
    return getSubmissionScoped(this.sql, access, id);
  }

  // ---------------------------------------------------------------- audit

  appendAudit(e: AuditInput): { seq: number; hash: string } {
    return appendAudit(this.sql, e);
  }

  verifyAudit(): AuditVerification {
    return verifyAudit(this.sql);
  }

  /** The newest seq and hash: keep a copy elsewhere to detect removal of the newest events. */
  auditHead(): { seq: number; hash: string } {
    return auditHead(this.sql);
  }

  /** The hash of the event with this seq (anchor checks, `audit verify --expect`). */
  auditHashAt(seq: number): string | undefined {
    return auditHashAt(this.sql, seq);
  }

  listAudit(opts?: { subject?: string; action?: string; limit?: number }): AuditRow[] {
    return listAudit(this.sql, opts);
  }

  // ---------------------------------------------------------------- outbox

  /** INSERT OR IGNORE on the message id (the idempotency key). True when newly stored. */
  enqueueOutbox(msg: OutboxMessage): boolean {
    return enqueueOutbox(this.sql, msg);
  }

  getOutbox(id: string): OutboxRow | undefined {
    return getOutbox(this.sql, id);
  }

  /** The newest outbox message per topic for each key, with delivery state per connector (board). */
  latestPushes(keys: string[]): Map<string, LotPush[]> {
    return latestPushes(this.sql, keys);
  }

  listOutbox(opts?: { state?: OutboxState; topic?: string; submissionId?: number; onHold?: boolean; limit?: number }): OutboxRow[] {
    return listOutbox(this.sql, opts);
  }

  /** An operator's hold on a message not yet sent (false: sent, or already held). */
  holdOutbox(id: string, hold: OutboxHold): boolean {
    return holdOutbox(this.sql, id, hold);
  }

  /** Lifts an operator's hold (false: it was not held). */
  releaseOutboxHold(id: string): boolean {
    return releaseOutboxHold(this.sql, id);
  }

  /** The audit trail filtered and paged, newest first, within `access` (audit-search.ts). */
  searchAudit(access: Access, q: AuditSearch): { items: AuditRow[]; nextBeforeSeq: number | null } {
    return searchAudit(this.sql, access, q);
  }

  // ---------------------------------------------------------------- document requests

  insertDocumentRequest(r: { lotId: number; partner: string; documentType: string; message: string; requestedBy: string }): DocumentRequestRow {
    return insertDocumentRequest(this.sql, r);
  }

  listDocumentRequests(lotId: number, all = false): DocumentRequestRow[] {
    return listDocumentRequests(this.sql, lotId, all);
  }

  partnersOfLot(lotId: number): string[] {
    return partnersOfLot(this.sql, lotId);
  }

  countOutboxOnHold(): number {
    return countOutboxOnHold(this.sql);
  }

  countOutbox(): Record<OutboxState, number> {
    return countOutbox(this.sql);
  }

  claimOutbox(limit: number, now: Instant, visibilityMs?: number): OutboxRow[] {
    return claimOutbox(this.sql, limit, now, visibilityMs);
  }

  markOutboxSent(id: string, at: Instant): boolean {
    return markOutboxSent(this.sql, id, at);
  }

  /** nextAttemptAt null → dead letter. */
  markOutboxFailed(id: string, error: string, nextAttemptAt: Instant | null): boolean {
    return markOutboxFailed(this.sql, id, error, nextAttemptAt);
  }

  retryOutbox(id: string): boolean {
    return retryOutbox(this.sql, id);
  }

  releaseHeldOutbox(submissionId: number): number {
    return releaseHeldOutbox(this.sql, submissionId);
  }

  // ---------------------------------------------------------------- jobs

  tryAcquireLease(name: string, holder: string, ttlMs: number, now: Instant): boolean {
    return tryAcquireLease(this.sql, name, holder, ttlMs, now);
  }

  releaseLease(name: string, holder: string): boolean {
    return releaseLease(this.sql, name, holder);
  }

  getLease(name: string): { name: string; holder: string; expiresAt: string } | undefined {
    return getLease(this.sql, name);
  }

  recordJobRun(run: JobRunInput): number {
    return recordJobRun(this.sql, run);
  }

  listJobRuns(opts?: { name?: string; limit?: number }): JobRunRow[] {
    return listJobRuns(this.sql, opts);
  }

  // ---------------------------------------------------------------- scheduled jobs (migration 2)

  /** Per-connector delivery state of one outbox message. */
  listDeliveries(outboxId: string): DeliveryRow[] {
    return listDeliveries(this.sql, outboxId);
  }

  listDeliveriesOf(outboxIds: string[]): Map<string, DeliveryRow[]> {
    return listDeliveriesOf(this.sql, outboxIds);
  }

  markDeliverySent(outboxId: string, connector: string, at: Instant): void {
    markDeliverySent(this.sql, outboxId, connector, at);
  }

  /** nextAttemptAt null → dead for this connector. Returns the connector's attempts so far. */
  recordDeliveryFailure(outboxId: string, connector: string, error: string, nextAttemptAt: Instant | null, at: Instant): number {
    return recordDeliveryFailure(this.sql, outboxId, connector, error, nextAttemptAt, at);
  }

  /** An older message of the same topic and key the connector still has to get (ordering per key). */
  olderUndelivered(msg: { id: string; topic: string; key: string }, connector: string): { id: string; nextAttemptAt: string | null } | undefined {
    return olderUndelivered(this.sql, msg, connector);
  }

  /** Outbox ids starting with this (hex) prefix, at most `limit`. */
  findOutboxIdsByPrefix(prefix: string, limit?: number): string[] {
    return findOutboxIdsByPrefix(this.sql, prefix, limit);
  }

  /** Operator retry of a dead message: the message and its dead deliveries start over, in one transaction. */
  retryDeadOutbox(id: string, at: Instant): { retried: boolean; deliveries: number } {
    return this.sql.atomic(() => {
      const retried = retryOutbox(this.sql, id);
      return { retried, deliveries: retried ? retryDeadDeliveries(this.sql, id, at) : 0 };
    });
  }

  startJobRun(name: string, holder: string, startedAt: Instant, details?: unknown): number {
    return startJobRun(this.sql, name, holder, startedAt, details);
  }

  finishJobRun(id: number, r: { finishedAt: Instant; status: JobRunInput['status']; details?: unknown; error?: string | null }): void {
    finishJobRun(this.sql, id, r);
  }

  getJobCursor(name: string): string | undefined {
    return getJobCursor(this.sql, name);
  }

  setJobCursor(name: string, value: string): void {
    setJobCursor(this.sql, name, value);
  }

  getNotificationSent(key: string): NotificationSentRow | undefined {
    return getNotificationSent(this.sql, key);
  }

  recordNotification(n: { key: string; channel: string; eventType: string; subject: string; eventAt: string; ok: boolean; error?: string | null }, at: Instant): number {
    return recordNotification(this.sql, n, at);
  }

  countNotificationsSent(): { sent: number; failed: number } {
    return countNotificationsSent(this.sql);
  }

  getPulledFile(k: RemoteFileKey): PulledFileRow | undefined {
    return getPulledFile(this.sql, k);
  }

  notePulledSeen(k: RemoteFileKey, at: Instant): PulledFileRow {
    return notePulledSeen(this.sql, k, at);
  }

  startPullFetch(k: RemoteFileKey, at: Instant): PulledFileRow {
    return startPullFetch(this.sql, k, at);
  }

  finishPullFetch(k: RemoteFileKey, r: { sha256: string; submissionId: number }, at: Instant): void {
    finishPullFetch(this.sql, k, r, at);
  }

  markPullAfterDone(k: RemoteFileKey, at: Instant): void {
    markPullAfterDone(this.sql, k, at);
  }

  listPulledFiles(opts?: { partner?: string; state?: PulledState; limit?: number }): PulledFileRow[] {
    return listPulledFiles(this.sql, opts);
  }

  findPulledSubmission(partner: string, originalName: string, sha256: string, afterId: number): number | undefined {
    return findPulledSubmission(this.sql, partner, originalName, sha256, afterId);
  }

  /** Audit events after a seq, oldest first. */
  listAuditAfter(afterSeq: number, opts?: { actions?: string[]; limit?: number }): AuditRow[] {
    return listAuditAfter(this.sql, afterSeq, opts);
  }

  /** The newest audit seq at or before an instant. */
  auditSeqAt(at: Instant): number {
    return auditSeqAt(this.sql, at);
  }

  getDeviationWithLots(issuer: string, partnerRef: string) {
    return getDeviationWithLots(this.sql, issuer, partnerRef);
  }

  listOpenBoard(): BoardLot[] {
    return listOpenBoard(this.sql);
  }

  lastReceivedByPartner(): Map<string, string> {
    return lastReceivedByPartner(this.sql);
  }

  clearRejectedRows(submissionId: number): number {
    return clearRejectedRows(this.sql, submissionId);
  }

  // ---------------------------------------------------------------- sftp bans (bans.ts)

  getBan(kind: BanKind, key: string): BanRecord | undefined {
    return getBan(this.sql, kind, key);
  }

  /** Records a ban and forgets bans that ended more than 30 days before it (strikes are long forgiven). */
  recordBan(b: BanRecord): void {
    this.sql.atomic(() => {
      recordBan(this.sql, b);
      pruneBans(this.sql, b.bannedAt - 30 * 86_400_000);
    });
  }

  listActiveBans(at: number): BanRecord[] {
    return listActiveBans(this.sql, at);
  }

  liftBan(kind: BanKind, key: string, at: number): boolean {
    return this.sql.atomic(() => liftBan(this.sql, kind, key, at));
  }

  pruneBans(before: number): number {
    return this.sql.atomic(() => pruneBans(this.sql, before));
  }

  // ---------------------------------------------------------------- health

  health(): StoreHealth {
    const fileSize = (p: string): number | undefined => (existsSync(p) ? statSync(p).size : undefined);
    const base = { path: this.path, sizeBytes: fileSize(this.path) ?? 0, walBytes: fileSize(`${this.path}-wal`) };
    try {
      const count = (table: string) => (this.sql.q(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      const outbox = countOutbox(this.sql);
      const version = schemaVersion(this.db);
      const current = version === this.latestVersion;
      return {
        ok: current,
        ...base,
        schemaVersion: version,
        submissions: count('submissions'),
        lots: count('lots'),
        outboxPending: outbox.pending,
        outboxDead: outbox.dead,
        auditEvents: auditHead(this.sql).seq,
        ...(current ? {} : { error: `schema version ${version}, expected ${this.latestVersion}` }),
      };
    } catch (err) {
      return {
        ok: false,
        ...base,
        schemaVersion: -1,
        submissions: 0,
        lots: 0,
        outboxPending: 0,
        outboxDead: 0,
        auditEvents: 0,
        error: (err as Error).message,
      };
    }
  }
}
