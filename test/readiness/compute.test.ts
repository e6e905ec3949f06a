import { describe, expect, it } from 'vitest';
import type { LotFacts, Readiness, ReadinessReason } from '../../pipeline/model/types.js';
import { computeReadiness, READINESS_RULES } from '../../pipeline/readiness/compute.js';
import { compareReasons } from '../../pipeline/readiness/severity.js';
import {
  addDays,
  codes,
  deviation,
  disposition,
  doc,
  lot,
  NOW,
  oralSolidRules,
  plannedReceipt,
  readyFacts,
  result,
  shuffleFacts,
  stage,
  passingOralSolidResults,
} from './facts.js';

const rules = oralSolidRules();
const run = (facts: LotFacts, now = NOW): Readiness => computeReadiness(facts, rules, now);
const replaceResult = (facts: LotFacts, code: string, ...with_: ReturnType<typeof result>[]) => ({
  ...facts,
  testResults: [...facts.testResults.filter((r) => r.testCode !== code), ...with_],
});

describe('computeReadiness: the five demo stories', () => {
  it('READY: all stages completed, CoA, all spec tests final and passing, no deviations, long expiry', () => {
    expect(run(readyFacts())).toEqual({ state: 'READY', reasons: [], late: false });
  });

  it('BLOCKED by an open major deviation', () => {
    const r = run({ ...readyFacts(), deviations: [deviation('DEV-2026-014', 'major', 'open')] });
    expect(r.state).toBe('BLOCKED');
    expect(codes(r.reasons)).toEqual(['R_DEVIATION_OPEN_MAJOR']);
    expect(r.reasons[0].evidence[0]).toMatchObject({ kind: 'deviation', ref: 'DEV-2026-014' });
  });

  it('BLOCKED by an OOS result', () => {
    const r = run(replaceResult(readyFacts(), 'ASSAY', result('ASSAY', 93.1, { sampleId: 'S-881' })));
    expect(r.state).toBe('BLOCKED');
    expect(codes(r.reasons)).toEqual(['R_TEST_OOS']);
    expect(r.reasons[0].message).toContain('ASSAY result 93.1 %');
    expect(r.reasons[0].message).toContain('95–105 %');
  });

  it('NOT_READY for a missing CoA', () => {
    const r = run({ ...readyFacts(), documents: [doc('batch_record', 'BR-1')] });
    expect(r.state).toBe('NOT_READY');
    expect(codes(r.reasons)).toEqual(['R_COA_MISSING']);
    expect(r.reasons[0].message).toMatch(/^No Certificate of Analysis received for lot L2026-001/);
  });

  it('CONDITIONAL by an open minor deviation', () => {
    const r = run({ ...readyFacts(), deviations: [deviation('DEV-2026-020', 'minor', 'open'), deviation('DEV-2026-001', 'major', 'closed')] });
    expect(r.state).toBe('CONDITIONAL');
    expect(codes(r.reasons)).toEqual(['R_DEVIATION_OPEN_MINOR']);
  });
});

describe('computeReadiness: precedence and ordering', () => {
  const messy = (): LotFacts => ({
    ...readyFacts(),
    documents: [],
    deviations: [deviation('D-MIN', 'minor', 'open'), deviation('D-MAJ', 'major', 'open')],
    stageEvents: readyFacts().stageEvents.filter((e) => e.stage !== 'qa_review'),
    lot: lot({ quantity: 20000 }),
  });

  it('takes the worst severity and sorts reasons worst first, then by code', () => {
    const r = run(messy());
    expect(r.state).toBe('BLOCKED');
    expect(codes(r.reasons)).toEqual(['R_DEVIATION_OPEN_MAJOR', 'R_COA_MISSING', 'R_STAGE_INCOMPLETE', 'R_DEVIATION_OPEN_MINOR', 'R_QTY_OUT_OF_TOLERANCE']);
    const sorted = [...r.reasons].sort(compareReasons);
    expect(r.reasons).toEqual(sorted);
  });

  it('NOT_READY beats CONDITIONAL, CONDITIONAL beats READY', () => {
    const f = messy();
    f.deviations = f.deviations.filter((d) => d.classification === 'minor');
    expect(run(f).state).toBe('NOT_READY');
    expect(run({ ...readyFacts(), lot: lot({ quantity: 20000 }) }).state).toBe('CONDITIONAL');
  });

  it('every reason has a code, a message naming the lot, a severity other than READY, and evidence', () => {
    const r = run({ ...messy(), conflictingIdentifiers: [{ scheme: 'cmo_batch', value: 'B-77', issuer: 'acme', lotNumbers: ['L2026-001', 'X'] }] });
    for (const reason of r.reasons) {
      expect(reason.code).toMatch(/^R_[A-Z_]+$/);
      expect(reason.message).toContain('L2026-001');
      expect(['BLOCKED', 'NOT_READY', 'CONDITIONAL']).toContain(reason.severity);
      expect(reason.evidence.length).toBeGreaterThan(0);
    }
  });

  it('runs every rule', () => {
    expect(READINESS_RULES.map((r) => r.name)).toEqual([
      'identity',
      'stages',
      'documents',
      'tests',
      'deviations',
      'label-approval',
      'shelf-life',
      'quantity',
      'disposition',
    ]);
  });
});

describe('computeReadiness: purity', () => {
  it('same input and same clock give the same output, and the input is not modified', () => {
    const facts = readyFacts({ deviations: [deviation('D1', 'minor', 'open')] });
    const snapshot = structuredClone(facts);
    const a = run(facts);
    const b = run(facts);
    expect(a).toEqual(b);
    expect(facts).toEqual(snapshot);
  });

  it('moving the clock past a due date flips late', () => {
    // Receipt planned 2026-04-30; qa_review only started → due 2026-04-27.
    const facts = readyFacts({
      stageEvents: readyFacts().stageEvents.filter((e) => e.stage !== 'qa_review').concat(stage('qa_review', 'started', '2026-03-10T08:00:00Z')),
    });
    const before = run(facts, new Date('2026-04-27T12:00:00Z'));
    expect(before.late).toBe(false);
    expect(before.lateStages).toBeUndefined();
    const after = run(facts, new Date('2026-04-28T00:00:01Z'));
    expect(after.late).toBe(true);
    expect(after.lateStages).toEqual([{ stage: 'qa_review', dueDate: '2026-04-27' }]);
    expect(after.state).toBe(before.state);
  });

  it('moving the clock so remaining shelf life drops below the minimum flips to BLOCKED', () => {
    const facts = readyFacts({ lot: lot({ expiryDate: addDays('2026-03-15', 180) }) });
    expect(run(facts).state).toBe('READY');
    const later = run(facts, new Date('2026-03-16T00:00:00Z'));
    expect(later.state).toBe('BLOCKED');
    expect(codes(later.reasons)).toEqual(['R_SHELF_LIFE']);
    const muchLater = run(facts, new Date('2026-09-12T00:00:00Z'));
    expect(codes(muchLater.reasons)).toEqual(['R_EXPIRED']);
  });

  it('a retracted OOS result followed by a passing retest is READY', () => {
    const facts = replaceResult(
      readyFacts(),
      'ASSAY',
      result('ASSAY', 91.2, { sampleId: 'S-1', testedAt: '2026-02-20T10:00:00Z', resultStatus: 'retracted' }),
      result('ASSAY', 99.4, { sampleId: 'S-1R', testedAt: '2026-03-01T10:00:00Z' }),
    );
    expect(run(facts)).toEqual({ state: 'READY', reasons: [], late: false });
    // Before the lab retracted it, the same OOS stood: the latest final passes, QA is told.
    const notRetracted = replaceResult(facts, 'ASSAY', ...facts.testResults.filter((r) => r.testCode === 'ASSAY').map((r) => ({ ...r, resultStatus: 'final' as const })));
    expect(run(notRetracted).state).toBe('CONDITIONAL');
  });

  it('the order of facts in the arrays does not matter', () => {
    const facts: LotFacts = {
      ...readyFacts(),
      conflictingIdentifiers: [
        { scheme: 'cmo_batch', value: 'B-77', issuer: 'acme', lotNumbers: ['L2026-001', 'L2026-002'] },
        { scheme: 'lims_sample', value: 'S-5', issuer: 'labco', lotNumbers: ['L2026-003', 'L2026-001'] },
      ],
      stageEvents: [...readyFacts().stageEvents, stage('filling', 'on_hold', '2026-03-01T00:00:00Z'), stage('packaging', 'aborted', '2026-03-01T00:00:00Z')],
      testResults: [
        ...passingOralSolidResults(),
        result('ASSAY', 90, { sampleId: 'S-2', testedAt: '2026-03-01T00:00:00Z' }),
        result('ASSAY', 99, { sampleId: 'S-3', testedAt: '2026-03-01T00:00:00Z' }),
        result('DISSO', 70, { resultStatus: 'retracted', testedAt: '2026-03-02T00:00:00Z' }),
        result('RESID', 900, { specHigh: 720, unit: 'ppm' }),
      ],
      documents: [doc('coa', 'COA-1', 1), doc('coa', 'COA-1', 2), doc('test_report', 'TR-1')],
      deviations: [deviation('D1', 'minor', 'open'), deviation('D2', 'major', 'investigation'), deviation('D3', 'critical', 'closed')],
      dispositions: [disposition('quarantine', '2026-03-01T00:00:00Z'), disposition('released', '2026-02-01T00:00:00Z')],
      plannedReceipt: plannedReceipt({ quantity: 8000, plannedDate: '2026-03-20' }),
    };
    const want = run(facts);
    expect(want.state).toBe('BLOCKED');
    expect(want.late).toBe(true);
    expect(want.reasons.length).toBeGreaterThan(6);
    for (let seed = 1; seed <= 25; seed++) expect(run(shuffleFacts(facts, seed))).toEqual(want);
  });
});

describe('computeReadiness: disposition', () => {
  it('a rejected lot is BLOCKED and not late', () => {
    const r = run(readyFacts({ dispositions: [disposition('rejected', '2026-03-01T00:00:00Z')], plannedReceipt: plannedReceipt({ plannedDate: '2026-03-01' }), stageEvents: [] }));
    expect(r.state).toBe('BLOCKED');
    expect(r.reasons[0].code).toBe('R_DISPOSITION_REJECTED');
    expect(r.late).toBe(false);
  });

  it('a released lot is READY even when lotgate lacks some records, and not late', () => {
    const facts = readyFacts({
      documents: [],
      stageEvents: [],
      deviations: [deviation('D1', 'minor', 'open')],
      dispositions: [disposition('released', '2026-03-10T00:00:00Z')],
      plannedReceipt: plannedReceipt({ plannedDate: '2026-03-01' }),
    });
    expect(run(facts)).toEqual({ state: 'READY', reasons: [], late: false });
  });

  it('a released lot is still BLOCKED by something that blocks', () => {
    const facts = readyFacts({ dispositions: [disposition('released', '2026-03-10T00:00:00Z')], deviations: [deviation('D9', 'critical', 'open')], documents: [] });
    const r = run(facts);
    expect(r.state).toBe('BLOCKED');
    expect(codes(r.reasons)).toEqual(['R_DEVIATION_OPEN_CRITICAL']);
  });

  it('a lot back in quarantine after release is NOT_READY', () => {
    const r = run(readyFacts({ dispositions: [disposition('released', '2026-03-01T00:00:00Z'), disposition('quarantine', '2026-03-05T00:00:00Z')] }));
    expect(r.state).toBe('NOT_READY');
    expect(codes(r.reasons)).toEqual(['R_DISPOSITION_REQUARANTINED']);
  });
});

describe('computeReadiness: sterile-injectable family', () => {
  it('needs batch record, label approval, sterility and a year of shelf life', async () => {
    const { resolveRuleSet } = await import('../../pipeline/readiness/rule-set.js');
    const { TEST_CONFIG } = await import('./facts.js');
    const sterile = resolveRuleSet(TEST_CONFIG, { materialId: '000777', productFamily: 'sterile-injectable' });
    const facts = readyFacts({
      lot: lot({ expiryDate: addDays('2026-03-15', 300) }),
      testResults: [result('ASSAY', 100), result('ENDOTOXIN', null, { resultRaw: '<0.25', qualifier: '<', resultValue: 0.25, unit: 'EU/mL' })],
    });
    const r = computeReadiness(facts, sterile, NOW);
    expect(codes(r.reasons)).toEqual(['R_SHELF_LIFE', 'R_DOC_MISSING', 'R_LABEL_APPROVAL_MISSING', 'R_TEST_MISSING']);
    const fixed = readyFacts({
      testResults: [...facts.testResults, result('STERILITY', null, { resultRaw: 'Sterile', unit: null })],
      documents: [doc('coa', 'C1'), doc('batch_record', 'BR1'), doc('label_approval', 'LA1')],
    });
    expect(computeReadiness(fixed, sterile, NOW)).toEqual({ state: 'READY', reasons: [], late: false });
  });
});

// Keep the type import used: a reason list is plain data that survives JSON.
it('readiness is plain JSON data', () => {
  const r = run({ ...readyFacts(), documents: [] });
  const back = JSON.parse(JSON.stringify(r)) as { reasons: ReadinessReason[] };
  expect(back).toEqual(r);
});
