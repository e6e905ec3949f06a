// The reads area (the read model of the API, the CLI and the board) on both dialects. One small
// but realistic dataset — lots on two sites and two materials, results from two labs, documents,
// deviations, dispositions, computed readiness, dirty lots, submissions of several partners — is
// written once through the store on a SQLite file, copied row for row into each test's fresh
// database, and every read of the area must return exactly what the sync Store it replaced
// returned on the same dataset (its answers recorded in reference/reads.json, see reference.ts):
// the port against the module it replaces, and the same answers on both dialects. Scoped accesses of every kind, the board's filters,
// keyset paging and "another site's lot or submission is invisible" are checked on both.

import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Readiness } from '../../../pipeline/model/types.js';
import { computeReadiness } from '../../../pipeline/readiness/compute.js';
import { DEFAULT_READINESS_CONFIG, resolveRuleSet, type ReadinessConfig } from '../../../pipeline/readiness/rule-set.js';
import { readsArea, type LotFilters, type ReadsArea, type SubmissionFilters } from '../../../pipeline/store/areas/reads.js';
import type { Db } from '../../../pipeline/store/db/db.js';
import type { Access } from '../../../pipeline/store/scope.js';
import { addSubmission, id, prov, tempStore } from '../helpers.js';
import { describeStore } from './harness.js';
import { call, reference } from './reference.js';

const NOW = new Date('2026-03-01T12:00:00Z');

/** Tests of ASSAY 95–105; sterile products also need a batch record and a label approval. */
const RULES: ReadinessConfig = {
  default: { ...DEFAULT_READINESS_CONFIG.default, tests: [{ code: 'ASSAY', specLow: 95, specHigh: 105 }] },
  families: { sterile: { requiredDocuments: ['coa', 'batch_record'], labelApprovalRequired: true } },
  materials: {},
};

interface Dataset {
  path: string;
  cleanup: () => Promise<void>;
  lots: Record<string, number>;
  subs: Record<string, number>;
}

/** The dataset, written through the store on a SQLite file. */
async function seed(): Promise<Dataset> {
  const t = await tempStore();
  const store = t.store;
  const subs: Record<string, number> = {};
  const sub = async (key: string, partner: string, name: string, state: 'applied' | 'rejected' | 'applied_with_errors' | null, receivedAt: string) => {
    subs[key] = await addSubmission(store, partner, name);
    await store.ledger.updateSubmission(subs[key], { receivedAt, ...(state ? { state } : {}) });
    return subs[key];
  };
  const erp = await sub('erp', 'erp', 'erp_master.csv', 'applied', '2026-02-01T08:00:00.000Z');
  const labOne = await sub('labOne', 'lab-one', 'Results_North.csv', 'applied', '2026-02-10T08:00:00.000Z');
  const labTwo = await sub('labTwo', 'lab-two', 'results_100%_final.csv', 'applied_with_errors', '2026-02-11T08:00:00.000Z');
  const acme = await sub('acme', 'acme-cmo', 'acme_stages.csv', 'applied', '2026-02-12T08:00:00.000Z');
  const beta = await sub('beta', 'beta-cmo', 'beta_docs.csv', 'applied', '2026-02-13T08:00:00.000Z');
  const qms = await sub('qms', 'qms', 'qms_events.csv', 'applied', '2026-02-14T08:00:00.000Z');
  await sub('rejected', 'lab-one', 'garbage.csv', 'rejected', '2026-02-15T08:00:00.000Z');
  await sub('received', 'lab-two', 'pending.csv', null, '2026-02-16T08:00:00.000Z');

  const p = (partner: string, s: number, line = 2) => prov(partner, s, line);
  await store.masterdata.upsertMaterial({ materialId: 'M-100', description: 'Tablet 10 mg', productFamily: 'oral-solid' }, p('erp', erp));
  await store.masterdata.upsertMaterial({ materialId: 'M-200', description: 'Vial 5 mL', productFamily: 'sterile' }, p('erp', erp, 3));
  await store.masterdata.upsertPurchaseOrder({ poNumber: 'PO-1', poItem: '10', materialId: 'M-100', quantity: 1000, vendor: 'acme-cmo', plannedDate: '2026-03-05', lotNumber: 'A-1', status: 'open' }, p('erp', erp, 4));
  await store.masterdata.upsertPurchaseOrder({ poNumber: 'PO-2', poItem: '10', materialId: 'M-200', quantity: 500, vendor: 'beta-cmo', plannedDate: '2026-06-01', lotNumber: 'B-2', status: 'open' }, p('erp', erp, 5));
  await store.masterdata.upsertPurchaseOrder({ poNumber: 'PO-4', poItem: '10', materialId: 'M-100', quantity: 1000, vendor: 'acme-cmo', plannedDate: '2026-03-03', lotNumber: 'P-001', status: 'open' }, p('erp', erp, 7));
  await store.masterdata.upsertPurchaseOrder({ poNumber: 'PO-3', poItem: '10', materialId: 'M-200', quantity: 500, vendor: 'beta-cmo', plannedDate: '2026-01-01', lotNumber: 'B-2', status: 'closed' }, p('erp', erp, 6));

  const lots: Record<string, number> = {};
  const lot = async (key: string, materialId: string, lotNumber: string, site: string, vendor: string | null, expiryDate: string | null, extra: { poNumber?: string; poItem?: string } = {}) => {
    lots[key] = (await store.masterdata.upsertLot(materialId, lotNumber, { site, vendor, expiryDate, quantity: 1000, ...extra }, p('erp', erp, 10 + Object.keys(lots).length))).lotId;
  };
  await lot('A1', 'M-100', 'A-1', 'north', 'acme-cmo', '2028-01-31', { poNumber: 'PO-1', poItem: '10' });
  await lot('A1b', 'M-200', 'A-1', 'south', 'beta-cmo', '2027-05-31'); // the same lot number on another material
  await lot('A2', 'M-100', 'A-2', 'south', 'beta-cmo', '2027-11-30');
  await lot('B1', 'M-200', 'B-1', 'north', 'acme-cmo', '2026-04-30');
  await lot('B2', 'M-200', 'B-2', 'south', 'beta-cmo', '2028-06-30');
  await lot('X', 'M-100', 'x_1', 'north', null, null);
  for (let i = 1; i <= 14; i++) await lot(`P${i}`, i % 3 === 0 ? 'M-200' : 'M-100', `P-${String(i).padStart(3, '0')}`, i % 2 ? 'north' : 'south', i % 4 ? 'acme-cmo' : 'beta-cmo', `2027-${String((i % 12) + 1).padStart(2, '0')}-15`);

  // Identifiers: one vendor batch shared by two lots (a conflict), a LIMS sample id.
  await store.masterdata.addIdentifier(lots.A1, id('vendor_batch', 'VB-1'), 'acme-cmo', p('acme-cmo', acme, 2));
  await store.masterdata.addIdentifier(lots.B1, id('vendor_batch', 'VB-1'), 'acme-cmo', p('acme-cmo', acme, 3));
  await store.masterdata.addIdentifier(lots.A2, id('lims_sample', 'S-77'), 'lab-one', p('lab-one', labOne, 5));

  // Stage events: completed and on hold at the same time (the more telling status shows).
  const stage = (l: number, stage: string, status: 'started' | 'completed' | 'on_hold', eventTime: string, line: number, site = 'north') =>
    store.facts.insertStageEvent(l, { stage, status, eventTime, site }, p('acme-cmo', acme, line));
  await stage(lots.A1, 'compounding', 'started', '2026-02-01T08:00:00Z', 2);
  await stage(lots.A1, 'compounding', 'completed', '2026-02-02T08:00:00Z', 3);
  await stage(lots.A1, 'filling', 'completed', '2026-02-03T08:00:00Z', 4);
  await stage(lots.A1, 'filling', 'on_hold', '2026-02-03T08:00:00Z', 5);
  await stage(lots.B1, 'compounding', 'completed', '2026-02-04T08:00:00Z', 6);
  for (const s of ['compounding', 'filling', 'packaging', 'testing', 'qa_review']) await stage(lots.P2, s, 'completed', '2026-02-05T08:00:00Z', 7, 'south');

  // Results from two labs: in spec, out of spec, a replicate, a retracted one.
  const result = (l: number, partner: string, s: number, line: number, r: { sampleId?: string; value: number; status?: 'final' | 'retracted'; replicate?: string; testedAt?: string }) =>
    store.facts.upsertTestResult(
      l,
      { testCode: 'ASSAY', sampleId: r.sampleId ?? null, resultRaw: String(r.value), resultValue: r.value, unit: '%', specLow: 95, specHigh: 105, resultStatus: r.status ?? 'final', testedAt: r.testedAt ?? '2026-02-10', replicate: r.replicate ?? null },
      p(partner, s, line),
    );
  await result(lots.A1, 'lab-one', labOne, 2, { sampleId: 'S-1', value: 99.5 });
  await result(lots.A2, 'lab-one', labOne, 3, { sampleId: 'S-77', value: 101 });
  await result(lots.P2, 'lab-one', labOne, 8, { sampleId: 'S-P2', value: 100.2 });
  await result(lots.B1, 'lab-two', labTwo, 2, { sampleId: 'S-2', value: 90.1 });
  await result(lots.B1, 'lab-two', labTwo, 3, { sampleId: 'S-2', value: 96, replicate: '2' });
  await result(lots.P4, 'lab-two', labTwo, 4, { sampleId: 'S-4', value: 80, status: 'retracted', testedAt: '2026-02-09' });
  await result(lots.P5, 'lab-two', labTwo, 5, { sampleId: 'S-5', value: 110 });

  // Documents: CoAs from the labs, a batch record from beta.
  await store.facts.upsertDocument(lots.A1, { type: 'coa', docId: 'COA-A1', version: 1, sha256: 'a'.repeat(64) }, p('lab-one', labOne, 6));
  await store.facts.upsertDocument(lots.A1, { type: 'coa', docId: 'COA-A1', version: 2, sha256: 'b'.repeat(64) }, p('lab-one', labOne, 7));
  await store.facts.upsertDocument(lots.B2, { type: 'batch_record', docId: 'BR-B2', sha256: 'c'.repeat(64) }, p('beta-cmo', beta, 2));
  await store.facts.upsertDocument(lots.P2, { type: 'coa', docId: 'COA-P2', sha256: 'd'.repeat(64) }, p('beta-cmo', beta, 3));

  // Deviations: one open (two versions: the later one is current), one closed.
  await store.facts.upsertDeviation([lots.A2, lots.B2], { partnerRef: 'DEV-1', classification: 'minor', status: 'open', openedAt: '2026-02-01T00:00:00Z' }, 'qms', p('qms', qms, 2));
  await store.facts.upsertDeviation([lots.A2, lots.B2], { partnerRef: 'DEV-1', classification: 'major', status: 'investigation', openedAt: '2026-02-01T00:00:00Z', updatedAt: '2026-02-05T00:00:00Z' }, 'qms', p('qms', qms, 3));
  await store.facts.upsertDeviation([lots.P6], { partnerRef: 'DEV-2', classification: 'minor', status: 'closed', openedAt: '2026-02-01T00:00:00Z', closedAt: '2026-02-03T00:00:00Z' }, 'qms', p('qms', qms, 4));

  // Dispositions: A-1 quarantined then released; B-2 quarantined.
  await store.facts.insertDisposition(lots.A1, { decision: 'quarantine', decidedBy: 'qa1', decidedAt: '2026-02-20T00:00:00Z' }, p('qms', qms, 5));
  await store.facts.insertDisposition(lots.A1, { decision: 'released', decidedBy: 'qa2', decidedAt: '2026-02-25T00:00:00Z' }, p('qms', qms, 6));
  await store.facts.insertDisposition(lots.B2, { decision: 'quarantine', decidedAt: '2026-02-21T00:00:00Z' }, p('qms', qms, 7));

  // Readiness as the rules compute it, for all but three lots (unassessed); one stored in the old
  // form (a hand-written reason with its sentence and document evidence).
  const unassessed = new Set([lots.X, lots.P13, lots.P14]);
  for (const [key, lotId] of Object.entries(lots)) {
    if (unassessed.has(lotId) || key === 'P12') continue;
    const facts = await store.readiness.loadLotFacts(lotId);
    const r = computeReadiness(facts, resolveRuleSet(RULES, facts.material ?? { materialId: facts.lot.materialId }), NOW);
    await store.readiness.saveReadiness(lotId, r, '2026-03-01T12:00:00.000Z');
  }
  const old: Readiness = {
    state: 'NOT_READY',
    late: false,
    reasons: [{ code: 'R_DOC_MISSING', severity: 'NOT_READY', message: 'No packaging record', evidence: [{ kind: 'document', ref: 'packaging_record' }] }],
  };
  await store.readiness.saveReadiness(lots.P12, old, '2026-02-28T12:00:00.000Z');

  // Facts changed since: two lots are being recomputed.
  await store.readiness.markLotsDirty([lots.B1, lots.P3], { submissionId: labTwo, partner: 'lab-two' });
  await store.close();
  return { path: t.path, cleanup: t.cleanup, lots, subs };
}

/** The tables the reads look at, parents first (foreign keys hold on PostgreSQL). */
const TABLES = ['submissions', 'materials', 'purchase_orders', 'lots', 'lot_identifiers', 'stage_events', 'test_results', 'documents', 'deviations', 'deviation_lots', 'dispositions', 'lot_readiness', 'dirty_lots'];

/** The reference's rows, read once. */
function dump(file: string): Map<string, Record<string, unknown>[]> {
  const db = new Database(file, { readonly: true });
  try {
    return new Map(TABLES.map((t) => [t, db.prepare(`SELECT * FROM ${t}`).all() as Record<string, unknown>[]]));
  } finally {
    db.close();
  }
}

/** The same rows, ids and all, into a fresh database of either dialect. */
async function load(db: Db, rows: Map<string, Record<string, unknown>[]>): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [table, list] of rows) {
      for (const r of list) {
        const cols = Object.keys(r);
        await tx.run(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, cols.map((c) => r[c]));
      }
    }
  });
}

let data: Dataset;
let rows: Map<string, Record<string, unknown>[]>;
beforeAll(async () => {
  data = await seed();
  rows = dump(data.path);
});
afterAll(() => data?.cleanup());

/** What the sync Store answered on this dataset (reference.ts). */
const REF = reference('reads');
const want = (method: string, ...args: unknown[]): unknown => REF(call(method, ...args));

const SCOPES = (): Record<string, Access> => ({
  all: 'all',
  none: [],
  everything: [{ sites: '*', materials: '*', partners: '*' }],
  north: [{ sites: ['north'], materials: '*', partners: '*' }],
  labOne: [{ sites: '*', materials: '*', partners: ['lab-one'] }],
  acme: [{ sites: '*', materials: '*', partners: ['acme-cmo'] }],
  sterile: [{ sites: '*', materials: ['sterile'], partners: '*' }],
  m100: [{ sites: '*', materials: ['M-100'], partners: '*' }],
  northLabTwo: [{ sites: ['north'], materials: '*', partners: ['lab-two'] }],
  southOrM100: [
    { sites: ['south'], materials: '*', partners: '*' },
    { sites: '*', materials: ['M-100'], partners: '*' },
  ],
  emptySites: [{ sites: [], materials: '*', partners: '*' }],
});

const LOT_FILTERS: LotFilters[] = [
  {},
  { readiness: ['BLOCKED'] },
  { readiness: ['NOT_READY', 'CONDITIONAL'] },
  { readiness: ['READY'] },
  { late: true },
  { late: false },
  { partner: 'lab-one' },
  { partner: 'acme-cmo' },
  { partner: 'erp' },
  { site: 'north' },
  { materialId: 'M-200' },
  { po: 'PO-1' },
  { lotPrefix: 'P-00' },
  { lotPrefix: 'a-' },
  { expiryFrom: '2027-06-01' },
  { expiryTo: '2027-12-31' },
  { expiryFrom: '2027-01-01', expiryTo: '2027-06-30' },
  { openDeviation: true },
  { openDeviation: false },
  { missingDocType: 'coa' },
  { missingDocType: 'batch_record' },
  { missingDocType: 'label_approval' },
  { missingDocType: 'packaging_record' },
  { oos: true },
  { oos: false },
  { q: 'tablet' },
  { q: 'VIAL' },
  { q: ' po-1 ' },
  { q: 'x_1' },
  { q: '_' },
  { q: '%' },
  { q: '   ' },
  { site: 'north', readiness: ['NOT_READY', 'BLOCKED'], q: 'a' },
];

const SUBMISSION_FILTERS: SubmissionFilters[] = [
  {},
  { partner: 'lab-one' },
  { state: ['applied'] },
  { state: ['applied_with_errors', 'rejected'] },
  { since: '2026-02-11T08:00:00.000Z' },
  { until: '2026-02-12T08:00:00.000Z' },
  { since: '2026-02-10T00:00:00.000Z', until: '2026-02-14T00:00:00.000Z' },
  { q: 'RESULTS' },
  { q: '100%' },
  { q: '_' },
];

describeStore('reads', (h) => {
  // The reads write nothing: the dataset is loaded into one fresh database per dialect, and the
  // later tests connect to it again (another()) rather than migrate and load it once more.
  let loaded = false;
  const fresh = async (): Promise<ReadsArea> => {
    if (loaded) return readsArea((await h.another({ now: () => NOW })).db);
    const s = await h.fresh({ now: () => NOW });
    await load(s.db, rows);
    loaded = true;
    return readsArea(s.db);
  };

  it('the dataset is what the tests mean it to be', async () => {
    const area = await fresh();
    const lots = await area.listLotsScoped('all', {}, { limit: 100 });
    expect(lots).toHaveLength(20);
    expect(lots.filter((l) => l.recomputing).map((l) => l.lotNumber)).toEqual(['B-1', 'P-003']);
    expect(new Set(lots.map((l) => l.readiness))).toEqual(new Set(['READY', 'NOT_READY', 'BLOCKED', null]));
    expect(await area.countLotsScoped('all', { oos: true })).toBeGreaterThan(0);
    expect(await area.countLotsScoped('all', { missingDocType: 'batch_record' })).toBeGreaterThan(0);
    expect(await area.countLotsScoped('all', { missingDocType: 'label_approval' })).toBeGreaterThan(0);
    expect(await area.countLotsScoped('all', { missingDocType: 'packaging_record' })).toBe(1);
    expect(await area.countLotsScoped('all', { late: true })).toBeGreaterThan(0);
    expect(await area.countLotsScoped('all', { q: 'tablet' })).toBeGreaterThan(0);
    const a1 = (await area.getLotDetailById(data.lots.A1))!;
    expect(a1.conflictingIdentifiers).toHaveLength(1);
    expect(a1.stages.map((s) => `${s.stage}:${s.status}`)).toEqual(['compounding:completed', 'filling:on_hold']);
    expect(a1.plannedReceipt?.poNumber).toBe('PO-1');
  });

  it('getLotDetailById, getLotDetail and listLots return what the sync store returns', async () => {
    const area = await fresh();
    for (const lotId of [...Object.values(data.lots), 9999]) expect(await area.getLotDetailById(lotId)).toStrictEqual(want('getLotDetailById', lotId));
    for (const [n, m] of [['A-1'], ['A-1', 'M-200'], ['A-1', 'M-300'], ['B-2'], ['P-007'], ['nope']] as [string, string?][]) {
      expect(await area.getLotDetail(n, m)).toStrictEqual(want('getLotDetail', n, m));
    }
    expect(Array.isArray(await area.getLotDetail('A-1'))).toBe(true);
    const opts = [{}, { readiness: 'READY' as const }, { readiness: 'BLOCKED' as const }, { unassessed: true }, { late: true }, { late: false }, { vendor: 'beta-cmo' }, { materialId: 'M-200' }, { limit: 5 }, { limit: 5, offset: 5 }, { offset: 18 }];
    for (const o of opts) expect(await area.listLots(o)).toStrictEqual(want('listLots', o));
    expect(await area.listLots()).toHaveLength(20);
  });

  it('listLotsScoped and countLotsScoped: every filter under every scope, the recomputing flag included', async () => {
    const area = await fresh();
    let nonEmpty = 0;
    for (const [name, access] of Object.entries(SCOPES())) {
      for (const f of LOT_FILTERS) {
        const expected = want('listLotsScoped', access, f, { limit: 100 }) as unknown[];
        if (expected.length) nonEmpty++;
        expect({ name, f, rows: await area.listLotsScoped(access, f, { limit: 100 }) }).toStrictEqual({ name, f, rows: expected });
        expect({ name, f, n: await area.countLotsScoped(access, f) }).toStrictEqual({ name, f, n: want('countLotsScoped', access, f) });
      }
    }
    expect(nonEmpty).toBeGreaterThan(100);
    const rows = await area.listLotsScoped('all', {}, { limit: 100 });
    expect(rows.filter((r) => r.recomputing).map((r) => r.lotNumber)).toEqual(['B-1', 'P-003']);
  });

  it('keyset paging: pages of three walk the board in order, none lost or repeated, each page as the sync store gives it', async () => {
    const area = await fresh();
    for (const access of [SCOPES().all, SCOPES().north, SCOPES().southOrM100]) {
      for (const f of [{}, { readiness: ['NOT_READY', 'BLOCKED'] }] as LotFilters[]) {
        const whole = await area.listLotsScoped(access, f, { limit: 1000 });
        const walked: number[] = [];
        let after: { lotNumber: string; materialId: string; id: number } | undefined;
        for (;;) {
          const page = await area.listLotsScoped(access, f, { limit: 3, after });
          expect(page).toStrictEqual(want('listLotsScoped', access, f, { limit: 3, after }));
          if (!page.length) break;
          walked.push(...page.map((r) => r.lotId));
          const last = page[page.length - 1];
          after = { lotNumber: last.lotNumber, materialId: last.materialId, id: last.lotId };
        }
        expect(walked).toEqual(whole.map((r) => r.lotId));
        expect(walked.length).toBe(await area.countLotsScoped(access, f));
      }
    }
    // The same lot number on two materials pages by material.
    const a1 = await area.listLotsScoped('all', { lotPrefix: 'A-1' }, { limit: 1 });
    const next = await area.listLotsScoped('all', { lotPrefix: 'A-1' }, { limit: 1, after: { lotNumber: 'A-1', materialId: a1[0].materialId, id: a1[0].lotId } });
    expect([...a1, ...next].map((r) => r.materialId)).toEqual(['M-100', 'M-200']);
  });

  it('lotIdInScope, lotIdsByNumberInScope, submissionTouchedLot', async () => {
    const area = await fresh();
    const lotIds = [...Object.values(data.lots), 9999];
    for (const access of Object.values(SCOPES())) {
      for (const lotId of lotIds) expect(await area.lotIdInScope(access, lotId)).toBe(want('lotIdInScope', access, lotId));
      for (const [n, m] of [['A-1'], ['A-1', 'M-100'], ['A-1', 'M-200'], ['B-1'], ['P-004'], ['zzz']] as [string, string?][]) {
        expect(await area.lotIdsByNumberInScope(access, n, m)).toStrictEqual(want('lotIdsByNumberInScope', access, n, m));
      }
    }
    expect(await area.lotIdsByNumberInScope('all', 'A-1')).toEqual([data.lots.A1, data.lots.A1b]);
    let touched = 0;
    for (const lotId of lotIds) {
      for (const subId of [...Object.values(data.subs), 9999]) {
        for (const line of [undefined, 2, 3, 13]) {
          const expected = want('submissionTouchedLot', lotId, subId, line);
          if (expected) touched++;
          expect({ lotId, subId, line, y: await area.submissionTouchedLot(lotId, subId, line) }).toEqual({ lotId, subId, line, y: expected });
        }
      }
    }
    expect(touched).toBeGreaterThan(20);
  });

  it('listSubmissionsScoped (with paging) and getSubmissionScoped', async () => {
    const area = await fresh();
    const subIds = [...Object.values(data.subs), 9999];
    for (const access of Object.values(SCOPES())) {
      for (const f of SUBMISSION_FILTERS) {
        for (const page of [{ limit: 100 }, { limit: 3, before: data.subs.beta }]) {
          expect({ f, page, rows: await area.listSubmissionsScoped(access, f, page) }).toStrictEqual({ f, page, rows: want('listSubmissionsScoped', access, f, page) });
        }
      }
      for (const subId of subIds) expect(await area.getSubmissionScoped(access, subId)).toStrictEqual(want('getSubmissionScoped', access, subId));
    }
    // Paging walks newest first without loss.
    const walked: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await area.listSubmissionsScoped('all', {}, { limit: 3, before });
      if (!page.length) break;
      walked.push(...page.map((s) => s.id));
      before = page[page.length - 1].id;
    }
    expect(walked).toEqual([...Object.values(data.subs)].sort((a, b) => b - a));
    expect((await area.listSubmissionsScoped('all', { q: 'results' }, { limit: 10 })).map((s) => s.originalName)).toEqual(['results_100%_final.csv', 'Results_North.csv']);
  });

  it('a scoped user probing another site’s lot or submission gets nothing', async () => {
    const area = await fresh();
    const north = SCOPES().north;
    const labOne = SCOPES().labOne;
    // B-2 is a south lot; beta's submission wrote only about south lots.
    expect(await area.lotIdInScope(north, data.lots.B2)).toBeUndefined();
    expect(await area.lotIdInScope(north, data.lots.B1)).toBe(data.lots.B1);
    expect(await area.lotIdsByNumberInScope(north, 'B-2')).toEqual([]);
    expect(await area.lotIdsByNumberInScope(north, 'A-1')).toEqual([data.lots.A1]);
    expect(await area.listLotsScoped(north, { q: 'B-2' }, { limit: 10 })).toEqual([]);
    expect(await area.countLotsScoped(north, { lotPrefix: 'B-2' })).toBe(0);
    expect(await area.listLotsScoped(north, { site: 'south' }, { limit: 10 })).toEqual([]);
    expect(await area.getSubmissionScoped(north, data.subs.beta)).toBeUndefined();
    expect((await area.listSubmissionsScoped(north, {}, { limit: 100 })).map((s) => s.id)).not.toContain(data.subs.beta);
    // A lab sees its own submissions and lots, not another lab's.
    expect(await area.getSubmissionScoped(labOne, data.subs.labTwo)).toBeUndefined();
    expect(await area.getSubmissionScoped(labOne, data.subs.labOne)).toMatchObject({ id: data.subs.labOne, partner: 'lab-one' });
    expect(await area.lotIdInScope(labOne, data.lots.B1)).toBeUndefined();
    expect(await area.lotIdInScope(labOne, data.lots.A1)).toBe(data.lots.A1);
    // Nothing at all for an empty access.
    expect(await area.listLotsScoped([], {}, { limit: 100 })).toEqual([]);
    expect(await area.listSubmissionsScoped([], {}, { limit: 100 })).toEqual([]);
  });
});
