// The apply area of the async store: one mapped record of a partner's file written to the store,
// all or nothing — its fields checked, its lot resolved, its fact written, the identifiers it
// taught learned. One implementation for both dialects (db/db.ts), built on the masterdata and
// facts areas.
//
// applyRecord wraps each record in a savepoint that is rolled back when the record is rejected
// half-way (applyUnguarded → applyKind → applyTestResult, resolveDeviationLots … below), and a
// value the record's checks let through but the schema refuses is the row's fault (E_INVALID_VALUE).
// The store hands this area out as `apply` (areas/index.ts asyncStore).
//
// Dialect differences:
// - A constraint error is SQLITE_CONSTRAINT_CHECK / _NOTNULL on SQLite, SQLSTATE 23514
//   check_violation / 23502 not_null_violation on PostgreSQL: both map to E_INVALID_VALUE.
// - The savepoint-less path (applyRecordDirect) relies on SQLite undoing a failing statement by
//   itself while the transaction goes on. On PostgreSQL a failing statement aborts the whole
//   transaction, so there a test result skips its savepoint only when none of its statements can
//   be refused for the row's sake: the FieldReader has already held its values to the schema's
//   CHECK and NOT NULL lists (test code required; qualifier, result status, schemes from the same
//   constants), lots and submissions exist, and the key conflict is handled by ON CONFLICT. What
//   is left (deadlock, timeout, a lost connection, a NUL byte) fails the file with a savepoint as
//   without one. Should the store still refuse a value there, the error is thrown, never turned
//   into a row error on an aborted transaction. That saves 4 of ~7 round trips per row (the
//   record's and the resolution's SAVEPOINT/RELEASE).

import type { MappedRecord, PartnerConfig, RowError } from '../../model/types.js';
import { ID_SCHEMES, type IdScheme } from '../../model/types.js';
import {
  DECISIONS,
  DEV_CLASSES,
  DEV_STATUSES,
  DOC_TYPES,
  FieldProblem,
  FieldReader,
  lotWords,
  PO_STATUSES,
  STAGE_STATUSES,
  learnsUnknownScheme,
  readTestResult,
  testResultWords,
  type ApplyResult,
  type FactWrite,
} from './apply-fields.js';
import type { Db } from '../db/db.js';
import type { FactTable } from './facts-rule.js';
import { ResolutionWrites, type ResolveResult } from './resolution.js';
import { applyTestResultRun } from './apply-batch.js';
import type { LotRef, Prov, WriteResult } from '../types.js';
import { factsArea, type FactsArea } from './facts.js';
import { masterdataArea, type MasterDataArea } from './masterdata.js';

export type { ApplyResult, FactWrite } from './apply-fields.js';

export interface ApplyOptions {
  /** 'always': every record in a savepoint; 'when-needed' (default): see applyRecordDirect. */
  savepoint?: 'always' | 'when-needed';
}

export interface ApplyArea {
  /**
   * Resolves (when the kind names a lot) and writes one mapped record, all or
   * nothing. Returns the lots whose readiness may have changed, or the coded reason it was not
   * applied; a rejected record leaves no trace, and the caller's transaction goes on.
   */
  applyRecord(partner: PartnerConfig, rec: MappedRecord, prov: Prov, opts?: ApplyOptions): Promise<ApplyResult>;
  /**
   * The record WITHOUT a savepoint of its own when that is safe
   * (test results, inside the caller's transaction; see the header for PostgreSQL); undefined when the caller must use
   * applyRecord's savepoint; throws ResolutionWrites when resolution would write first (nothing
   * written then). A constraint error of its one fact statement is thrown as is.
   */
  applyRecordDirect(partner: PartnerConfig, rec: MappedRecord, prov: Prov): Promise<ApplyResult | undefined>;
  /**
   * Records of one file in order, inside the caller's transaction: the results applyRecord
   * ('when-needed') gives called for each in turn, with each run of test results applied
   * together in a few statements (apply-batch.ts). Outside a transaction, applyRecord for each.
   */
  applyRecords(partner: PartnerConfig, records: readonly MappedRecord[], provOf: (rec: MappedRecord) => Prov): Promise<ApplyResult[]>;
}

export function applyArea(db: Db): ApplyArea {
  return {
    applyRecord: (partner, rec, prov, opts) => applyRecord(db, partner, rec, prov, opts ?? {}),
    applyRecordDirect: (partner, rec, prov) => applyRecordDirect(db, partner, rec, prov),
    applyRecords: (partner, records, provOf) => applyRecords(db, partner, records, provOf),
  };
}

async function applyRecords(db: Db, partner: PartnerConfig, records: readonly MappedRecord[], provOf: (rec: MappedRecord) => Prov): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  let i = 0;
  while (i < records.length) {
    let end = i;
    if (db.inTransaction) while (end < records.length && records[end].kind === 'test_result') end++;
    if (end > i) {
      const run = await applyTestResultRun(db, partner, records.slice(i, end), provOf);
      out.push(...run);
      i += run.length;
      if (i === end) continue;
    }
    // Not a test result, or a test result whose resolution writes first: its own savepoint.
    out.push(await applyRecord(db, partner, records[i], provOf(records[i]), { savepoint: end > i ? 'always' : 'when-needed' }));
    i++;
  }
  return out;
}

// ---------------------------------------------------------------- the Store's wrapper

/** The constraint errors of both dialects that mean "the schema refuses this value". */
const REFUSED_CODES = new Set(['SQLITE_CONSTRAINT_CHECK', 'SQLITE_CONSTRAINT_NOTNULL', '23514', '23502']);

/** store.ts's refusedByStore: a value the record's checks let through but the schema refuses is still the row's fault. */
export function refusedByStore(e: unknown, rec: MappedRecord, prov: Prov): { error: RowError } | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && REFUSED_CODES.has(code)) {
    return { error: { line: prov.line ?? rec.line, code: 'E_INVALID_VALUE', message: `The ${rec.kind} record was refused by the store: ${(e as Error).message}` } };
  }
  return undefined;
}

/** Carries a RowError out of the record's savepoint so that the savepoint is rolled back. */
class Rejected {
  constructor(readonly result: { error: RowError }) {}
}

async function applyRecord(db: Db, partner: PartnerConfig, rec: MappedRecord, prov: Prov, opts: ApplyOptions): Promise<ApplyResult> {
  // Inside the file's transaction a record that cannot half-fail skips its savepoint.
  if (opts.savepoint !== 'always' && db.inTransaction) {
    try {
      const direct = await applyRecordDirect(db, partner, rec, prov);
      if (direct) return direct;
    } catch (e) {
      if (!(e instanceof ResolutionWrites)) {
        // Nothing of this record was written (the one fact statement failed whole); on
        // PostgreSQL the transaction is aborted, so the error is the file's (see the header).
        const refused = db.dialect === 'sqlite' ? refusedByStore(e, rec, prov) : undefined;
        if (refused) return refused;
        throw e;
      }
    }
  }
  // Each record in its own savepoint (a transaction of its own outside one): a record rejected
  // half-way leaves no trace, while the file's transaction goes on with the next row.
  try {
    return await db.transaction(async (tx) => {
      const r = await applyUnguarded(tx, partner, rec, prov);
      if ('error' in r) throw new Rejected(r);
      return r;
    });
  } catch (e) {
    if (e instanceof Rejected) return e.result;
    const refused = refusedByStore(e, rec, prov);
    if (refused) return refused;
    throw e;
  }
}

// ---------------------------------------------------------------- one record, by kind

/** The handles one record works with, all on the same Db (the record's savepoint, or the caller's transaction). */
interface On {
  db: Db;
  md: MasterDataArea;
  facts: FactsArea;
}

const on = (db: Db): On => ({ db, md: masterdataArea(db), facts: factsArea(db) });

/** One record with no savepoint of its own (the caller gives it one: applyRecord). */
async function applyUnguarded(db: Db, partner: PartnerConfig, rec: MappedRecord, prov: Prov): Promise<ApplyResult> {
  const p: Prov = { ...prov, line: prov.line ?? rec.line };
  try {
    return await applyKind(on(db), partner, rec, p, new FieldReader(rec.fields ?? {}, p.line ?? rec.line));
  } catch (e) {
    if (e instanceof FieldProblem) return { error: e.error };
    throw e;
  }
}

async function applyRecordDirect(db: Db, partner: PartnerConfig, rec: MappedRecord, prov: Prov): Promise<ApplyResult | undefined> {
  // Test results only; on PostgreSQL too, whose statements here cannot be refused for the row's sake (see the header).
  if (rec.kind !== 'test_result') return undefined;
  const p: Prov = { ...prov, line: prov.line ?? rec.line };
  try {
    return await applyTestResult(on(db), partner, rec, p, new FieldReader(rec.fields ?? {}, p.line ?? rec.line), true);
  } catch (e) {
    if (e instanceof FieldProblem) return { error: e.error };
    throw e;
  }
}

async function factWrite(o: On, table: FactTable, w: WriteResult, prov: Prov, key: () => string): Promise<FactWrite | undefined> {
  if (prov.submissionId === null || w.prior === undefined || w.prior.submissionId !== prov.submissionId) return undefined;
  const now = await o.facts.factCredit(table, w.id);
  return { key: key(), priorLine: w.prior.line, heldByLine: now.submissionId === prov.submissionId ? now.line : null };
}

async function applyKind(o: On, partner: PartnerConfig, rec: MappedRecord, prov: Prov, f: FieldReader): Promise<ApplyResult> {
  const { md, facts } = o;
  const sponsorSystem = partner.role === 'erp' || partner.role === 'qms';
  const scopeError = (message: string): ApplyResult => ({ error: { line: prov.line, code: 'E_PARTNER_SCOPE', message } });
  const resolve = (): Promise<ResolveResult> => md.resolveLot(partner, f.lotRef(rec.ids ?? []), prov);

  switch (rec.kind) {
    case 'material': {
      const materialId = f.str('materialId', true);
      if (!sponsorSystem) return scopeError(`Partner ${partner.id} (${partner.role}) may not send material master data.`);
      await md.upsertMaterial(
        { materialId, description: f.str('description'), gtin: f.str('gtin'), ndc: f.str('ndc'), productFamily: f.str('productFamily'), uom: f.str('uom') },
        prov,
      );
      return { lotIds: await md.lotIdsForMaterial(materialId) };
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
        const existing = await md.getPurchaseOrder(po.poNumber, po.poItem);
        if (po.vendor !== partner.id || (existing && existing.vendor !== partner.id)) {
          return scopeError(`Partner ${partner.id} may not change PO ${po.poNumber}/${po.poItem}: it is not the vendor.`);
        }
      }
      await md.upsertPurchaseOrder(po, prov);
      return { lotIds: await md.lotIdsForPoLine(po.poNumber, po.poItem) };
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
        const { lotId } = await md.upsertLot(materialId, lotNumber, { ...attrs, vendor }, prov);
        for (const id of rec.ids ?? []) {
          if (id.scheme !== 'erp_lot' && id.value?.trim()) await md.addIdentifier(lotId, { scheme: id.scheme, value: id.value.trim() }, partner.id, prov);
        }
        // The vendor's batch number is the vendor's identifier: recorded as issued by it, so the
        // CMO's own files resolve through it.
        const issuer = vendor ?? (await md.getLotKey(lotId))?.vendor;
        if (vendorBatch && issuer) await md.addIdentifier(lotId, { scheme: 'vendor_batch', value: vendorBatch }, issuer, prov);
        return { lotIds: [lotId] };
      }
      const r = await resolve();
      if ('error' in r) return r;
      await md.updateLotAttributes(r.lotId, attrs, prov);
      if (vendorBatch) await md.addIdentifier(r.lotId, { scheme: 'vendor_batch', value: vendorBatch }, partner.id, prov);
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
      const r = await resolve();
      if ('error' in r) return r;
      if (scheme === 'erp_lot') {
        const lot = (await md.getLotKey(r.lotId))!;
        if (lot.lot_number !== value) {
          return { error: { line: prov.line, field: 'value', code: 'E_ID_CONFLICT', message: `erp_lot ${value} is not the lot number of lot ${lot.lot_number}.`, value } };
        }
        return { lotIds: [r.lotId] };
      }
      await md.addIdentifier(r.lotId, { scheme, value }, issuer, prov);
      return { lotIds: [r.lotId] };
    }

    case 'stage_event': {
      const e = {
        stage: f.str('stage', true),
        status: f.oneOf('status', STAGE_STATUSES, true),
        eventTime: f.str('eventTime', true),
        site: f.str('site'),
      };
      const r = await resolve();
      if ('error' in r) return r;
      const w = await facts.insertStageEvent(r.lotId, e, prov);
      return { lotIds: [r.lotId], fact: await factWrite(o, 'stage_events', w, prov, () => `stage_event ${e.stage} ${e.status} at ${e.eventTime}, ${lotWords(rec)}`) };
    }

    case 'test_result':
      return applyTestResult(o, partner, rec, prov, f, false);

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
      const r = await resolve();
      if ('error' in r) return r;
      const w = await facts.upsertDocument(r.lotId, d, prov);
      return { lotIds: [r.lotId], fact: await factWrite(o, 'documents', w, prov, () => `document ${d.type} ${d.docId} version ${d.version}, ${lotWords(rec)}`) };
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
      const lots = await resolveDeviationLots(o, partner, f.lotRef(rec.ids ?? []), prov);
      if ('error' in lots) return lots;
      const w = await facts.upsertDeviation(lots.lotIds, d, partner.id, prov);
      const fact = await factWrite(o, 'deviations', w, prov, () => `deviation ${d.partnerRef} as of ${d.updatedAt ?? d.closedAt ?? d.openedAt}`);
      return fact ? { ...lots, fact } : lots;
    }

    case 'disposition': {
      const d = {
        decision: f.oneOf('decision', DECISIONS, true),
        decidedAt: f.str('decidedAt', true),
        decidedBy: f.str('decidedBy'),
      };
      const r = await resolve();
      if ('error' in r) return r;
      const w = await facts.insertDisposition(r.lotId, d, prov);
      return { lotIds: [r.lotId], fact: await factWrite(o, 'dispositions', w, prov, () => `disposition at ${d.decidedAt}, ${lotWords(rec)}`) };
    }

    default:
      return { error: { line: prov.line, code: 'E_UNKNOWN_KIND', message: `Unknown record kind ${String((rec as MappedRecord).kind)}.` } };
  }
}

/** A test result; `direct` for applyRecordDirect (resolution read-only, identifiers learned after the fact). */
async function applyTestResult(o: On, partner: PartnerConfig, rec: MappedRecord, prov: Prov, f: FieldReader, direct: boolean): Promise<ApplyResult> {
  const t = readTestResult(f);
  const r = await o.md.resolveLot(partner, f.lotRef(rec.ids ?? []), prov, { readOnly: direct });
  if ('error' in r) return r;
  if (direct && learnsUnknownScheme(r.learned)) throw new ResolutionWrites();
  const w = await o.facts.upsertTestResult(r.lotId, t, prov);
  if (direct) await o.md.learnIdentifiers(r.lotId, r.learned, partner, prov);
  return { lotIds: [r.lotId], fact: await factWrite(o, 'test_results', w, prov, () => testResultWords(t, rec)) };
}

/**
 * A deviation may affect several lots, named by several identifiers. First try them as one
 * reference (several numbers of one lot, unknown ones learned); when they name different lots,
 * resolve each on its own — every one must resolve, or the row is rejected whole.
 */
async function resolveDeviationLots(o: On, partner: PartnerConfig, ref: LotRef, prov: Prov): Promise<ApplyResult> {
  const whole = await o.md.resolveLot(partner, ref, prov);
  if (!('error' in whole)) return { lotIds: [whole.lotId] };
  if (whole.error.code !== 'E_ID_CONFLICT') return whole;
  const pieces: LotRef[] = ref.ids.map((id) => ({ ids: [id], ...(ref.materialId ? { materialId: ref.materialId } : {}) }));
  if (ref.lotNumber) pieces.push({ ids: [], lotNumber: ref.lotNumber, ...(ref.materialId ? { materialId: ref.materialId } : {}) });
  const lotIds: number[] = [];
  for (const piece of pieces) {
    const r = await o.md.resolveLot(partner, piece, prov);
    if ('error' in r) return r;
    if (!lotIds.includes(r.lotId)) lotIds.push(r.lotId);
  }
  return { lotIds };
}
