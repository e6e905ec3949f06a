import type { ReadinessReason } from '../../model/types.js';
import { lotLabel, lotTitle } from '../describe.js';
import type { Rule } from '../rule.js';
import { eventDetail, stagesNotCompleted } from '../stage-status.js';

/** Every required stage completed; a hold or abort on any of them blocks the lot. */
export const stagesRule: Rule = (facts, rules) => {
  const reasons: ReadinessReason[] = [];
  const incomplete: { stage: string; detail: string }[] = [];
  for (const { stage, event } of stagesNotCompleted(facts, rules.requiredStages)) {
    if (event?.status === 'on_hold') {
      reasons.push({
        code: 'R_STAGE_ON_HOLD',
        severity: 'BLOCKED',
        message: `Stage ${stage} of ${lotLabel(facts)} is on hold since ${event.eventTime}. The lot stays blocked until the partner reports the stage resumed and completed.`,
        evidence: [{ kind: 'stage_event', ref: stage, detail: eventDetail(event) }],
      });
    } else if (event?.status === 'aborted') {
      reasons.push({
        code: 'R_STAGE_ABORTED',
        severity: 'BLOCKED',
        message: `Stage ${stage} of ${lotLabel(facts)} was aborted at ${event.eventTime}. The lot cannot be released unless the partner reports the stage repeated and completed.`,
        evidence: [{ kind: 'stage_event', ref: stage, detail: eventDetail(event) }],
      });
    } else {
      incomplete.push({ stage, detail: event ? eventDetail(event) : 'no event received' });
    }
  }
  if (incomplete.length > 0) {
    const list = incomplete.map((s) => `${s.stage} (${s.detail.startsWith('started') ? 'started, not completed' : 'not reported'})`).join(', ');
    reasons.push({
      code: 'R_STAGE_INCOMPLETE',
      severity: 'NOT_READY',
      message: `${lotTitle(facts)} has required stages not completed: ${list}. A completion event from the manufacturer for each clears this.`,
      evidence: incomplete.map((s) => ({ kind: 'stage', ref: s.stage, detail: s.detail })),
    });
  }
  return reasons;
};
