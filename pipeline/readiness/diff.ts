import type { Readiness, ReadinessReason } from '../model/types.js';

/**
 * A reason's identity for change detection: its code and the records behind it. Messages are
 * left out on purpose, since they carry counts like "12 days of shelf life left" that move with
 * the clock without anything having changed.
 */
function reasonKey(r: ReadinessReason): string {
  const refs = [...new Set(r.evidence.map((e) => `${e.kind}:${e.ref}`))].sort();
  return `${r.code}[${refs.join(',')}]`;
}

function keys(r: Readiness): Set<string> {
  return new Set(r.reasons.map(reasonKey));
}

/**
 * Whether a readiness change is worth an audit event and an outbox message: the state, the
 * late flag, or the set of reasons differ. Reasons compare by code and the records they name,
 * so a second major deviation on an already-blocked lot is a change even though the codes match.
 */
export function readinessChanged(a: Readiness | null, b: Readiness): boolean {
  if (a === null) return true;
  if (a.state !== b.state || a.late !== b.late) return true;
  const ka = keys(a);
  const kb = keys(b);
  if (ka.size !== kb.size) return true;
  for (const k of ka) if (!kb.has(k)) return true;
  return false;
}
