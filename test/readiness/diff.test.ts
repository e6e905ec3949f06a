import { describe, expect, it } from 'vitest';
import type { ReasonCode } from '../../pipeline/codes.js';
import type { Readiness, ReadinessReason } from '../../pipeline/model/types.js';
import { readinessChanged } from '../../pipeline/readiness/diff.js';

const reason = (code: ReasonCode, ref = 'x', message = `${code} happened`): ReadinessReason => ({
  code,
  message,
  severity: 'NOT_READY',
  evidence: [{ kind: 'k', ref, detail: 'd' }],
});
const readiness = (over: Partial<Readiness> = {}): Readiness => ({ state: 'NOT_READY', reasons: [reason('R_COA_MISSING'), reason('R_TEST_MISSING')], late: false, ...over });

describe('readinessChanged', () => {
  it('is a change when there was no readiness before', () => {
    expect(readinessChanged(null, readiness())).toBe(true);
  });

  it('is no change for an equal readiness', () => {
    expect(readinessChanged(readiness(), readiness())).toBe(false);
  });

  it('is a change when the state differs', () => {
    expect(readinessChanged(readiness(), readiness({ state: 'BLOCKED' }))).toBe(true);
  });

  it('is a change when late differs', () => {
    expect(readinessChanged(readiness(), readiness({ late: true, lateStages: [{ stage: 'filling', dueDate: '2026-04-01' }] }))).toBe(true);
  });

  it('is a change when the set of reason codes differs', () => {
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_COA_MISSING')] }))).toBe(true);
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_COA_MISSING'), reason('R_DOC_MISSING')] }))).toBe(true);
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_COA_MISSING'), reason('R_TEST_MISSING'), reason('R_DOC_MISSING')] }))).toBe(true);
  });

  it('is a change when the same code now rests on other records', () => {
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_COA_MISSING'), reason('R_TEST_MISSING', 'y')] }))).toBe(true);
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_COA_MISSING'), reason('R_TEST_MISSING'), reason('R_TEST_MISSING', 'y')] }))).toBe(true);
  });

  it('ignores reason order, message wording, evidence detail and lateStages dates', () => {
    const a = readiness({ late: true, lateStages: [{ stage: 'filling', dueDate: '2026-04-01' }] });
    const b = readiness({
      late: true,
      lateStages: [{ stage: 'filling', dueDate: '2026-04-02' }],
      reasons: [{ ...reason('R_TEST_MISSING', 'x', '12 days left'), evidence: [{ kind: 'k', ref: 'x', detail: 'other detail' }] }, reason('R_COA_MISSING')],
    });
    expect(readinessChanged(a, b)).toBe(false);
  });
});
