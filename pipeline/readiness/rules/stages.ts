import type { ReadinessReason } from '../../model/types.js';
import { reason } from '../render.js';
import type { Rule } from '../rule.js';
import { eventDetail, stagesNotCompleted } from '../stage-status.js';

/** Every required stage completed; a hold or abort on any of them blocks the lot. */
export const stagesRule: Rule = (facts, rules) => {
  const reasons: ReadinessReason[] = [];
  const incomplete: { stage: string; detail: string }[] = [];
  for (const { stage, event } of stagesNotCompleted(facts, rules.requiredStages)) {
    if (event?.status === 'on_hold') {
      reasons.push(reason(facts, 'R_STAGE_ON_HOLD', 'BLOCKED', { stage, at: event.eventTime }, [{ kind: 'stage_event', ref: stage, detail: eventDetail(event) }]));
    } else if (event?.status === 'aborted') {
      reasons.push(reason(facts, 'R_STAGE_ABORTED', 'BLOCKED', { stage, at: event.eventTime }, [{ kind: 'stage_event', ref: stage, detail: eventDetail(event) }]));
    } else {
      incomplete.push({ stage, detail: event ? eventDetail(event) : 'no event received' });
    }
  }
  if (incomplete.length > 0) {
    const stages = incomplete.map((s) => [s.stage, s.detail.startsWith('started') ? 1 : 0]);
    reasons.push(
      reason(
        facts,
        'R_STAGE_INCOMPLETE',
        'NOT_READY',
        { stages },
        incomplete.map((s) => ({ kind: 'stage', ref: s.stage, detail: s.detail })),
      ),
    );
  }
  return reasons;
};
