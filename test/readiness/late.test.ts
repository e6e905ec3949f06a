import { describe, expect, it } from 'vitest';
import { computeLate } from '../../pipeline/readiness/late.js';
import { completedStages, defaultRules, emptyFacts, plannedReceipt, stage } from './facts.js';

const rules = defaultRules(); // lead times: compounding 28, filling 21, packaging 14, testing 7, qa_review 3
// Everything done except qa_review, receipt planned 2026-04-30 → qa_review due 2026-04-27.
const facts = (over: Parameters<typeof plannedReceipt>[0] = {}) =>
  emptyFacts({
    stageEvents: [...completedStages(['compounding', 'filling', 'packaging', 'testing']), stage('qa_review', 'started', '2026-04-20T08:00:00Z')],
    plannedReceipt: plannedReceipt({ plannedDate: '2026-04-30', ...over }),
  });

describe('computeLate', () => {
  it('is not late up to and including the due date', () => {
    expect(computeLate(facts(), rules, new Date('2026-04-27T23:59:59Z'))).toEqual({ late: false, lateStages: [] });
  });

  it('is late from the day after the due date, listing the stage and its due date', () => {
    expect(computeLate(facts(), rules, new Date('2026-04-28T00:00:00Z'))).toEqual({ late: true, lateStages: [{ stage: 'qa_review', dueDate: '2026-04-27' }] });
  });

  it('lists every overdue stage in rule order', () => {
    const f = emptyFacts({ stageEvents: completedStages(['compounding']), plannedReceipt: plannedReceipt({ plannedDate: '2026-04-30' }) });
    expect(computeLate(f, rules, new Date('2026-04-20T12:00:00Z')).lateStages).toEqual([
      { stage: 'filling', dueDate: '2026-04-09' },
      { stage: 'packaging', dueDate: '2026-04-16' },
    ]);
  });

  it('prefers the confirmed date over the planned date', () => {
    const now = new Date('2026-04-28T12:00:00Z');
    expect(computeLate(facts({ confirmedDate: '2026-05-15' }), rules, now).late).toBe(false);
    expect(computeLate(facts({ confirmedDate: '2026-04-20' }), rules, new Date('2026-04-18T00:00:00Z')).lateStages).toEqual([
      { stage: 'qa_review', dueDate: '2026-04-17' },
    ]);
  });

  it('falls back to the planned date when the confirmed date is not a date', () => {
    expect(computeLate(facts({ confirmedDate: 'TBD' }), rules, new Date('2026-04-28T00:00:00Z')).late).toBe(true);
  });

  it('is never late once every stage is completed', () => {
    const f = emptyFacts({ stageEvents: completedStages(), plannedReceipt: plannedReceipt({ plannedDate: '2026-01-01' }) });
    expect(computeLate(f, rules, new Date('2026-06-01T00:00:00Z')).late).toBe(false);
  });

  it('is never late without a planned receipt, a usable date, on a cancelled PO line, or for a stage without lead time', () => {
    const late = new Date('2026-06-01T00:00:00Z');
    expect(computeLate({ ...facts(), plannedReceipt: null }, rules, late).late).toBe(false);
    expect(computeLate(facts({ plannedDate: null }), rules, late).late).toBe(false);
    expect(computeLate(facts({ plannedDate: 'soon' }), rules, late).late).toBe(false);
    expect(computeLate(facts({ status: 'cancelled' }), rules, late).late).toBe(false);
    expect(computeLate(facts(), defaultRules({ stageDueDaysBeforeReceipt: { compounding: 28 } }), late).late).toBe(false);
  });

  it('counts a stage on hold as not completed', () => {
    const f = facts();
    f.stageEvents.push(stage('qa_review', 'on_hold', '2026-04-21T08:00:00Z'));
    expect(computeLate(f, rules, new Date('2026-04-28T00:00:00Z')).late).toBe(true);
  });
});
