import type { LotFacts, StageEventRow, StageStatus } from '../model/types.js';
import { cmp } from './severity.js';
import { instantOf } from './time.js';

// When two events of a stage carry the same eventTime, the lifecycle decides: a stage reported
// started and completed in the same instant is completed, and a hold or abort reported in the
// same instant as a completion wins (the conservative reading). Never the arrival order.
const TIE_RANK: Record<StageStatus, number> = { started: 0, completed: 1, on_hold: 2, aborted: 3 };

export function normStage(stage: string): string {
  return stage.trim().toLowerCase();
}

/** The event that decides a stage's current status, or undefined when nothing was reported. */
export function latestStageEvent(facts: LotFacts, stage: string): StageEventRow | undefined {
  const want = normStage(stage);
  let best: StageEventRow | undefined;
  for (const e of facts.stageEvents) {
    if (normStage(e.stage) !== want) continue;
    if (!best || laterEvent(e, best)) best = e;
  }
  return best;
}

function laterEvent(a: StageEventRow, b: StageEventRow): boolean {
  const d = instantOf(a.eventTime) - instantOf(b.eventTime);
  if (d !== 0 && !Number.isNaN(d)) return d > 0;
  const r = TIE_RANK[a.status] - TIE_RANK[b.status];
  if (r !== 0) return r > 0;
  return cmp(`${a.site ?? ''}|${a.eventTime}`, `${b.site ?? ''}|${b.eventTime}`) > 0;
}

/** Required stages whose latest event is not `completed` (no event counts as not completed). */
export function stagesNotCompleted(facts: LotFacts, requiredStages: readonly string[]): { stage: string; event?: StageEventRow }[] {
  const out: { stage: string; event?: StageEventRow }[] = [];
  for (const stage of requiredStages) {
    const event = latestStageEvent(facts, stage);
    if (event?.status !== 'completed') out.push({ stage, event });
  }
  return out;
}

/** Evidence detail naming where an event came from. */
export function eventDetail(e: StageEventRow): string {
  const where = e.submissionId != null ? `; submission ${e.submissionId}${e.line != null ? ` line ${e.line}` : ''}` : '';
  return `${e.status} at ${e.eventTime}${e.site ? ` (site ${e.site})` : ''}${where}`;
}
