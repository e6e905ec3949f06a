// Every reason's message is rendered from its code and params (readiness/render.ts); lot_readiness
// and the outbox store the params as JSON. Property: for random lots, what a reader renders from
// the stored (JSON) form is exactly what the rule said, in the lot view and on the wire.

import { describe, expect, it } from 'vitest';
import type { LotFacts, TestResultRow } from '../../pipeline/model/types.js';
import { lotReadinessMessage } from '../../pipeline/outbound/messages.js';
import { computeReadiness } from '../../pipeline/readiness/compute.js';
import { compactPayload, compactReadiness, expandPayload, expandReadiness, renderMessage } from '../../pipeline/readiness/render.js';
import { resolveRuleSet } from '../../pipeline/readiness/rule-set.js';
import { addDays, deviation, disposition, emptyFacts, lot, NOW, plannedReceipt, stage, TEST_CONFIG } from './facts.js';

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STAGES = ['compounding', 'filling', 'packaging', 'testing', 'qa_review'];

function randomFacts(rand: () => number): LotFacts {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const results: TestResultRow[] = [];
  for (let i = 0, n = Math.floor(rand() * 6); i < n; i++) {
    const v = pick([null, 90, 99.5, 120, 0.2, 5]);
    results.push({
      sampleId: pick([null, '', `S-${i}`]),
      testCode: pick(['ASSAY', 'DISSO', 'WATER', 'STERILITY', 'EXTRA', 'assay ']),
      resultRaw: pick([null, v === null ? null : String(v), 'Complies', 'FAIL', '<LOQ']),
      resultValue: v,
      qualifier: pick([null, null, '<', 'ND']),
      unit: pick(['%', 'mg', null, '']),
      resultStatus: pick(['final', 'final', 'preliminary', 'retracted'] as const),
      testedAt: pick([null, '', '2026-02-20T10:00:00Z', '2026-02-21T10:00:00Z']),
      specLow: pick([undefined, null, 95]),
      specHigh: pick([undefined, 105]),
      specText: pick([undefined, null, 'Conforms']),
      submissionId: pick([null, 3]),
      line: pick([null, 7]),
    });
  }
  const releasedBefore = rand() < 0.5 ? [disposition('released', '2026-02-01T00:00:00Z', { decidedBy: null })] : [];
  return emptyFacts({
    lot: lot({
      lotNumber: pick(['L2026-001', 'L "7"']),
      expiryDate: pick([null, '', 'garbage', addDays('2026-03-15', -3), addDays('2026-03-15', 10), addDays('2026-03-15', 800)]),
      quantity: pick([null, 10000, 11150.5, 0]),
      uom: pick([null, '', 'EA', 'kg']),
    }),
    conflictingIdentifiers: rand() < 0.2 ? [{ scheme: 'cmo_batch', value: 'B-77', issuer: 'acme', lotNumbers: pick([['L2026-001', 'L9'], ['L2026-001']]) }] : [],
    stageEvents: STAGES.flatMap((s) => (rand() < 0.5 ? [stage(s, pick(['started', 'completed', 'on_hold', 'aborted'] as const), '2026-02-02T08:00:00Z', { site: pick([null, 'ACME-1']) })] : [])),
    testResults: results,
    deviations:
      rand() < 0.3
        ? [deviation('DEV-1', pick(['minor', 'major', 'critical'] as const), pick(['open', 'investigation', 'closed'] as const), { qmsRef: pick([null, '', 'Q-1']), capaRefs: pick([[], ['C-1', 'C-2']]) })]
        : [],
    dispositions: rand() < 0.3 ? [disposition(pick(['released', 'quarantine', 'rejected'] as const), '2026-03-01T00:00:00Z', { decidedBy: pick([null, 'qa.jones']) }), ...releasedBefore] : [],
    plannedReceipt: rand() < 0.5 ? plannedReceipt({ quantity: pick([10000, 0, 5000]), uom: pick([null, 'EA', 'kg']) }) : null,
    material: { materialId: '000123', productFamily: pick(['oral-solid', 'sterile-injectable', null]) },
  });
}

describe('rendering readiness from its stored form', () => {
  it('gives back every rule message from the JSON of code + params (random lots)', () => {
    const codes = new Set<string>();
    for (let s = 1; s <= 1500; s++) {
      const facts = randomFacts(mulberry32(s));
      const r = computeReadiness(facts, resolveRuleSet(TEST_CONFIG, facts.material ?? null), NOW);
      const name = { lotNumber: facts.lot.lotNumber, materialId: facts.lot.materialId };
      const stored = JSON.parse(JSON.stringify(compactReadiness(r))) as Record<string, unknown>;
      expect(JSON.stringify(stored)).not.toContain('"message"');
      const asRead = { ...r, reasons: r.reasons.map(({ params: _p, ...rest }) => rest) };
      expect(expandReadiness(stored, name)).toEqual(asRead);
      for (const x of r.reasons) {
        codes.add(x.code);
        expect(renderMessage(x.code, JSON.parse(JSON.stringify(x.params)) as Record<string, unknown>, name)).toBe(x.message);
      }
      // On the wire: the stored payload renders back to the bytes the message id was computed on.
      const msg = lotReadinessMessage({ ...facts.lot, vendor: facts.lot.vendor ?? undefined }, r, '2026-03-15T12:00:00.000Z');
      const storedPayload = JSON.parse(JSON.stringify(compactPayload(msg.payload, r))) as unknown;
      expect(JSON.stringify(expandPayload(storedPayload))).toBe(JSON.stringify(msg.payload));
    }
    // The random lots reach (nearly) every reason code.
    expect(codes.size).toBeGreaterThanOrEqual(18);
  });
});
