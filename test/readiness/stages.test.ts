import { describe, expect, it } from 'vitest';
import { stagesRule } from '../../pipeline/readiness/rules/stages.js';
import { codes, completedStages, defaultRules, emptyFacts, NOW, stage } from './facts.js';

const rules = defaultRules();

describe('stages rule', () => {
  it('is satisfied when every required stage is completed', () => {
    expect(stagesRule(emptyFacts({ stageEvents: completedStages() }), rules, NOW)).toEqual([]);
  });

  it('gives one NOT_READY reason listing started and unreported stages, with evidence per stage', () => {
    const facts = emptyFacts({
      stageEvents: [...completedStages(['compounding', 'filling']), stage('packaging', 'started', '2026-03-01T08:00:00Z')],
    });
    const reasons = stagesRule(facts, rules, NOW);
    expect(codes(reasons)).toEqual(['R_STAGE_INCOMPLETE']);
    expect(reasons[0].severity).toBe('NOT_READY');
    expect(reasons[0].message).toMatch(/^Lot L2026-001 \(material 000123\) has required stages not completed: packaging \(started, not completed\), testing \(not reported\), qa_review \(not reported\)\./);
    expect(reasons[0].evidence.map((e) => [e.kind, e.ref])).toEqual([
      ['stage', 'packaging'],
      ['stage', 'testing'],
      ['stage', 'qa_review'],
    ]);
    expect(reasons[0].evidence[0].detail).toContain('started at 2026-03-01T08:00:00Z');
    expect(reasons[0].evidence[1].detail).toBe('no event received');
  });

  it('reports every stage as incomplete for a lot nobody reported on', () => {
    const [r] = stagesRule(emptyFacts(), rules, NOW);
    expect(r.evidence).toHaveLength(5);
  });

  it('decides by the latest event by eventTime, not by arrival order', () => {
    const events = [
      ...completedStages(),
      // Reported later in the file but earlier in time: the completion still stands.
      stage('testing', 'on_hold', '2026-02-01T00:00:00Z'),
    ];
    expect(stagesRule(emptyFacts({ stageEvents: events }), rules, NOW)).toEqual([]);
    expect(stagesRule(emptyFacts({ stageEvents: [...events].reverse() }), rules, NOW)).toEqual([]);
  });

  it('compares instants across time zone offsets', () => {
    const events = [
      ...completedStages(['compounding', 'filling', 'packaging', 'testing']),
      stage('qa_review', 'completed', '2026-03-01T10:00:00+02:00'), // 08:00Z
      stage('qa_review', 'on_hold', '2026-03-01T09:00:00Z'),
    ];
    expect(codes(stagesRule(emptyFacts({ stageEvents: events }), rules, NOW))).toEqual(['R_STAGE_ON_HOLD']);
  });

  it('blocks on a hold, naming the stage and when, and does not also list it as incomplete', () => {
    const facts = emptyFacts({
      stageEvents: [
        ...completedStages(['compounding', 'packaging', 'testing', 'qa_review']),
        stage('filling', 'started', '2026-02-04T08:00:00Z'),
        stage('filling', 'on_hold', '2026-02-04T11:00:00Z', { submissionId: 31, line: 7 }),
      ],
    });
    const reasons = stagesRule(facts, rules, NOW);
    expect(codes(reasons)).toEqual(['R_STAGE_ON_HOLD']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[0].message).toContain('Stage filling of lot L2026-001');
    expect(reasons[0].message).toContain('2026-02-04T11:00:00Z');
    expect(reasons[0].evidence).toEqual([{ kind: 'stage_event', ref: 'filling', detail: 'on_hold at 2026-02-04T11:00:00Z (site ACME-1); submission 31 line 7' }]);
  });

  it('blocks on an aborted stage', () => {
    const facts = emptyFacts({ stageEvents: [...completedStages(['compounding']), stage('filling', 'aborted', '2026-02-05T08:00:00Z')] });
    const reasons = stagesRule(facts, rules, NOW);
    expect(codes(reasons)).toEqual(['R_STAGE_ABORTED', 'R_STAGE_INCOMPLETE']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[1].evidence.map((e) => e.ref)).toEqual(['packaging', 'testing', 'qa_review']);
  });

  it('clears a hold once the stage is resumed and completed', () => {
    const facts = emptyFacts({
      stageEvents: [
        ...completedStages(),
        stage('filling', 'on_hold', '2026-02-05T09:00:00Z'),
        stage('filling', 'completed', '2026-02-06T09:00:00Z'),
      ],
    });
    expect(stagesRule(facts, rules, NOW)).toEqual([]);
  });

  it('resolves same-instant events by lifecycle: started+completed is completed, completed+on_hold is on hold', () => {
    const t = '2026-02-10T10:00:00Z';
    const base = completedStages(['compounding', 'filling', 'packaging', 'testing']);
    const done = emptyFacts({ stageEvents: [...base, stage('qa_review', 'completed', t), stage('qa_review', 'started', t)] });
    expect(stagesRule(done, rules, NOW)).toEqual([]);
    const held = [...base, stage('qa_review', 'on_hold', t), stage('qa_review', 'completed', t)];
    expect(codes(stagesRule(emptyFacts({ stageEvents: held }), rules, NOW))).toEqual(['R_STAGE_ON_HOLD']);
    expect(codes(stagesRule(emptyFacts({ stageEvents: [...held].reverse() }), rules, NOW))).toEqual(['R_STAGE_ON_HOLD']);
  });

  it('only looks at the required stages, matching names case-insensitively', () => {
    const r = defaultRules({ requiredStages: ['filling'] });
    const facts = emptyFacts({ stageEvents: [stage('Filling ', 'completed', '2026-02-10T10:00:00Z'), stage('packaging', 'aborted', '2026-02-11T10:00:00Z')] });
    expect(stagesRule(facts, r, NOW)).toEqual([]);
  });
});
