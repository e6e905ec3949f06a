// Shared set-up for the store tests: partners, provenance, mapped records, and a SQLite store in
// a fresh temp dir (the conformance suite, conformance/harness.ts, runs on both dialects).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdRef, MappedRecord, PartnerConfig, PartnerRole, RecordKind } from '../../pipeline/model/types.js';
import type { Store } from '../../pipeline/store/store.js';
import { openStore, type OpenStore, type Prov } from '../../pipeline/store/store.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lotgate-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A SQLite store in a temp dir with a pinned clock; `cleanup` closes it and removes the dir. */
export async function tempStore(): Promise<{ store: OpenStore; path: string; dir: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'lotgate.db');
  const store = await openStore(path, { now: () => new Date('2026-03-01T12:00:00Z') });
  return {
    store,
    path,
    dir,
    cleanup: async () => {
      await store.close();
      cleanup();
    },
  };
}

export function partner(id: string, role: PartnerRole, products: string[] = []): PartnerConfig {
  return { id, name: id, role, mode: 'live', sites: [], products, feeds: [] };
}

export const ERP = partner('erp', 'erp');
export const QMS = partner('qms', 'qms');
export const ACME = partner('acme-cmo', 'cmo');
export const BETA = partner('beta-cmo', 'cmo');
export const LAB = partner('lab-one', 'lab');

let shaCounter = 0;
export function addSubmission(store: Pick<Store, 'ledger'>, partnerId: string, name = 'file.csv'): Promise<number> {
  shaCounter++;
  return store.ledger.insertSubmission({
    partner: partnerId,
    originalName: name,
    size: 10,
    sha256: shaCounter.toString(16).padStart(64, '0'),
    source: 'cli',
    archivePath: `/archive/${shaCounter}`,
    receivedAt: '2026-03-01T08:00:00.000Z',
  });
}

export function prov(partnerId: string, submissionId: number | null, line?: number): Prov {
  return line === undefined ? { submissionId, partner: partnerId, mappingHash: 'h1' } : { submissionId, partner: partnerId, mappingHash: 'h1', line };
}

export function rec(kind: RecordKind, fields: Record<string, unknown>, ids: IdRef[] = [], line = 2): MappedRecord {
  return { kind, line, ids, fields };
}

export const id = (scheme: IdRef['scheme'], value: string): IdRef => ({ scheme, value });

/** ERP master data most tests start from: material 000123 (oral-solid), lot L1 made by acme. */
export async function seedErp(store: Pick<Store, 'ledger' | 'masterdata'>): Promise<{ sub: number; lotId: number }> {
  const sub = await addSubmission(store, 'erp', 'erp_master.csv');
  const p = prov('erp', sub);
  await store.masterdata.upsertMaterial({ materialId: '000123', description: 'Tablet 10 mg', productFamily: 'oral-solid' }, p);
  const { lotId } = await store.masterdata.upsertLot('000123', 'L1', { vendor: 'acme-cmo', expiryDate: '2028-01-31' }, p);
  return { sub, lotId };
}
