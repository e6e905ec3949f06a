// snake_case rows as the database returns them, their camelCase model shapes, and the provenance
// columns every fact and master-data row carries.

import type {
  DeviationRow,
  DispositionRow,
  DocumentRow,
  IdScheme,
  LotFacts,
  LotRow,
  PlannedReceiptRow,
  StageEventRow,
  SubmissionState,
  TestResultRow,
} from '../model/types.js';
import type { Prov, SubmissionRow } from './types.js';
import { parseJson } from './values.js';

export interface SubmissionDbRow {
  id: number;
  partner: string;
  feed: string | null;
  original_name: string;
  size: number;
  sha256: string;
  received_at: string;
  source: SubmissionRow['source'];
  archive_path: string;
  state: SubmissionState;
  mapping_name: string | null;
  mapping_hash: string | null;
  rows: number;
  applied: number;
  rejected: number;
  filtered: number;
  superseded: number;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  replay_of: number | null;
  duplicate_of: number | null;
  resend_of: number | null;
  ack_path: string | null;
  ack_pending: number;
  ack_written_at: string | null;
}

export function toSubmission(r: SubmissionDbRow): SubmissionRow {
  return {
    id: r.id,
    partner: r.partner,
    feed: r.feed,
    originalName: r.original_name,
    size: r.size,
    sha256: r.sha256,
    receivedAt: r.received_at,
    source: r.source,
    archivePath: r.archive_path,
    state: r.state,
    mappingName: r.mapping_name,
    mappingHash: r.mapping_hash,
    rows: r.rows,
    applied: r.applied,
    rejected: r.rejected,
    filtered: r.filtered,
    superseded: r.superseded,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    replayOf: r.replay_of,
    duplicateOf: r.duplicate_of,
    resendOf: r.resend_of,
    ackPath: r.ack_path,
    ackPending: r.ack_pending === 1,
    ackWrittenAt: r.ack_written_at,
  };
}

export interface LotDbRow {
  id: number;
  material_id: string;
  lot_number: string;
  expiry_date: string | null;
  manufacture_date: string | null;
  quantity: number | null;
  uom: string | null;
  site: string | null;
  vendor: string | null;
  quality_state: string | null;
  po_number: string | null;
  po_item: string | null;
}

/** The columns of a lot that resolution and scope checks read. */
export interface LotKeyDbRow {
  id: number;
  material_id: string;
  lot_number: string;
  vendor: string | null;
  po_number: string | null;
  po_item: string | null;
}

export function toLot(r: LotDbRow): LotRow {
  return {
    id: r.id,
    materialId: r.material_id,
    lotNumber: r.lot_number,
    expiryDate: r.expiry_date,
    manufactureDate: r.manufacture_date,
    quantity: r.quantity,
    uom: r.uom,
    site: r.site,
    vendor: r.vendor,
    qualityState: r.quality_state,
  };
}

export interface IdentifierDbRow {
  lot_id: number;
  scheme: IdScheme;
  value: string;
  issuer: string;
  submission_id: number | null;
  created_at: string;
}

export interface StageDbRow {
  id: number;
  stage: string;
  status: StageEventRow['status'];
  event_time: string;
  site: string | null;
  submission_id: number | null;
  line: number | null;
}

export function toStageEvent(r: StageDbRow): StageEventRow {
  return { stage: r.stage, status: r.status, eventTime: r.event_time, site: r.site, submissionId: r.submission_id, line: r.line };
}

export interface TestDbRow {
  id: number;
  sample_id: string | null;
  test_code: string;
  test_name: string | null;
  method: string | null;
  result_raw: string | null;
  result_value: number | null;
  qualifier: TestResultRow['qualifier'];
  unit: string | null;
  spec_low: number | null;
  spec_high: number | null;
  spec_text: string | null;
  result_status: TestResultRow['resultStatus'];
  tested_at: string | null;
  /** Absent from reads that do not select it (readiness). */
  replicate?: string | null;
  submission_id: number | null;
  line: number | null;
}

export function toTestResult(r: TestDbRow, withId: boolean): TestResultRow {
  const out: TestResultRow = {
    sampleId: r.sample_id,
    testCode: r.test_code,
    testName: r.test_name,
    method: r.method,
    resultRaw: r.result_raw,
    resultValue: r.result_value,
    qualifier: r.qualifier,
    unit: r.unit,
    specLow: r.spec_low,
    specHigh: r.spec_high,
    specText: r.spec_text,
    resultStatus: r.result_status,
    testedAt: r.tested_at,
    submissionId: r.submission_id,
    line: r.line,
  };
  if (withId) out.id = r.id;
  if (r.replicate != null) out.replicate = r.replicate;
  return out;
}

export interface DocumentDbRow {
  type: DocumentRow['type'];
  doc_id: string;
  version: number;
  sha256: string | null;
  stored_path: string | null;
  issued_at: string | null;
  supersedes: string | null;
  submission_id: number | null;
}

export function toDocument(r: DocumentDbRow): DocumentRow {
  return {
    type: r.type,
    docId: r.doc_id,
    version: r.version,
    sha256: r.sha256 ?? '',
    storedPath: r.stored_path,
    issuedAt: r.issued_at,
    supersedes: r.supersedes,
    submissionId: r.submission_id,
  };
}

export interface DeviationDbRow {
  id: number;
  issuer: string;
  partner_ref: string;
  qms_ref: string | null;
  title: string | null;
  classification: DeviationRow['classification'];
  status: DeviationRow['status'];
  capa_refs: string;
  opened_at: string;
  closed_at: string | null;
  updated_at: string;
  submission_id: number | null;
}

export function toDeviation(r: DeviationDbRow): DeviationRow {
  return {
    partnerRef: r.partner_ref,
    issuer: r.issuer,
    qmsRef: r.qms_ref,
    title: r.title,
    classification: r.classification,
    status: r.status,
    capaRefs: parseJson<string[]>(r.capa_refs, []),
    openedAt: r.opened_at,
    closedAt: r.closed_at,
    updatedAt: r.updated_at,
    submissionId: r.submission_id,
  };
}

export interface DispositionDbRow {
  decision: DispositionRow['decision'];
  decided_by: string | null;
  decided_at: string;
}

export function toDisposition(r: DispositionDbRow): DispositionRow {
  return { decision: r.decision, decidedBy: r.decided_by, decidedAt: r.decided_at };
}

export interface PurchaseOrderDbRow {
  po_number: string;
  po_item: string;
  material_id: string;
  quantity: number | null;
  uom: string | null;
  vendor: string | null;
  planned_date: string | null;
  confirmed_date: string | null;
  lot_number: string | null;
  vendor_batch: string | null;
  status: string | null;
}

export function toPlannedReceipt(r: PurchaseOrderDbRow): PlannedReceiptRow {
  return {
    poNumber: r.po_number,
    poItem: r.po_item,
    materialId: r.material_id,
    quantity: r.quantity,
    uom: r.uom,
    vendor: r.vendor,
    plannedDate: r.planned_date,
    confirmedDate: r.confirmed_date,
    lotNumber: r.lot_number,
    status: r.status,
  };
}

export interface MaterialDbRow {
  material_id: string;
  description: string | null;
  gtin: string | null;
  ndc: string | null;
  product_family: string | null;
}

export function toMaterial(r: MaterialDbRow): NonNullable<LotFacts['material']> {
  return { materialId: r.material_id, description: r.description, productFamily: r.product_family, gtin: r.gtin, ndc: r.ndc };
}

/** A row's provenance columns (submission_id, line, mapping_hash, partner), in that order. */
export const provArgs = (p: Prov) => [p.submissionId, p.line ?? null, p.mappingHash ?? null, p.partner] as const;
