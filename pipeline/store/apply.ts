// Writes one MappedRecord of any kind: checks its fields, resolves its lot, writes the fact.
// A record that cannot be applied comes back as a coded RowError, never as a partial write
// (the Store runs this inside a savepoint and rolls it back on error).

import type { DeviationClass, DeviationStatus, DispositionDecision, DocumentType, IdRef, IdScheme, MappedRecord, PartnerConfig, Qualifier, ResultStatus, RowError, StageStatus } from '../model/types.js';
import { ID_SCHEMES } from '../model/types.js';
import { factCredit, insertDisposition, insertStageEvent, upsertDeviation, upsertDocument, upsertTestResult, type FactTable } from './facts.js';
import {
  addIdentifier,
  getLotKey,
  getPurchaseOrder,
  lotIdsForMaterial,
  lotIdsForPoLine,
  updateLotAttributes,
  upsertLot,
  upsertMaterial,
  upsertPurchaseOrder,
} from './masterdata.js';
import { learnIdentifiers, ResolutionWrites, resolveLot, type ResolveResult } from './resolve.js';
import type { Sql } from './sql.js';
import type { LotRef, Prov, WriteResult } from './types.js';
import type { ErrorCode } from '../codes.js';

export type ApplyResult = { lotIds: number[]; fact?: FactWrite } | { error: RowError };

/**
 * Set when the record wrote a lot fact that an earlier row of the same submission had written
 * (same fact key): the two rows overwrite each other, and only one of them is stored.
 */
export interface FactWrite {
  /** The key in words, e.g. `test_result ASSAY, sample S-1, lot NW26-0411`. */
  key: string;
  /** Line of this submission the fact was credited to before this write. */
  priorLine: number | null;
  /** Line of this submission it is credited to now (null: an earlier submission keeps the credit). */
  heldByLine: number | null;
}

function factWrite(sql: Sql, table: FactTable, w: WriteResult, prov: Prov, key: () => string): FactWrite | undefined {
  if (prov.submissionId === null || w.prior === undefined || w.prior.submissionId !== prov.submissionId) return undefined;
  const now = factCredit(sql, table, w.id);
  return { key: key(), priorLine: w.prior.line, heldByLine: now.submissionId === prov.submissionId ? now.line : null };
}

export const lotWords = (rec: MappedRecord): string => {
  const n = rec.fields.lotNumber;
  return typeof n === 'string' && n !== '' ? `lot ${n}` : (rec.ids ?? []).map((i) => `${i.scheme} ${i.value}`).join(', ') || 'the lot';
};

export const STAGE_STATUSES: readonly StageStatus[] = ['started', 'completed', 'on_hold', 'aborted'];
export const RESULT_STATUSES: readonly ResultStatus[] = ['preliminary', 'final', 'retracted'];
export const QUALIFIERS: readonly Qualifier[] = ['<', '>', '<=', '>=', 'ND', '<LOQ'];
export const DOC_TYPES: readonly DocumentType[] = ['coa', 'batch_record', 'packaging_record', 'test_report', 'label_approval'];
export const DEV_CLASSES: readonly DeviationClass[] = ['minor', 'major', 'critical'];
export const DEV_STATUSES: readonly DeviationStatus[] = ['open', 'investigation', 'closed', 'cancelled'];
export const DECISIONS: readonly DispositionDecision[] = ['released', 'rejected', 'quarantine'];
export const PO_STATUSES = ['open', 'closed', 'cancelled'] as const;

/** Thrown inside the reader to stop at the first bad field; caught in applyRecord. */
export class FieldProblem {
  constructor(readonly error: RowError) {}
}

export class FieldReader {
  constructor(
    private readonly fields: Record<string, unknown>,
    private readonly line: number,
  ) {}

  private problem(field: string, code: ErrorCode, message: string, value?: unknown): never {
    const error: RowError = { line: this.line, field, code, message };
    if (value !== undefined && value !== null) error.value = String(value);
    throw new FieldProblem(error);
  }

  str(k: string, required: true): string;
  str(k: string, required?: boolean): string | null;
  str(k: string, required = false): string | null {
    const v = this.fields[k];
    let s: string | null = null;
    if (v instanceof Date) s = v.toISOString();
    else if (typeof v === 'string') s = v.trim() === '' ? null : v;
    else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
    else if (v != null) this.problem(k, 'E_BAD_VALUE', `Field ${k} must be text.`, JSON.stringify(v));
    if (s === null && required) this.problem(k, 'E_REQUIRED', `Field ${k} is required.`);
    return s;
  }

  num(k: string): number | null {
    const v = this.fields[k];
    if (v == null || v === '') return null;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
    if (!Number.isFinite(n)) this.problem(k, 'E_BAD_NUMBER', `Field ${k} must be a number.`, v);
    return n;
  }

  int(k: string): number | null {
    const n = this.num(k);
    if (n !== null && !Number.isInteger(n)) this.problem(k, 'E_BAD_NUMBER', `Field ${k} must be a whole number.`, n);
    return n;
  }

  oneOf<T extends string>(k: string, values: readonly T[], required: true): T;
  oneOf<T extends string>(k: string, values: readonly T[], required?: boolean): T | null;
  oneOf<T extends string>(k: string, values: readonly T[], required = false): T | null {
    const s = this.str(k, required);
    if (s === null) return null;
    if (!(values as readonly string[]).includes(s)) this.problem(k, 'E_BAD_VALUE', `Field ${k} must be one of ${values.join(', ')}.`, s);
    return s as T;
  }

  list(k: string): string[] {
    const v = this.fields[k];
    if (v == null || v === '') return [];
    if (Array.isArray(v)) return v.filter((x) => x != null && x !== '').map(String);
    if (typeof v === 'string') return v.split(',').map((x) => x.trim()).filter((x) => x !== '');
    return this.problem(k, 'E_BAD_VALUE', `Field ${k} must be a list of text.`, JSON.stringify(v));
  }

  lotRef(ids: IdRef[]): LotRef {
    const ref: LotRef = { ids };
    const lotNumber = this.str('lotNumber');
    const materialId = this.str('materialId');
    const poNumber = this.str('poNumber');
    const poItem = this.str('poItem');
    if (lotNumber !== null) ref.lotNumber = lotNumber;
    if (materialId !== null) ref.materialId = materialId;
    if (poNumber !== null) ref.poNumber = poNumber;
    if (poItem !== null) ref.poItem = poItem;
    return ref;
  }
}

export function applyRecord(sql: Sql, partner: PartnerConfig, rec: MappedRecord, prov: Prov): ApplyResult {
  const p: Prov = { ...prov, line: prov.line ?? rec.line };
  try {
    return applyKind(sql, partner, rec, p, new FieldReader(rec.fields ?? {}, p.line ?? rec.line));
  } catch (e) {
    if (e instanceof FieldProblem) return { error: e.error };
    throw e;
  }
}

function applyKind(sql: Sql, partner: PartnerConfig, rec: MappedRecord, prov: Prov, f: FieldReader): ApplyResult {
  const sponsorSystem = partner.role === 'erp' || partner.role === 'qms';
  const scopeError = (message: string): ApplyResult => ({ error: { line: prov.line, code: 'E_PARTNER_SCOPE', message } });
  const resolve = (): ResolveResult => resolveLot(sql, partner, f.lotRef(rec.ids ?? []), prov);

  switch (rec.kind) {
    case 'material': {
      const materialId = f.str('materialId', true);
      if (!sponsorSystem) return scopeError(`Partner ${partner.id} (${partner.role}) may not send material master data.`);
      upsertMaterial(
        sql,
        { materialId, description: f.str('description'), gtin: f.str('gtin'), ndc: f.str('ndc'), productFamily: f.str('productFamily'), uom: f.str('uom') },
        prov,
      );
      return { lotIds: lotIdsForMaterial(sql, materialId) };
    }

    case 'purchase_order': {
      const po = {
        poNumber: f.str('poNumber', true),
        poItem: f.str('poItem', true),
        materialId: f.str('materialId', true),
        vendor: f.str('vendor', true),
        quantity: f.num('quantity'),
        uom: f.str('uom'),
        plannedDate: f.str('plannedDate'),
        confirmedDate: f.str('confirmedDate'),
        lotNumber: f.str('lotNumber'),
        vendorBatch: f.str('vendorBatch'),
        status: f.oneOf('status', PO_STATUSES),
      };
      // A CMO may confirm dates on its own PO lines, never touch anyone else's.
      if (partner.role !== 'erp') {
        const existing = getPurchaseOrder(sql, po.poNumber, po.poItem);
        if (po.vendor !== partner.id || (existing && existing.vendor !== partner.id)) {
          return scopeError(`Partner ${partner.id} may not change PO ${po.poNumber}/${po.poItem}: it is not the vendor.`);
        }
      }
      upsertPurchaseOrder(sql, po, prov);
      return { lotIds: lotIdsForPoLine(sql, po.poNumber, po.poItem) };
    }

    case 'lot': {
      const attrs = {
        expiryDate: f.str('expiryDate'),
        manufactureDate: f.str('manufactureDate'),
        quantity: f.num('quantity'),
        uom: f.str('uom'),
        site: f.str('site'),
        qualityState: f.str('qualityState'),
        poNumber: f.str('poNumber'),
        poItem: f.str('poItem'),
      };
      const vendorBatch = f.str('vendorBatch');
      if (partner.role === 'erp') {
        // The ERP owns the key: it creates the lot.
        const erpLot = (rec.ids ?? []).find((i) => i.scheme === 'erp_lot')?.value;
        const lotNumber = f.str('lotNumber') ?? (erpLot?.trim() || null);
        if (!lotNumber) return { error: { line: prov.line, field: 'lotNumber', code: 'E_REQUIRED', message: 'A lot record from the ERP needs lotNumber.' } };
        const materialId = f.str('materialId', true);
        const vendor = f.str('vendor');
        const { lotId } = upsertLot(sql, materialId, lotNumber, { ...attrs, vendor }, prov);
        for (const id of rec.ids ?? []) {
          if (id.scheme !== 'erp_lot' && id.value?.trim()) addIdentifier(sql, lotId, { scheme: id.scheme, value: id.value.trim() }, partner.id, prov);
        }
        // The vendor's batch number is the vendor's identifier: recorded as issued by it, so the
        // CMO's own files resolve through it.
        const issuer = vendor ?? getLotKey(sql, lotId)?.vendor;
        if (vendorBatch && issuer) addIdentifier(sql, lotId, { scheme: 'vendor_batch', value: vendorBatch }, issuer, prov);
        return { lotIds: [lotId] };
      }
      const r = resolve();
      if ('error' in r) return r;
      updateLotAttributes(sql, r.lotId, attrs, prov);
      if (vendorBatch) addIdentifier(sql, r.lotId, { scheme: 'vendor_batch', value: vendorBatch }, partner.id, prov);
      return { lotIds: [r.lotId] };
    }

    case 'lot_identifier': {
      const scheme = f.oneOf<IdScheme>('scheme', ID_SCHEMES, true);
      const value = f.str('value', true).trim();
      const issuer = f.str('issuer') ?? partner.id;
      // Only the sponsor's own systems may vouch for another partner's numbers; anyone else
      // doing so could plant identifiers that resolve into a lot that is not theirs.
      if (issuer !== partner.id && !sponsorSystem) {
        return scopeError(`Partner ${partner.id} may only record its own identifiers (issuer ${issuer} given).`);
      }
      const r = resolve();
      if ('error' in r) return r;
      if (scheme === 'erp_lot') {
        const lot = getLotKey(sql, r.lotId)!;
        if (lot.lot_number !== value) {
          return { error: { line: prov.line, field: 'value', code: 'E_ID_CONFLICT', message: `erp_lot ${value} is not the lot number of lot ${lot.lot_number}.`, value } };
        }
        return { lotIds: [r.lotId] };
      }
      addIdentifier(sql, r.lotId, { scheme, value }, issuer, prov);
      return { lotIds: [r.lotId] };
    }

    case 'stage_event': {
      const e = {
        stage: f.str('stage', true),
        status: f.oneOf('status', STAGE_STATUSES, true),
        eventTime: f.str('eventTime', true),
        site: f.str('site'),
      };
      const r = resolve();
      if ('error' in r) return r;
      const w = insertStageEvent(sql, r.lotId, e, prov);
      return { lotIds: [r.lotId], fact: factWrite(sql, 'stage_events', w, prov, () => `stage_event ${e.stage} ${e.status} at ${e.eventTime}, ${lotWords(rec)}`) };
    }

    case 'test_result':
      return applyTestResult(sql, partner, rec, prov, f, false);

    case 'document': {
      const d = {
        type: f.oneOf('type', DOC_TYPES, true),
        docId: f.str('docId', true),
        version: f.int('version') ?? 1,
        sha256: f.str('sha256'),
        storedPath: f.str('storedPath'),
        issuedAt: f.str('issuedAt'),
        supersedes: f.str('supersedes'),
      };
      const r = resolve();
      if ('error' in r) return r;
      const w = upsertDocument(sql, r.lotId, d, prov);
      return { lotIds: [r.lotId], fact: factWrite(sql, 'documents', w, prov, () => `document ${d.type} ${d.docId} version ${d.version}, ${lotWords(rec)}`) };
    }

    case 'deviation': {
      const d = {
        partnerRef: f.str('partnerRef', true),
        classification: f.oneOf('classification', DEV_CLASSES, true),
        status: f.oneOf('status', DEV_STATUSES, true),
        openedAt: f.str('openedAt', true),
        qmsRef: f.str('qmsRef'),
        title: f.str('title'),
        capaRefs: f.list('capaRefs'),
        closedAt: f.str('closedAt'),
        updatedAt: f.str('updatedAt'),
      };
      const lots = resolveDeviationLots(sql, partner, f.lotRef(rec.ids ?? []), prov);
      if ('error' in lots) return lots;
      const w = upsertDeviation(sql, lots.lotIds, d, partner.id, prov);
      const fact = factWrite(sql, 'deviations', w, prov, () => `deviation ${d.partnerRef} as of ${d.updatedAt ?? d.closedAt ?? d.openedAt}`);
      return fact ? { ...lots, fact } : lots;
    }

    case 'disposition': {
      const d = {
        decision: f.oneOf('decision', DECISIONS, true),
        decidedAt: f.str('decidedAt', true),
        decidedBy: f.str('decidedBy'),
      };
      const r = resolve();
      if ('error' in r) return r;
      const w = insertDisposition(sql, r.lotId, d, prov);
      return { lotIds: [r.lotId], fact: factWrite(sql, 'dispositions', w, prov, () => `disposition at ${d.decidedAt}, ${lotWords(rec)}`) };
    }

    default:
      return { error: { line: prov.line, code: 'E_UNKNOWN_KIND', message: `Unknown record kind ${String((rec as MappedRecord).kind)}.` } };
  }
}

/**
 * Applies a record WITHOUT a savepoint of its own, when its kind allows it: every check and the
 * lot resolution come before its first write, the fact is ONE write statement (SQLite undoes a
 * failing statement by itself), and the identifiers learned from it are written after the fact
 * and cannot fail. So a row either fails before writing anything, or is written whole.
 * Returns undefined for kinds that may write more than once before they can fail (the caller
 * uses applyRecord in a savepoint); throws ResolutionWrites when resolution itself would have to
 * write first (a lot created from an open PO line) — nothing is written then either.
 * Only inside the caller's transaction: the learned identifiers must commit with the fact.
 */
export function applyRecordDirect(sql: Sql, partner: PartnerConfig, rec: MappedRecord, prov: Prov): ApplyResult | undefined {
  if (rec.kind !== 'test_result') return undefined;
  const p: Prov = { ...prov, line: prov.line ?? rec.line };
  try {
    return applyTestResult(sql, partner, rec, p, new FieldReader(rec.fields ?? {}, p.line ?? rec.line), true);
  } catch (e) {
    if (e instanceof FieldProblem) return { error: e.error };
    throw e;
  }
}

function applyTestResult(sql: Sql, partner: PartnerConfig, rec: MappedRecord, prov: Prov, f: FieldReader, direct: boolean): ApplyResult {
  const t = {
    testCode: f.str('testCode', true),
    sampleId: f.str('sampleId'),
    testName: f.str('testName'),
    method: f.str('method'),
    resultRaw: f.str('resultRaw'),
    resultValue: f.num('resultValue'),
    qualifier: f.oneOf('qualifier', QUALIFIERS),
    unit: f.str('unit'),
    specLow: f.num('specLow'),
    specHigh: f.num('specHigh'),
    specText: f.str('specText'),
    resultStatus: f.oneOf('resultStatus', RESULT_STATUSES) ?? 'final',
    testedAt: f.str('testedAt'),
    analyst: f.str('analyst'),
    replicate: f.str('replicate'),
  };
  const r = resolveLot(sql, partner, f.lotRef(rec.ids ?? []), prov, { readOnly: direct });
  if ('error' in r) return r;
  // The schema only knows these schemes: an identifier it would refuse must not fail after the fact.
  if (direct && r.learned.some((id) => !(ID_SCHEMES as readonly string[]).includes(id.scheme))) throw new ResolutionWrites();
  const w = upsertTestResult(sql, r.lotId, t, prov);
  if (direct) learnIdentifiers(sql, r.lotId, r.learned, partner, prov);
  const key = (): string =>
    [`test_result ${t.testCode}`, t.sampleId ? `sample ${t.sampleId}` : null, t.testedAt ? `tested ${t.testedAt}` : null, t.replicate ? `replicate ${t.replicate}` : null, lotWords(rec)].filter(Boolean).join(', ');
  return { lotIds: [r.lotId], fact: factWrite(sql, 'test_results', w, prov, key) };
}

/**
 * A deviation may affect several lots, named by several identifiers. First try them as one
 * reference (several numbers of one lot, unknown ones learned); when they name different lots,
 * resolve each on its own — every one must resolve, or the row is rejected whole.
 */
function resolveDeviationLots(sql: Sql, partner: PartnerConfig, ref: LotRef, prov: Prov): ApplyResult {
  const whole = resolveLot(sql, partner, ref, prov);
  if (!('error' in whole)) return { lotIds: [whole.lotId] };
  if (whole.error.code !== 'E_ID_CONFLICT') return whole;
  const pieces: LotRef[] = ref.ids.map((id) => ({ ids: [id], ...(ref.materialId ? { materialId: ref.materialId } : {}) }));
  if (ref.lotNumber) pieces.push({ ids: [], lotNumber: ref.lotNumber, ...(ref.materialId ? { materialId: ref.materialId } : {}) });
  const lotIds: number[] = [];
  for (const piece of pieces) {
    const r = resolveLot(sql, partner, piece, prov);
    if ('error' in r) return r;
    if (!lotIds.includes(r.lotId)) lotIds.push(r.lotId);
  }
  return { lotIds };
}
