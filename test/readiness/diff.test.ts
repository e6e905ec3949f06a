import { describe, expect, it } from 'vitest';
import type { Readiness, ReadinessReason } from '../../pipeline/model/types.js';
import { readinessChanged } from '../../pipeline/readiness/diff.js';

const reason = (code: string, ref = 'x', message = `${code} happened`): ReadinessReason => ({
  code,
  message,
  severity: 'NOT_READY',
  evidence: [{ kind: 'k', ref, detail: 'd' }],
});
const readiness = (over: Partial<Readiness> = {}): Readiness => ({ state: 'NOT_READY', reasons: [reason('R_A'), reason('R_B')], late: false, ...over });

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
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_A')] }))).toBe(true);
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_A'), reason('R_C')] }))).toBe(true);
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_A'), reason('R_B'), reason('R_C')] }))).toBe(true);
  });

  it('is a change when the same code now rests on other records', () => {
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_A'), reason('R_B', 'y')] }))).toBe(true);
    expect(readinessChanged(readiness(), readiness({ reasons: [reason('R_A'), reason('R_B'), reason('R_B', 'y')] }))).toBe(true);
  });

  it('ignores reason order, message wording, evidence detail and lateStages dates', () => {
    const a = readiness({ late: true, lateStages: [{ stage: 'filling', dueDate: '2026-04-01' }] });
    const b = readiness({
      late: true,
      lateStages: [{ stage: 'filling', dueDate: '2026-04-02' }],
      reasons: [{ ...reason('R_B', 'x', '12 days left'), evidence: [{ kind: 'k', ref: 'x', detail: 'other detail' }] }, reason('R_A')],
    });
    expect(readinessChanged(a, b)).toBe(false);
  });
});
