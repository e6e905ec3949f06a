import type { DeviationRow, DeviationStatus, ReadinessReason, ReadinessState } from '../../model/types.js';
import { reason } from '../render.js';
import type { Rule } from '../rule.js';
import { cmp } from '../severity.js';
import { instantOf } from '../time.js';
import type { ReasonCode } from '../../codes.js';

const OPEN: ReadonlySet<DeviationStatus> = new Set(['open', 'investigation']);
const CLASS_RANK = { minor: 0, major: 1, critical: 2 } as const;

/**
 * The store hands over the latest version of each deviation; should two versions of one still
 * arrive, the later updatedAt wins and a same-instant tie reads as the more serious one.
 */
function latestVersions(rows: readonly DeviationRow[]): DeviationRow[] {
  const byKey = new Map<string, DeviationRow>();
  for (const d of rows) {
    const key = `${d.issuer}\u0000${d.partnerRef}`;
    const cur = byKey.get(key);
    if (!cur || newer(d, cur)) byKey.set(key, d);
  }
  return [...byKey.values()];
}

function newer(a: DeviationRow, b: DeviationRow): boolean {
  const d = instantOf(a.updatedAt) - instantOf(b.updatedAt);
  if (d !== 0 && !Number.isNaN(d)) return d > 0;
  const open = Number(OPEN.has(a.status)) - Number(OPEN.has(b.status));
  if (open !== 0) return open > 0;
  const cls = CLASS_RANK[a.classification] - CLASS_RANK[b.classification];
  if (cls !== 0) return cls > 0;
  return cmp(`${a.status}|${a.qmsRef ?? ''}|${a.title ?? ''}`, `${b.status}|${b.qmsRef ?? ''}|${b.title ?? ''}`) > 0;
}

const CODES: Record<DeviationRow['classification'], { code: ReasonCode; severity: Exclude<ReadinessState, 'READY'> }> = {
  critical: { code: 'R_DEVIATION_OPEN_CRITICAL', severity: 'BLOCKED' },
  major: { code: 'R_DEVIATION_OPEN_MAJOR', severity: 'BLOCKED' },
  minor: { code: 'R_DEVIATION_OPEN_MINOR', severity: 'CONDITIONAL' },
};

/** Open (or under investigation) deviations against the lot; closed and cancelled ones are history. */
export const deviationsRule: Rule = (facts) => {
  const reasons: ReadinessReason[] = [];
  for (const d of latestVersions(facts.deviations)) {
    if (!OPEN.has(d.status)) continue;
    const c = CODES[d.classification];
    const capas = d.capaRefs.length > 0 ? `; CAPA ${d.capaRefs.join(', ')}` : '';
    reasons.push(
      reason(
        facts,
        c.code,
        c.severity,
        { classification: d.classification, ref: d.partnerRef, qmsRef: d.qmsRef ?? null, title: d.title ?? null, issuer: d.issuer, status: d.status, openedAt: d.openedAt },
        [{ kind: 'deviation', ref: d.partnerRef, detail: `${d.classification}, ${d.status}; issuer ${d.issuer}${d.qmsRef ? `; QMS ${d.qmsRef}` : ''}; opened ${d.openedAt}${capas}` }],
      ),
    );
  }
  return reasons;
};
