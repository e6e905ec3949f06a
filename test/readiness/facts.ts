// Builders for crafted LotFacts. Every builder returns fresh objects so tests can mutate freely.
import type {
  DeviationRow,
  DispositionRow,
  DocumentRow,
  LotFacts,
  LotRow,
  PlannedReceiptRow,
  RuleSet,
  StageEventRow,
  TestResultRow,
} from '../../pipeline/model/types.js';
import { DEFAULT_READINESS_CONFIG, resolveRuleSet, type ReadinessConfig } from '../../pipeline/readiness/rule-set.js';

/** The clock of every test unless it moves it on purpose. */
export const NOW = new Date('2026-03-15T12:00:00Z');

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** A config shaped like config.yaml's, kept here so rule tests don't move when config.yaml is tuned. */
export const TEST_CONFIG: ReadinessConfig = {
  default: resolveRuleSet(DEFAULT_READINESS_CONFIG, null),
  families: {
    'oral-solid': {
      tests: [
        { code: 'ASSAY', specLow: 95, specHigh: 105, unit: '%' },
        { code: 'DISSO', specLow: 80, unit: '%' },
        { code: 'WATER', specHigh: 3.0, unit: '%' },
        { code: 'IMP_TOTAL', specHigh: 0.5, unit: '%' },
      ],
    },
    'sterile-injectable': {
      requiredStages: ['compounding', 'filling', 'testing', 'qa_review'],
      requiredDocuments: ['coa', 'batch_record'],
      labelApprovalRequired: true,
      minShelfLifeDays: 365,
      tests: [
        { code: 'ASSAY', specLow: 95, specHigh: 105, unit: '%' },
        { code: 'ENDOTOXIN', specHigh: 0.5, unit: 'EU/mL' },
        { code: 'STERILITY' },
      ],
    },
  },
  materials: {},
};

export function oralSolidRules(): RuleSet {
  return resolveRuleSet(TEST_CONFIG, { materialId: '000123', productFamily: 'oral-solid' });
}

export function defaultRules(over: Partial<RuleSet> = {}): RuleSet {
  return { ...resolveRuleSet(DEFAULT_READINESS_CONFIG, null), ...over };
}

export function lot(over: Partial<LotRow> = {}): LotRow {
  return {
    id: 1,
    materialId: '000123',
    lotNumber: 'L2026-001',
    expiryDate: '2028-03-31',
    manufactureDate: '2026-02-01',
    quantity: 10000,
    uom: 'EA',
    site: 'ACME-1',
    vendor: 'acme',
    qualityState: null,
    ...over,
  };
}

/** A lot with no facts at all beyond its header. */
export function emptyFacts(over: Partial<LotFacts> = {}): LotFacts {
  return {
    lot: lot(),
    identifiers: [{ scheme: 'cmo_batch', value: 'B-77', issuer: 'acme' }],
    conflictingIdentifiers: [],
    stageEvents: [],
    testResults: [],
    documents: [],
    deviations: [],
    dispositions: [],
    plannedReceipt: null,
    material: { materialId: '000123', description: 'Tablets 10 mg', productFamily: 'oral-solid' },
    ...over,
  };
}

export function stage(name: string, status: StageEventRow['status'], eventTime: string, over: Partial<StageEventRow> = {}): StageEventRow {
  return { stage: name, status, eventTime, site: 'ACME-1', submissionId: 10, line: 2, ...over };
}

export const ALL_STAGES = ['compounding', 'filling', 'packaging', 'testing', 'qa_review'];

export function completedStages(stages: readonly string[] = ALL_STAGES): StageEventRow[] {
  return stages.flatMap((s, i) => [
    stage(s, 'started', `2026-02-${String(2 + 2 * i).padStart(2, '0')}T08:00:00Z`),
    stage(s, 'completed', `2026-02-${String(3 + 2 * i).padStart(2, '0')}T16:00:00Z`),
  ]);
}

export function result(testCode: string, value: number | null, over: Partial<TestResultRow> = {}): TestResultRow {
  return {
    sampleId: `S-${testCode}`,
    testCode,
    resultRaw: value === null ? null : String(value),
    resultValue: value,
    qualifier: null,
    unit: '%',
    resultStatus: 'final',
    testedAt: '2026-02-20T10:00:00Z',
    submissionId: 20,
    line: 3,
    ...over,
  };
}

/** Passing final results for every oral-solid test. */
export function passingOralSolidResults(): TestResultRow[] {
  return [
    result('ASSAY', 99.8, { specLow: 95, specHigh: 105 }),
    result('DISSO', 92),
    result('WATER', 1.2),
    result('IMP_TOTAL', null, { resultRaw: '<0.05', resultValue: 0.05, qualifier: '<' }),
  ];
}

export function doc(type: DocumentRow['type'], docId: string, version = 1, over: Partial<DocumentRow> = {}): DocumentRow {
  return { type, docId, version, sha256: `${docId}-v${version}`.padEnd(64, '0'), issuedAt: '2026-02-25T09:00:00Z', supersedes: null, ...over };
}

export function deviation(
  partnerRef: string,
  classification: DeviationRow['classification'],
  status: DeviationRow['status'],
  over: Partial<DeviationRow> = {},
): DeviationRow {
  return {
    partnerRef,
    issuer: 'acme',
    qmsRef: null,
    title: 'Temperature excursion in warehouse',
    classification,
    status,
    capaRefs: [],
    openedAt: '2026-02-10T09:00:00Z',
    closedAt: status === 'closed' ? '2026-02-28T09:00:00Z' : null,
    updatedAt: '2026-02-28T09:00:00Z',
    ...over,
  };
}

export function disposition(decision: DispositionRow['decision'], decidedAt: string, over: Partial<DispositionRow> = {}): DispositionRow {
  return { decision, decidedAt, decidedBy: 'qa.jones', ...over };
}

export function plannedReceipt(over: Partial<PlannedReceiptRow> = {}): PlannedReceiptRow {
  return {
    poNumber: '4500001234',
    poItem: '10',
    materialId: '000123',
    quantity: 10000,
    uom: 'EA',
    vendor: 'acme',
    plannedDate: '2026-04-30',
    confirmedDate: null,
    lotNumber: 'L2026-001',
    status: 'open',
    ...over,
  };
}

/** Demo story 1: everything in order for an oral-solid lot. */
export function readyFacts(over: Partial<LotFacts> = {}): LotFacts {
  return emptyFacts({
    stageEvents: completedStages(),
    testResults: passingOralSolidResults(),
    documents: [doc('coa', 'COA-L2026-001')],
    plannedReceipt: plannedReceipt(),
    ...over,
  });
}

/** Deterministic Fisher–Yates with a seeded LCG, so a failing shuffle is reproducible. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function shuffleFacts(f: LotFacts, seed: number): LotFacts {
  return {
    ...f,
    identifiers: shuffled(f.identifiers, seed),
    conflictingIdentifiers: shuffled(f.conflictingIdentifiers, seed + 1),
    stageEvents: shuffled(f.stageEvents, seed + 2),
    testResults: shuffled(f.testResults, seed + 3),
    documents: shuffled(f.documents, seed + 4),
    deviations: shuffled(f.deviations, seed + 5),
    dispositions: shuffled(f.dispositions, seed + 6),
  };
}

export function codes(reasons: { code: string }[]): string[] {
  return reasons.map((r) => r.code);
}
