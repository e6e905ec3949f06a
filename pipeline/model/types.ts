// The canonical lot model and the contracts between the pipeline's parts.
// Everything here is plain data: no I/O, no classes. The store, the mapping engine,
// the readiness rules and the CLI all speak these types.

import type { ErrorCode, ProblemCode, ReasonCode } from '../codes.js';

export type PartnerRole = 'cmo' | 'lab' | 'erp' | 'qms';
export type OnboardingMode = 'live' | 'shadow' | 'review';

export type IdScheme = 'cmo_batch' | 'lims_sample' | 'erp_lot' | 'vendor_batch' | 'gtin_lot';
export const ID_SCHEMES: readonly IdScheme[] = ['cmo_batch', 'lims_sample', 'erp_lot', 'vendor_batch', 'gtin_lot'];

export type StageStatus = 'started' | 'completed' | 'on_hold' | 'aborted';
export type DocumentType = 'coa' | 'batch_record' | 'packaging_record' | 'test_report' | 'label_approval';
export type DeviationClass = 'minor' | 'major' | 'critical';
export type DeviationStatus = 'open' | 'investigation' | 'closed' | 'cancelled';
export type DispositionDecision = 'released' | 'rejected' | 'quarantine';
export type Qualifier = '<' | '>' | '<=' | '>=' | 'ND' | '<LOQ';
/** Lab lifecycle of a result. Only `final` results count for readiness; `retracted` never count. */
export type ResultStatus = 'preliminary' | 'final' | 'retracted';

export type ReadinessState = 'READY' | 'CONDITIONAL' | 'NOT_READY' | 'BLOCKED';

export type SubmissionState =
  | 'received' // in the ledger, archived, waiting for a worker
  | 'processing'
  | 'pending_review' // partner in `review` mode: parsed and held until approved
  | 'applied'
  | 'applied_with_errors'
  | 'rejected'
  | 'duplicate'
  | 'quarantined';
export const TERMINAL_STATES: readonly SubmissionState[] = ['applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined'];

/** What a mapping emits. One row can emit several records of several kinds. */
export type RecordKind =
  | 'material'
  | 'purchase_order'
  | 'lot'
  | 'lot_identifier'
  | 'stage_event'
  | 'test_result'
  | 'document'
  | 'deviation'
  | 'disposition';

export interface IdRef {
  scheme: IdScheme;
  value: string;
}

/**
 * A record as produced by the mapping engine, before identifier resolution.
 * `fields` holds canonical field names (see pipeline/model/schemas.ts for each kind),
 * already typed: decimals as numbers, dates as `YYYY-MM-DD`, datetimes as ISO-8601 UTC strings.
 * `ids` are the identifiers the partner sent for the lot (fields mapped with `xref:`).
 */
export interface MappedRecord {
  kind: RecordKind;
  /** 1-based physical line in the source file where the row/element starts. */
  line: number;
  ids: IdRef[];
  fields: Record<string, unknown>;
}

/** A coded, located problem with one row (or the whole file when line is absent). */
export interface RowError {
  line?: number;
  column?: number;
  field?: string;
  code: ProblemCode; // E_UNKNOWN_LOT, E_BAD_DATE, E_UNMAPPED_CODE, E_RAGGED_ROW, ... (pipeline/codes.ts)
  message: string;
  value?: string;
}

export interface MapResult {
  records: MappedRecord[];
  errors: RowError[];
}

/** Thrown by parsers and the ingest path for problems that make a whole file unusable. */
export class FileError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly line?: number,
    public readonly column?: number,
    /** The mapping field the problem is about (e.g. E_MISSING_COLUMN). */
    public readonly field?: string,
  ) {
    super(message);
    this.name = 'FileError';
  }
}

// ---------------------------------------------------------------------------
// Stored facts about one lot, as the readiness rules see them.

export interface LotRow {
  id: number;
  materialId: string;
  lotNumber: string;
  expiryDate?: string | null; // YYYY-MM-DD
  manufactureDate?: string | null;
  quantity?: number | null;
  uom?: string | null;
  site?: string | null;
  vendor?: string | null; // partner id of the CMO
  qualityState?: string | null;
}

export interface IdentifierRow {
  scheme: IdScheme;
  value: string;
  issuer: string; // partner id
}

export interface StageEventRow {
  stage: string;
  status: StageStatus;
  eventTime: string; // ISO
  site?: string | null;
  submissionId?: number | null;
  line?: number | null;
}

export interface TestResultRow {
  id?: number;
  sampleId?: string | null;
  testCode: string;
  testName?: string | null;
  method?: string | null;
  resultRaw?: string | null;
  resultValue?: number | null;
  qualifier?: Qualifier | null;
  unit?: string | null;
  specLow?: number | null;
  specHigh?: number | null;
  specText?: string | null;
  resultStatus: ResultStatus;
  testedAt?: string | null;
  /** A re-measurement's replicate / sequence number: part of the result's key (absent when none). */
  replicate?: string | null;
  submissionId?: number | null;
  line?: number | null;
}

export interface DocumentRow {
  type: DocumentType;
  docId: string;
  version: number;
  sha256: string;
  storedPath?: string | null;
  issuedAt?: string | null;
  supersedes?: string | null;
  submissionId?: number | null;
}

export interface DeviationRow {
  partnerRef: string;
  issuer: string;
  qmsRef?: string | null;
  title?: string | null;
  classification: DeviationClass;
  status: DeviationStatus;
  capaRefs: string[];
  openedAt: string;
  closedAt?: string | null;
  /** Event time of this version of the deviation; the latest wins (order-independent). */
  updatedAt: string;
  submissionId?: number | null;
}

export interface DispositionRow {
  decision: DispositionDecision;
  decidedBy?: string | null;
  decidedAt: string;
}

export interface PlannedReceiptRow {
  poNumber: string;
  poItem: string;
  materialId: string;
  quantity?: number | null;
  uom?: string | null;
  vendor?: string | null;
  plannedDate?: string | null;
  confirmedDate?: string | null;
  lotNumber?: string | null;
  status?: string | null;
}

/** Everything the readiness rules may look at for one lot. Built by the store. */
export interface LotFacts {
  lot: LotRow;
  /** Identifiers recorded for this lot. */
  identifiers: IdentifierRow[];
  /** Identifier values that point at more than one lot (conflicts), for the identity rule. */
  conflictingIdentifiers: (IdentifierRow & { lotNumbers: string[] })[];
  stageEvents: StageEventRow[];
  testResults: TestResultRow[];
  documents: DocumentRow[];
  /** Latest version of every deviation affecting this lot. */
  deviations: DeviationRow[];
  dispositions: DispositionRow[];
  /** The PO line / planned receipt this lot fulfils, if known. */
  plannedReceipt?: PlannedReceiptRow | null;
  /** Material master: productFamily drives which rule set applies. */
  material?: { materialId: string; description?: string | null; productFamily?: string | null; gtin?: string | null; ndc?: string | null } | null;
}

export interface ReadinessReason {
  code: ReasonCode; // R_STAGE_INCOMPLETE, R_DEVIATION_OPEN_MAJOR, R_TEST_OOS, R_COA_MISSING, ... (pipeline/codes.ts)
  message: string;
  /** The state this reason forces at least (BLOCKED > NOT_READY > CONDITIONAL). */
  severity: Exclude<ReadinessState, 'READY'>;
  /** The records behind it: e.g. { kind: 'deviation', ref: 'DEV-2026-014' }. */
  evidence: { kind: string; ref: string; detail?: string }[];
  /**
   * The values the message names (readiness/render.ts renders the message from code + params).
   * What lot_readiness and the outbox store instead of the message; readers never see it.
   */
  params?: Record<string, unknown>;
}

export interface Readiness {
  state: ReadinessState;
  reasons: ReadinessReason[];
  late: boolean;
  /** Milestones past their planned date (when late). */
  lateStages?: { stage: string; dueDate: string }[];
}

/** The rule set for one material or product family, after defaults are merged. */
export interface RuleSet {
  /** Stages that must be `completed` for readiness, in order. */
  requiredStages: string[];
  /** Document types that must be present (latest version counts). */
  requiredDocuments: DocumentType[];
  /** Test codes that need a final passing result; limits used when the result carries none. */
  tests: { code: string; specLow?: number; specHigh?: number; unit?: string }[];
  labelApprovalRequired: boolean;
  /** Minimum remaining shelf life at evaluation time, in days. */
  minShelfLifeDays: number;
  /** Allowed deviation of lot quantity from the PO line quantity, in percent. */
  quantityTolerancePct: number;
  /** Days before the planned receipt date by which each stage must be completed (late flag). */
  stageDueDaysBeforeReceipt: Record<string, number>;
}

// ---------------------------------------------------------------------------
// Partners and mappings (as loaded from YAML).

export interface PartnerConfig {
  id: string;
  name: string;
  role: PartnerRole;
  mode: OnboardingMode;
  sites: string[];
  /** Material ids this partner may report on; empty = any material it has POs/lots for. */
  products: string[];
  /** Mapping (feed) names under mappings/<id>/<feed>.yaml, tried in order against the file name. */
  feeds: string[];
  /** E-mail addresses of the partner's coordinators (document requests go to them). */
  contacts?: string[];
  sftp?: {
    publicKeys?: string[]; // OpenSSH public key lines
    passwordHash?: string; // scrypt$N$r$p$salt$hash (see pipeline/sftp/passwords.ts)
    twoStep?: boolean; // key AND password required
  };
  /** How its acknowledgments are written: the `.ack.csv` dialect for its spreadsheet program. */
  ack?: { csvDelimiter?: ',' | ';' | '\t' | '|'; bom?: boolean };
  /** IANA time zone for times in its acknowledgments (default: config `timezone`, else the machine's). */
  timezone?: string;
  /** Per-file limits of this partner (and per feed); see pipeline/ingest/limits.ts. */
  limits?: { maxRows?: number; maxErrors?: number; feeds?: Record<string, { maxRows?: number; maxErrors?: number }> };
  /** Path of the YAML file it was loaded from. */
  source?: string;
}

export interface AckError {
  line?: number;
  column?: number;
  field?: string;
  code: ProblemCode;
  message: string;
}

/**
 * What became of a file's rows: rows = applied + rejected + filtered + superseded, always.
 * filtered: the mapping produced nothing from the row (filter / when / unmapped: skip);
 * superseded: every fact of the row was overwritten by a later row of the same file.
 */
export interface AckCounts {
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
  superseded: number;
}

/**
 * The acknowledgment written for every file to <drop>/<partner>/outbound/<name>.<submissionId>.ack.json
 * (and copied to <name>.ack.json while it is the newest answer for that name).
 */
export interface Acknowledgment {
  file: string;
  sha256: string;
  /** When lotgate received the file: UTC, to the millisecond. */
  receivedAt: string;
  /** The same instant in `timeZone`, ISO 8601 with offset, to the second. */
  receivedAtLocal?: string;
  /** The partner's IANA time zone (partner file `timezone:`, else config.yaml `timezone:`, else the server's). */
  timeZone?: string;
  state: SubmissionState;
  submissionId?: number;
  /** This acknowledgment's own file name in outbound/ (`<file>.<submissionId>.ack.json`). */
  ackFile?: string;
  partner?: string;
  feed?: string | null;
  mapping?: { name: string; hash: string } | null;
  counts: AckCounts;
  errors: AckError[];
  /** Coded warnings (W_*) about rows that were not rejected, e.g. W_SUPERSEDED_IN_FILE; only present when there are some. */
  warnings?: AckError[];
  /** Set when more errors were recorded than the acknowledgment lists. */
  errorsTruncated?: number;
  /** Human summary: what happened and what to do. */
  message?: string;
  /** `duplicate`: the submission whose content this repeats (applied, or pending review). */
  duplicateOf?: number;
  original?: SubmissionRef;
  /** A resend of content that was rejected or quarantined before: that earlier submission. */
  resendOf?: number;
  previous?: SubmissionRef;
}

/** Another submission an acknowledgment refers to, with what a partner needs to find its answer. */
export interface SubmissionRef {
  submissionId: number;
  file: string;
  state: SubmissionState;
  receivedAt: string;
  receivedAtLocal?: string;
  /** Its acknowledgment's file name in outbound/. */
  ackFile: string;
}
