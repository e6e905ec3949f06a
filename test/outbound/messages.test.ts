import { describe, expect, it } from 'vitest';
import {
  deviationMessage,
  dispositionRequestMessage,
  lotReadinessMessage,
  plannedReceiptStatusMessage,
  receiptStatus,
  TOPICS,
} from '../../pipeline/outbound/messages.js';
import { MessageInputError } from '../../pipeline/outbound/errors.js';
import type { PlannedReceiptRow, Readiness } from '../../pipeline/model/types.js';
import { AT, blocked, deviation, LOT, ready } from './helpers.js';

const PO: PlannedReceiptRow = {
  poNumber: '4500012345',
  poItem: '00010',
  materialId: '000100234',
  quantity: 12000,
  uom: 'EA',
  vendor: 'acme-cmo',
  plannedDate: '2026-03-15',
  confirmedDate: null,
  lotNumber: null,
  status: 'open',
};

describe('lotReadinessMessage', () => {
  it('carries the batch master, readiness and reasons for ERP', () => {
    const msg = lotReadinessMessage(LOT, blocked(), AT);
    expect(msg.topic).toBe('erp.lot_readiness');
    expect(msg.key).toBe('000100234/L2026-001');
    expect(msg.createdAt).toBe(AT);
    expect(msg.id).toMatch(/^[0-9a-f]{64}$/);
    expect(msg.payload).toEqual({
      lot: {
        materialId: '000100234',
        lotNumber: 'L2026-001',
        vendor: 'acme-cmo',
        vendorBatch: 'AC-7781',
        site: null,
        expiryDate: '2028-02-29',
        manufactureDate: '2026-02-01',
        quantity: 12000,
        uom: 'EA',
      },
      readiness: {
        state: 'BLOCKED',
        late: true,
        lateStages: [{ stage: 'packaging', dueDate: '2026-02-20' }],
        reasons: [
          expect.objectContaining({ code: 'R_DEVIATION_OPEN_MAJOR', severity: 'BLOCKED', evidence: [{ kind: 'deviation', ref: 'DEV-14', detail: 'major, open' }] }),
          expect.objectContaining({ code: 'R_STAGE_INCOMPLETE', evidence: [{ kind: 'stage', ref: 'packaging', detail: null }] }),
        ],
      },
    });
  });

  it('keeps zero padding of material ids and holds no undefined (what the outbox gives back is identical)', () => {
    const msg = lotReadinessMessage({ materialId: '000100234', lotNumber: 'L1' }, ready(), AT);
    expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
    expect((msg.payload.lot as Record<string, unknown>).materialId).toBe('000100234');
  });

  it('gives the same id for the same facts, however they are handed in', () => {
    const a = lotReadinessMessage(LOT, blocked(), AT);
    // A whole LotRow (extra fields, nulls instead of absent) and a fresh readiness object.
    const row = { id: 7, site: null, qualityState: 'Q', ...LOT, vendorBatch: 'AC-7781' };
    const b = lotReadinessMessage(row, JSON.parse(JSON.stringify(blocked())) as Readiness, AT);
    expect(b.id).toBe(a.id);
    const shuffled = Object.fromEntries(Object.entries(LOT).reverse()) as typeof LOT;
    expect(lotReadinessMessage(shuffled, blocked(), AT).id).toBe(a.id);
  });

  it('gives a different id when readiness changes, and when a state recurs later', () => {
    const blockedMsg = lotReadinessMessage(LOT, blocked(), AT);
    const readyMsg = lotReadinessMessage(LOT, ready(), AT);
    expect(readyMsg.id).not.toBe(blockedMsg.id);

    const notLate = { ...blocked(), late: false, lateStages: [] };
    expect(lotReadinessMessage(LOT, notLate, AT).id).not.toBe(blockedMsg.id);

    const otherEvidence = blocked();
    otherEvidence.reasons[0].evidence[0].ref = 'DEV-15';
    expect(lotReadinessMessage(LOT, otherEvidence, AT).id).not.toBe(blockedMsg.id);

    // READY → BLOCKED → READY: the return to READY is a new fact with its own id.
    const later = '2026-03-05T10:00:00.000Z';
    expect(lotReadinessMessage(LOT, ready(), later).id).not.toBe(readyMsg.id);
  });

  it('changes the id when the batch master changes', () => {
    const a = lotReadinessMessage(LOT, ready(), AT);
    expect(lotReadinessMessage({ ...LOT, expiryDate: '2028-03-31' }, ready(), AT).id).not.toBe(a.id);
  });

  it('refuses input it cannot turn into a message', () => {
    expect(() => lotReadinessMessage({ materialId: '', lotNumber: 'L1' }, ready(), AT)).toThrow(MessageInputError);
    expect(() => lotReadinessMessage(LOT, ready(), 'yesterday')).toThrow(/ISO-8601/);
    expect(() => lotReadinessMessage(LOT, { state: 'MAYBE' } as unknown as Readiness, AT)).toThrow(/readiness state/);
    try {
      lotReadinessMessage(LOT, ready(), '2026-13-45T00:00:00Z');
      expect.unreachable();
    } catch (err) {
      expect((err as MessageInputError).code).toBe('E_MESSAGE_INPUT');
      expect((err as MessageInputError).field).toBe('at');
    }
  });
});

describe('dispositionRequestMessage', () => {
  it('asks QMS for a disposition of a READY lot, with an id distinct from the readiness message', () => {
    const msg = dispositionRequestMessage(LOT, ready(), AT);
    expect(msg.topic).toBe(TOPICS.dispositionRequest);
    expect(msg.key).toBe('000100234/L2026-001');
    expect(msg.payload.requested).toBe('disposition');
    expect(msg.id).not.toBe(lotReadinessMessage(LOT, ready(), AT).id);
    expect(dispositionRequestMessage(LOT, ready(), AT).id).toBe(msg.id);
  });

  it('accepts CONDITIONAL (QA may release with a minor deviation) and refuses NOT_READY and BLOCKED', () => {
    expect(dispositionRequestMessage(LOT, { state: 'CONDITIONAL', late: false, reasons: [] }, AT).payload.readiness).toMatchObject({ state: 'CONDITIONAL' });
    expect(() => dispositionRequestMessage(LOT, blocked(), AT)).toThrow(/READY or CONDITIONAL/);
    expect(() => dispositionRequestMessage(LOT, { state: 'NOT_READY', late: false, reasons: [] }, AT)).toThrow(MessageInputError);
  });
});

describe('deviationMessage', () => {
  const lots = [
    { materialId: '000100234', lotNumber: 'L2026-002' },
    { materialId: '000100234', lotNumber: 'L2026-001' },
    { materialId: '000100234', lotNumber: 'L2026-002' },
  ];

  it('sends the header with affected lots (deduplicated, sorted), classification, status and CAPA refs', () => {
    const msg = deviationMessage(deviation(), lots, AT);
    expect(msg.topic).toBe('qms.deviation');
    expect(msg.key).toBe('acme-cmo/DEV-14');
    expect(msg.payload).toMatchObject({
      partnerRef: 'DEV-14',
      classification: 'major',
      status: 'open',
      capaRefs: ['CAPA-2', 'CAPA-9'],
      affectedLots: [
        { materialId: '000100234', lotNumber: 'L2026-001' },
        { materialId: '000100234', lotNumber: 'L2026-002' },
      ],
    });
  });

  it("takes its version from the deviation's own event time, not from when the message was built", () => {
    const a = deviationMessage(deviation(), lots, AT);
    const rebuilt = deviationMessage(deviation({ capaRefs: ['CAPA-2', 'CAPA-9'] }), [...lots].reverse(), '2026-03-09T00:00:00.000Z');
    expect(rebuilt.id).toBe(a.id);
    expect(rebuilt.createdAt).not.toBe(a.createdAt);
    const closed = deviationMessage(deviation({ status: 'closed', closedAt: '2026-03-01T00:00:00.000Z', updatedAt: '2026-03-01T00:00:00.000Z' }), lots, AT);
    expect(closed.id).not.toBe(a.id);
    expect(deviationMessage(deviation({ classification: 'critical' }), lots, AT).id).not.toBe(a.id);
    expect(deviationMessage(deviation(), lots.slice(0, 1), AT).id).not.toBe(a.id);
  });

  it('needs a partner reference and issuer', () => {
    expect(() => deviationMessage(deviation({ partnerRef: ' ' }), lots, AT)).toThrow(/partnerRef/);
    expect(() => deviationMessage(deviation(), [{ materialId: 'M', lotNumber: '' }], AT)).toThrow(/lots\[0\]\.lotNumber/);
  });
});

describe('plannedReceiptStatusMessage', () => {
  it('reports a PO line without a lot as awaiting_lot', () => {
    const msg = plannedReceiptStatusMessage(PO, null, null, AT);
    expect(msg.topic).toBe('erp.planned_receipt_status');
    expect(msg.key).toBe('4500012345/00010');
    expect(msg.payload).toMatchObject({ lotNumber: null, lot: null, readiness: null, receiptStatus: 'awaiting_lot' });
  });

  it('reports the lot and its readiness', () => {
    const msg = plannedReceiptStatusMessage(PO, LOT, blocked(), AT);
    expect(msg.payload).toMatchObject({
      lotNumber: 'L2026-001',
      readiness: { state: 'BLOCKED', late: true, lateStages: [{ stage: 'packaging', dueDate: '2026-02-20' }] },
      receiptStatus: 'blocked',
    });
    expect(plannedReceiptStatusMessage(PO, LOT, ready(), AT).id).not.toBe(msg.id);
    expect(plannedReceiptStatusMessage(PO, LOT, blocked(), AT).id).toBe(msg.id);
  });

  it('refuses a lot of another material', () => {
    expect(() => plannedReceiptStatusMessage(PO, { ...LOT, materialId: '000999' }, null, AT)).toThrow(/not for material/);
  });

  it('derives the receipt status', () => {
    expect(receiptStatus({ status: 'cancelled' }, 'L1', { state: 'READY' })).toBe('cancelled');
    expect(receiptStatus({ status: 'closed' }, null, null)).toBe('closed');
    expect(receiptStatus({ status: 'open' }, 'L1', null)).toBe('lot_assigned');
    expect(receiptStatus({}, 'L1', { state: 'NOT_READY' })).toBe('in_progress');
    expect(receiptStatus({}, 'L1', { state: 'CONDITIONAL' })).toBe('conditional');
    expect(receiptStatus({}, 'L1', { state: 'READY' })).toBe('ready');
    expect(plannedReceiptStatusMessage({ ...PO, lotNumber: 'L9' }, null, null, AT).payload.receiptStatus).toBe('lot_assigned');
  });
});
