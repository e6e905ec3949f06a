// Row shapes the store hands out and takes in, beyond the canonical model in ../model/types.ts.
// camelCase here; snake_case only inside SQL.

import type { AuditAction, ProblemCode } from '../codes.js';
import type {
  DeviationRow,
  DispositionRow,
  DocumentRow,
  IdentifierRow,
  IdRef,
  LotFacts,
  LotRow,
  PlannedReceiptRow,
  Readiness,
  ReadinessState,
  StageEventRow,
  StageStatus,
  SubmissionState,
  TestResultRow,
} from '../model/types.js';

export type SubmissionSource = 'sftp' | 'watch' | 'cli' | 'pull' | 'replay';

export interface SubmissionRow {
  id: number;
  partner: string;
  feed: string | null;
  originalName: string;
  size: number;
  sha256: string;
  receivedAt: string;
  source: SubmissionSource;
  /** The original bytes in the content-addressed archive (never altered). */
  archivePath: string;
  state: SubmissionState;
  mappingName: string | null;
  mappingHash: string | null;
  /** Data rows read; always rows = applied + rejected + filtered + superseded. */
  rows: number;
  applied: number;
  rejected: number;
  /** Rows the mapping deliberately produced nothing from (filter, when, unmapped: skip). */
  filtered: number;
  /** Rows whose every fact was overwritten by a later row of the same file (same fact key). */
  superseded: number;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  replayOf: number | null;
  duplicateOf: number | null;
  /** The earlier rejected or quarantined submission of the same bytes that this one resends. */
  resendOf: number | null;
  ackPath: string | null;
  /** The decision is committed but its acknowledgment is not written yet (see reconciler). */
  ackPending: boolean;
  ackWrittenAt: string | null;
}

/** What a caller must know to create a ledger row; everything else has a default. */
export type NewSubmission = Pick<SubmissionRow, 'partner' | 'originalName' | 'size' | 'sha256' | 'source' | 'archivePath'> &
  Partial<Omit<SubmissionRow, 'id' | 'partner' | 'originalName' | 'size' | 'sha256' | 'source' | 'archivePath'>>;

export interface RejectedRowRow {
  id: number;
  submissionId: number;
  line?: number;
  column?: number;
  field?: string;
  code: ProblemCode;
  message: string;
  value?: string;
}

/**
 * Where a fact came from. `partner` is who sent it; `line` is the 1-based source line;
 * `mappingHash` the hash of the mapping that produced it. `submissionId` is null for facts
 * entered by hand (CLI) rather than from a file.
 */
export interface Prov {
  submissionId: number | null;
  line?: number;
  mappingHash?: string;
  partner: string;
}

/** How a partner names a lot in one record. */
export interface LotRef {
  ids: IdRef[];
  lotNumber?: string;
  materialId?: string;
  poNumber?: string;
  poItem?: string;
}

export interface MaterialFields {
  materialId: string;
  description?: string | null;
  gtin?: string | null;
  ndc?: string | null;
  productFamily?: string | null;
  uom?: string | null;
}

export interface PurchaseOrderFields extends PlannedReceiptRow {
  vendorBatch?: string | null;
}

/** Updatable lot attributes (the key materialId + lotNumber is passed separately). */
export interface LotFields {
  expiryDate?: string | null;
  manufactureDate?: string | null;
  quantity?: number | null;
  uom?: string | null;
  site?: string | null;
  vendor?: string | null;
  qualityState?: string | null;
  /** The PO line this lot fulfils, when known. */
  poNumber?: string | null;
  poItem?: string | null;
}

export type StoredReadiness = Readiness & { computedAt: string };

export interface LotSummary {
  lotId: number;
  lotNumber: string;
  materialId: string;
  vendor: string | null;
  expiryDate: string | null;
  readiness: ReadinessState | null;
  late: boolean;
  reasonCodes: string[];
  computedAt: string | null;
}

export interface StageSummary {
  stage: string;
  status: StageStatus;
  eventTime: string;
  site?: string | null;
}

export interface LotDetail {
  lot: LotRow;
  material: LotFacts['material'];
  identifiers: (IdentifierRow & { submissionId: number | null; createdAt: string })[];
  conflictingIdentifiers: LotFacts['conflictingIdentifiers'];
  /** Latest status per stage (by event time), in order of first activity. */
  stages: StageSummary[];
  stageEvents: StageEventRow[];
  tests: TestResultRow[];
  documents: DocumentRow[];
  /** Latest version of each deviation affecting the lot. */
  deviations: DeviationRow[];
  dispositions: DispositionRow[];
  plannedReceipt: PlannedReceiptRow | null;
  readiness: StoredReadiness | null;
}

export interface AuditInput {
  actor: string;
  action: AuditAction;
  subject?: string | null;
  details?: unknown;
  at?: string;
}

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  details: unknown;
  prevHash: string;
  hash: string;
}

export type AuditVerification = { ok: true; count: number } | { ok: false; count: number; brokenAt: number; reason: string };

export type OutboxState = 'pending' | 'sent' | 'dead' | 'held';

export interface OutboxMessage {
  id: string;
  topic: string;
  target?: string | null;
  key: string;
  payload: unknown;
  submissionId?: number | null;
  state?: 'pending' | 'held';
}

export interface OutboxRow {
  id: string;
  topic: string;
  target: string | null;
  key: string;
  payload: unknown;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  submissionId: number | null;
  /** An operator's hold: the push job leaves the message alone until it is released. */
  hold: OutboxHold | null;
}

export interface OutboxHold {
  reason: string;
  by: string;
  at: string;
}

/** A message's delivery to one connector (outbound/connectors). */
export type DeliveryState = 'pending' | 'sent' | 'dead';

export interface DeliveryRow {
  outboxId: string;
  connector: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  sentAt: string | null;
  updatedAt: string;
}

export type JobRunStatus = 'ok' | 'error' | 'skipped';

export interface JobRunInput {
  name: string;
  holder?: string | null;
  startedAt: string;
  finishedAt?: string | null;
  status: JobRunStatus;
  details?: unknown;
  error?: string | null;
}

export interface JobRunRow {
  id: number;
  name: string;
  holder: string | null;
  startedAt: string;
  finishedAt: string | null;
  status: JobRunStatus;
  details: unknown;
  error: string | null;
}

export interface StoreHealth {
  ok: boolean;
  path: string;
  sizeBytes: number;
  walBytes?: number;
  schemaVersion: number;
  submissions: number;
  lots: number;
  outboxPending: number;
  outboxDead: number;
  auditEvents: number;
  error?: string;
}

/** A point in time as callers hold it; the store keeps ISO-8601 UTC strings. */
export type Instant = string | number | Date;

// Inputs of the fact writers. Event times may come in any ISO-8601 form; the store normalises.

export interface StageEventInput {
  stage: string;
  status: StageStatus;
  eventTime: string;
  site?: string | null;
}

export type TestResultInput = Omit<TestResultRow, 'id' | 'submissionId' | 'line' | 'resultStatus'> & {
  resultStatus?: TestResultRow['resultStatus'];
  analyst?: string | null;
};

export interface DocumentInput {
  type: DocumentRow['type'];
  docId: string;
  version?: number | null;
  sha256?: string | null;
  storedPath?: string | null;
  issuedAt?: string | null;
  supersedes?: string | null;
}

export type DeviationInput = Omit<DeviationRow, 'issuer' | 'submissionId' | 'updatedAt' | 'capaRefs'> & {
  /** Defaults to closedAt ?? openedAt. */
  updatedAt?: string | null;
  capaRefs?: string[] | null;
};

/** Written or left alone: `created` is false when the fact was already there (idempotent re-apply). */
export interface WriteResult {
  id: number;
  created: boolean;
  /** For a fact that was already there: the submission and line it was credited to before this write. */
  prior?: { submissionId: number | null; line: number | null };
}
