// Pure builders of the messages lotgate sends to the sponsor's ERP and QMS.
//
// Every message id is sha256(topic, key, content version): the same fact always yields the same
// id, which receivers use as the idempotency key (delivery is at-least-once). The content version
// is the normalized payload plus, for state reports (readiness, disposition request, planned
// receipt status), the time the reported state became true (`at`). Without that time a lot going
// READY → BLOCKED → READY would produce the first message's id again, and an outbox keyed on the
// id would drop (or choke on) the return to READY. Deviations carry their own event time
// (`updatedAt`), so their id does not depend on when the message was built.

import type { DeviationRow, PlannedReceiptRow, Readiness, ReadinessReason, ReadinessState } from '../model/types.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { MessageInputError } from './errors.js';

export interface OutboundMessage {
  id: string;
  topic: string;
  key: string;
  createdAt: string;
  payload: Record<string, unknown>;
}

export const TOPICS = {
  lotReadiness: 'erp.lot_readiness',
  plannedReceiptStatus: 'erp.planned_receipt_status',
  deviation: 'qms.deviation',
  dispositionRequest: 'qms.disposition_request',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/** The batch master fields ERP needs. Extra properties (a whole LotRow) are ignored. */
export interface LotMaster {
  materialId: string;
  lotNumber: string;
  vendor?: string | null;
  vendorBatch?: string | null;
  expiryDate?: string | null;
  manufactureDate?: string | null;
  quantity?: number | null;
  uom?: string | null;
  site?: string | null;
}

export interface LotRef {
  materialId: string;
  lotNumber: string;
}

/** Where a planned receipt stands, as ERP sees it. */
export type ReceiptStatus = 'awaiting_lot' | 'lot_assigned' | 'in_progress' | 'conditional' | 'blocked' | 'ready' | 'closed' | 'cancelled';

export function lotKey(lot: LotRef): string {
  return `${lot.materialId}/${lot.lotNumber}`;
}

export function messageId(topic: string, key: string, version: unknown): string {
  return sha256Hex(canonicalJson([topic, key, version]));
}

// ---------------------------------------------------------------------------

/**
 * `signatures`: the Part 11 manifestation of signed decisions on the lot (printed name, time,
 * meaning, record hash, valid or invalidated), carried when there are any.
 */
export function lotReadinessMessage(lot: LotMaster, readiness: Readiness, at: string, signatures?: Record<string, unknown>[]): OutboundMessage {
  checkLot(lot, 'lot');
  checkAt(at);
  checkReadiness(readiness);
  const payload = { lot: lotPayload(lot), readiness: readinessPayload(readiness), ...(signatures?.length ? { signatures } : {}) };
  return build(TOPICS.lotReadiness, lotKey(lot), at, payload, at);
}

/** Asks QA (in the QMS) for a disposition decision on a lot that has become releasable. */
export function dispositionRequestMessage(lot: LotMaster, readiness: Readiness, at: string): OutboundMessage {
  checkLot(lot, 'lot');
  checkAt(at);
  checkReadiness(readiness);
  // CONDITIONAL is accepted: QA may release with an open minor deviation; the state tells them.
  if (readiness.state !== 'READY' && readiness.state !== 'CONDITIONAL') {
    throw new MessageInputError(`a disposition request needs a READY or CONDITIONAL lot; ${lotKey(lot)} is ${readiness.state}`, 'readiness.state');
  }
  const payload = { lot: lotPayload(lot), readiness: readinessPayload(readiness), requested: 'disposition' };
  return build(TOPICS.dispositionRequest, lotKey(lot), at, payload, at);
}

export function deviationMessage(dev: DeviationRow, lots: LotRef[], at: string): OutboundMessage {
  checkAt(at);
  if (!nonEmpty(dev.partnerRef)) throw new MessageInputError('deviation.partnerRef is required', 'partnerRef');
  if (!nonEmpty(dev.issuer)) throw new MessageInputError('deviation.issuer is required', 'issuer');
  lots.forEach((l, i) => checkLot(l, `lots[${i}]`));
  const affected = uniqueSorted(lots.map((l) => ({ materialId: l.materialId, lotNumber: l.lotNumber })), lotKey);
  const payload = {
    partnerRef: dev.partnerRef,
    issuer: dev.issuer,
    qmsRef: dev.qmsRef ?? null,
    title: dev.title ?? null,
    classification: dev.classification,
    status: dev.status,
    capaRefs: [...new Set(dev.capaRefs ?? [])].sort(),
    openedAt: dev.openedAt,
    closedAt: dev.closedAt ?? null,
    updatedAt: dev.updatedAt,
    affectedLots: affected,
  };
  return build(TOPICS.deviation, `${dev.issuer}/${dev.partnerRef}`, at, payload, null);
}

export function plannedReceiptStatusMessage(
  po: PlannedReceiptRow,
  lot: LotMaster | null | undefined,
  readiness: Readiness | null | undefined,
  at: string,
): OutboundMessage {
  checkAt(at);
  if (!nonEmpty(po.poNumber)) throw new MessageInputError('poNumber is required', 'poNumber');
  if (!nonEmpty(po.poItem)) throw new MessageInputError('poItem is required', 'poItem');
  if (!nonEmpty(po.materialId)) throw new MessageInputError('materialId is required', 'materialId');
  if (lot) {
    checkLot(lot, 'lot');
    if (lot.materialId !== po.materialId) {
      throw new MessageInputError(`lot ${lotKey(lot)} is not for material ${po.materialId} of PO ${po.poNumber}/${po.poItem}`, 'lot.materialId');
    }
  }
  if (readiness) checkReadiness(readiness);
  const lotNumber = lot?.lotNumber ?? po.lotNumber ?? null;
  const payload = {
    po: {
      poNumber: po.poNumber,
      poItem: po.poItem,
      materialId: po.materialId,
      quantity: po.quantity ?? null,
      uom: po.uom ?? null,
      vendor: po.vendor ?? null,
      plannedDate: po.plannedDate ?? null,
      confirmedDate: po.confirmedDate ?? null,
      status: po.status ?? null,
    },
    lotNumber,
    lot: lot ? lotPayload(lot) : null,
    readiness: readiness ? { state: readiness.state, late: readiness.late, lateStages: lateStages(readiness) } : null,
    receiptStatus: receiptStatus(po, lotNumber, readiness ?? null),
  };
  return build(TOPICS.plannedReceiptStatus, `${po.poNumber}/${po.poItem}`, at, payload, at);
}

export function receiptStatus(po: Pick<PlannedReceiptRow, 'status'>, lotNumber: string | null, readiness: Pick<Readiness, 'state'> | null): ReceiptStatus {
  if (po.status === 'closed') return 'closed';
  if (po.status === 'cancelled') return 'cancelled';
  if (!lotNumber) return 'awaiting_lot';
  if (!readiness) return 'lot_assigned';
  const byState: Record<ReadinessState, ReceiptStatus> = {
    READY: 'ready',
    CONDITIONAL: 'conditional',
    NOT_READY: 'in_progress',
    BLOCKED: 'blocked',
  };
  return byState[readiness.state];
}

// ---------------------------------------------------------------------------

function build(topic: Topic, key: string, at: string, payload: Record<string, unknown>, asOf: string | null): OutboundMessage {
  // Round-trip through JSON so the payload is exactly what a store would give back (no undefined).
  const plain = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
  return { id: messageId(topic, key, { payload: plain, asOf }), topic, key, createdAt: at, payload: plain };
}

function lotPayload(lot: LotMaster): Record<string, unknown> {
  return {
    materialId: lot.materialId,
    lotNumber: lot.lotNumber,
    vendor: lot.vendor ?? null,
    vendorBatch: lot.vendorBatch ?? null,
    site: lot.site ?? null,
    expiryDate: lot.expiryDate ?? null,
    manufactureDate: lot.manufactureDate ?? null,
    quantity: lot.quantity ?? null,
    uom: lot.uom ?? null,
  };
}

function readinessPayload(r: Readiness): Record<string, unknown> {
  return {
    state: r.state,
    late: r.late,
    lateStages: lateStages(r),
    reasons: r.reasons.map(reasonPayload),
  };
}

function reasonPayload(r: ReadinessReason): Record<string, unknown> {
  return {
    code: r.code,
    severity: r.severity,
    message: r.message,
    evidence: r.evidence.map((e) => ({ kind: e.kind, ref: e.ref, detail: e.detail ?? null })),
  };
}

function lateStages(r: Readiness): { stage: string; dueDate: string }[] {
  return r.late ? (r.lateStages ?? []).map((s) => ({ stage: s.stage, dueDate: s.dueDate })) : [];
}

function uniqueSorted<T>(items: T[], keyOf: (t: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const it of items) byKey.set(keyOf(it), it);
  return [...byKey.keys()].sort().map((k) => byKey.get(k) as T);
}

const STATES: readonly string[] = ['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED'];

function checkReadiness(r: Readiness): void {
  if (!r || !STATES.includes(r.state)) throw new MessageInputError(`unknown readiness state ${JSON.stringify(r?.state)}`, 'readiness.state');
  if (!Array.isArray(r.reasons)) throw new MessageInputError('readiness.reasons must be an array', 'readiness.reasons');
}

function checkLot(lot: LotRef, where: string): void {
  if (!lot || !nonEmpty(lot.materialId)) throw new MessageInputError(`${where}.materialId is required`, `${where}.materialId`);
  if (!nonEmpty(lot.lotNumber)) throw new MessageInputError(`${where}.lotNumber is required`, `${where}.lotNumber`);
}

function checkAt(at: string): void {
  if (typeof at !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(at) || Number.isNaN(Date.parse(at))) {
    throw new MessageInputError(`'at' must be an ISO-8601 date-time, got ${JSON.stringify(at)}`, 'at');
  }
}

function nonEmpty(s: unknown): s is string {
  return typeof s === 'string' && s.trim() !== '';
}
