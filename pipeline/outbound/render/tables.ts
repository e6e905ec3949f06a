// Flattens a message into a table for CSV: one line per reason (readiness, disposition request),
// per affected lot (deviation), or one line (planned receipt). Every line repeats the message and
// lot columns so a spreadsheet filter or an ERP import never has to look at another line.
// It reads the payload defensively: messages come back from the outbox as parsed JSON.

import type { OutboundMessage } from '../messages.js';
import { TOPICS } from '../messages.js';
import type { CsvCell } from './csv.js';

export interface Table {
  columns: string[];
  rows: CsvCell[][];
}

type Obj = Record<string, unknown>;

const MESSAGE_COLUMNS = ['message_id', 'topic', 'key', 'created_at'];
const LOT_COLUMNS = ['material_id', 'lot_number', 'vendor', 'vendor_batch', 'site', 'expiry_date', 'manufacture_date', 'quantity', 'uom'];

export function messageTable(msg: OutboundMessage): Table {
  switch (msg.topic) {
    case TOPICS.lotReadiness:
    case TOPICS.dispositionRequest:
      return readinessTable(msg);
    case TOPICS.deviation:
      return deviationTable(msg);
    case TOPICS.plannedReceiptStatus:
      return plannedReceiptTable(msg);
    default:
      return genericTable(msg);
  }
}

function head(msg: OutboundMessage): CsvCell[] {
  return [msg.id, msg.topic, msg.key, msg.createdAt];
}

function lotCells(lot: Obj): CsvCell[] {
  return [cell(lot.materialId), cell(lot.lotNumber), cell(lot.vendor), cell(lot.vendorBatch), cell(lot.site), cell(lot.expiryDate), cell(lot.manufactureDate), cell(lot.quantity), cell(lot.uom)];
}

function readinessTable(msg: OutboundMessage): Table {
  const lot = obj(msg.payload.lot);
  const r = obj(msg.payload.readiness);
  const columns = [...MESSAGE_COLUMNS, ...LOT_COLUMNS, 'state', 'late', 'late_stages', 'reason_code', 'reason_severity', 'reason_message', 'evidence'];
  const base = [...head(msg), ...lotCells(lot), cell(r.state), cell(r.late), lateStagesText(r.lateStages)];
  const reasons = arr(r.reasons).map(obj);
  const rows = reasons.length
    ? reasons.map((reason) => [...base, cell(reason.code), cell(reason.severity), cell(reason.message), evidenceText(reason.evidence)])
    : [[...base, null, null, null, null]];
  return { columns, rows };
}

function deviationTable(msg: OutboundMessage): Table {
  const p = msg.payload;
  const columns = [
    ...MESSAGE_COLUMNS, 'partner_ref', 'issuer', 'qms_ref', 'title', 'classification', 'status', 'capa_refs',
    'opened_at', 'closed_at', 'updated_at', 'material_id', 'lot_number',
  ];
  const base = [
    ...head(msg), cell(p.partnerRef), cell(p.issuer), cell(p.qmsRef), cell(p.title), cell(p.classification), cell(p.status),
    arr(p.capaRefs).map(String).join(' | '), cell(p.openedAt), cell(p.closedAt), cell(p.updatedAt),
  ];
  const lots = arr(p.affectedLots).map(obj);
  const rows = lots.length ? lots.map((l) => [...base, cell(l.materialId), cell(l.lotNumber)]) : [[...base, null, null]];
  return { columns, rows };
}

function plannedReceiptTable(msg: OutboundMessage): Table {
  const po = obj(msg.payload.po);
  const lot = obj(msg.payload.lot);
  const r = obj(msg.payload.readiness);
  const columns = [
    ...MESSAGE_COLUMNS, 'po_number', 'po_item', 'material_id', 'quantity', 'uom', 'vendor', 'planned_date', 'confirmed_date', 'po_status',
    'lot_number', 'expiry_date', 'lot_quantity', 'state', 'late', 'late_stages', 'receipt_status',
  ];
  const row = [
    ...head(msg), cell(po.poNumber), cell(po.poItem), cell(po.materialId), cell(po.quantity), cell(po.uom), cell(po.vendor),
    cell(po.plannedDate), cell(po.confirmedDate), cell(po.status), cell(msg.payload.lotNumber), cell(lot.expiryDate), cell(lot.quantity),
    cell(r.state), cell(r.late), lateStagesText(r.lateStages), cell(msg.payload.receiptStatus),
  ];
  return { columns, rows: [row] };
}

/** Any other topic: one line, one column per leaf (dotted path); arrays as JSON. */
function genericTable(msg: OutboundMessage): Table {
  const leaves: [string, CsvCell][] = [];
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else {
      leaves.push([path, Array.isArray(value) ? JSON.stringify(value) : cell(value)]);
    }
  };
  walk(msg.payload, '');
  return { columns: [...MESSAGE_COLUMNS, ...leaves.map(([k]) => k)], rows: [[...head(msg), ...leaves.map(([, v]) => v)]] };
}

function lateStagesText(v: unknown): string {
  return arr(v)
    .map(obj)
    .map((s) => `${String(s.stage ?? '')} due ${String(s.dueDate ?? '')}`)
    .join(' | ');
}

function evidenceText(v: unknown): string {
  return arr(v)
    .map(obj)
    .map((e) => `${String(e.kind ?? '')}:${String(e.ref ?? '')}${e.detail ? ` (${String(e.detail)})` : ''}`)
    .join(' | ');
}

function cell(v: unknown): CsvCell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
