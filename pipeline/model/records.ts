// Canonical fields of each record kind a mapping may emit: the contract between
// mapping files and the store. `schemas.ts` turns this into JSON Schemas for ajv.
//
// Lot references: every kind marked `lotRef` must name its lot through at least one
// identifier (a mapping field with `xref: <scheme>`, which lands in MappedRecord.ids)
// or through `lotNumber` (+ optional `materialId`), or through `poNumber` (+ `poItem`)
// of an open PO line. Resolution happens in the store; unresolvable → E_UNKNOWN_LOT.

import type { RecordKind } from './types.js';

export type FieldType = 'string' | 'decimal' | 'integer' | 'date' | 'datetime' | 'boolean' | 'string[]';

export interface FieldDef {
  type: FieldType;
  required?: boolean;
  enum?: readonly string[];
}

export interface KindDef {
  lotRef: boolean;
  fields: Record<string, FieldDef>;
}

const s = (required = false): FieldDef => ({ type: 'string', required });
const d = (required = false): FieldDef => ({ type: 'decimal', required });
const date = (required = false): FieldDef => ({ type: 'date', required });
const dt = (required = false): FieldDef => ({ type: 'datetime', required });
const e = (values: readonly string[], required = false): FieldDef => ({ type: 'string', enum: values, required });

// Lot-reference fields allowed on every lotRef kind (besides xref identifiers).
const lotRefFields = { lotNumber: s(), materialId: s(), poNumber: s(), poItem: s() };

export const RECORD_KINDS: Record<RecordKind, KindDef> = {
  material: {
    lotRef: false,
    fields: { materialId: s(true), description: s(), gtin: s(), ndc: s(), productFamily: s(), uom: s() },
  },
  purchase_order: {
    lotRef: false,
    fields: {
      poNumber: s(true), poItem: s(true), materialId: s(true), quantity: d(), uom: s(), vendor: s(true),
      plannedDate: date(), confirmedDate: date(), lotNumber: s(), vendorBatch: s(), status: e(['open', 'closed', 'cancelled']),
    },
  },
  // A lot master record (ERP) or a CMO's batch header. Creates the lot when ERP sends it;
  // from a CMO it updates an existing lot (resolved through ids) and records new cross-references.
  lot: {
    lotRef: true,
    fields: {
      ...lotRefFields, expiryDate: date(), manufactureDate: date(), quantity: d(), uom: s(), site: s(),
      vendor: s(), vendorBatch: s(), qualityState: s(),
    },
  },
  // An explicit cross-reference row: the lot (resolved by ids / lotNumber) also has identifier scheme:value.
  lot_identifier: {
    lotRef: true,
    fields: { ...lotRefFields, scheme: e(['cmo_batch', 'lims_sample', 'erp_lot', 'vendor_batch', 'gtin_lot'], true), value: s(true), issuer: s() },
  },
  stage_event: {
    lotRef: true,
    fields: {
      ...lotRefFields, stage: s(true), status: e(['started', 'completed', 'on_hold', 'aborted'], true), eventTime: dt(true), site: s(),
    },
  },
  test_result: {
    lotRef: true,
    fields: {
      ...lotRefFields, sampleId: s(), testCode: s(true), testName: s(), method: s(),
      // `result` is the value as sent ("<0.05", "ND", "99.8"); the engine splits it into
      // resultRaw / resultValue / qualifier.
      resultRaw: s(), resultValue: d(), qualifier: e(['<', '>', '<=', '>=', 'ND', '<LOQ']),
      unit: s(), specLow: d(), specHigh: d(), specText: s(),
      resultStatus: e(['preliminary', 'final', 'retracted']), testedAt: dt(), analyst: s(),
      // A re-measurement's replicate / sequence number: part of the result's key, so both are kept.
      replicate: s(),
    },
  },
  document: {
    lotRef: true,
    fields: {
      ...lotRefFields, type: e(['coa', 'batch_record', 'packaging_record', 'test_report', 'label_approval'], true),
      docId: s(true), version: { type: 'integer' }, issuedAt: dt(), supersedes: s(),
    },
  },
  deviation: {
    lotRef: true,
    fields: {
      ...lotRefFields, partnerRef: s(true), qmsRef: s(), title: s(),
      classification: e(['minor', 'major', 'critical'], true),
      status: e(['open', 'investigation', 'closed', 'cancelled'], true),
      capaRefs: { type: 'string[]' }, openedAt: dt(true), closedAt: dt(), updatedAt: dt(),
    },
  },
  disposition: {
    lotRef: true,
    fields: { ...lotRefFields, decision: e(['released', 'rejected', 'quarantine'], true), decidedBy: s(), decidedAt: dt(true) },
  },
};
