import { describe, expect, it } from 'vitest';
import { deviationsRule } from '../../pipeline/readiness/rules/deviations.js';
import { codes, defaultRules, deviation, emptyFacts, NOW } from './facts.js';

const rules = defaultRules();
const run = (...deviations: ReturnType<typeof deviation>[]) => deviationsRule(emptyFacts({ deviations }), rules, NOW);

describe('deviations rule', () => {
  it('has nothing to say without deviations', () => {
    expect(run()).toEqual([]);
  });

  it.each([
    ['major', 'open', 'R_DEVIATION_OPEN_MAJOR', 'BLOCKED'],
    ['major', 'investigation', 'R_DEVIATION_OPEN_MAJOR', 'BLOCKED'],
    ['critical', 'open', 'R_DEVIATION_OPEN_CRITICAL', 'BLOCKED'],
    ['critical', 'investigation', 'R_DEVIATION_OPEN_CRITICAL', 'BLOCKED'],
    ['minor', 'open', 'R_DEVIATION_OPEN_MINOR', 'CONDITIONAL'],
    ['minor', 'investigation', 'R_DEVIATION_OPEN_MINOR', 'CONDITIONAL'],
  ] as const)('%s %s → %s (%s)', (cls, status, code, severity) => {
    const reasons = run(deviation('DEV-2026-014', cls, status));
    expect(codes(reasons)).toEqual([code]);
    expect(reasons[0].severity).toBe(severity);
  });

  it.each(['closed', 'cancelled'] as const)('ignores %s deviations of any class', (status) => {
    expect(run(deviation('D1', 'critical', status), deviation('D2', 'major', status), deviation('D3', 'minor', status))).toEqual([]);
  });

  it('names the deviation, its partner, its QMS reference and what clears it', () => {
    const [r] = run(deviation('DEV-2026-014', 'major', 'investigation', { qmsRef: 'QMS-778', title: 'Filter integrity failure', capaRefs: ['CAPA-5'] }));
    expect(r.message).toBe(
      'Major deviation DEV-2026-014 (QMS QMS-778) "Filter integrity failure" from acme is under investigation (opened 2026-02-10T09:00:00Z) ' +
        'against lot L2026-001 (material 000123). Release is blocked until QA closes the deviation (or reclassifies it as minor).',
    );
    expect(r.evidence).toEqual([
      { kind: 'deviation', ref: 'DEV-2026-014', detail: 'major, investigation; issuer acme; QMS QMS-778; opened 2026-02-10T09:00:00Z; CAPA CAPA-5' },
    ]);
  });

  it('gives one reason per open deviation', () => {
    const reasons = run(deviation('D1', 'major', 'open'), deviation('D2', 'minor', 'open'), deviation('D3', 'major', 'closed'));
    expect(codes(reasons).sort()).toEqual(['R_DEVIATION_OPEN_MAJOR', 'R_DEVIATION_OPEN_MINOR']);
  });

  it('uses the latest version when two versions of one deviation arrive, in any order', () => {
    const open = deviation('D1', 'major', 'open', { updatedAt: '2026-02-10T09:00:00Z' });
    const closed = deviation('D1', 'major', 'closed', { updatedAt: '2026-03-01T09:00:00Z' });
    expect(run(open, closed)).toEqual([]);
    expect(run(closed, open)).toEqual([]);
    // Same reference from another partner is another deviation.
    expect(codes(run(closed, { ...open, issuer: 'labco' }))).toEqual(['R_DEVIATION_OPEN_MAJOR']);
  });

  it('reads a same-instant tie between versions as the more serious one', () => {
    const t = '2026-03-01T09:00:00Z';
    const a = deviation('D1', 'minor', 'open', { updatedAt: t });
    const b = deviation('D1', 'major', 'open', { updatedAt: t });
    const c = deviation('D1', 'major', 'closed', { updatedAt: t });
    for (const order of [[a, b, c], [c, b, a], [b, c, a]]) expect(codes(run(...order))).toEqual(['R_DEVIATION_OPEN_MAJOR']);
    // Open beats closed before class does: a closed critical does not hide an open minor.
    const d = deviation('D1', 'critical', 'closed', { updatedAt: t });
    for (const order of [[a, d], [d, a]]) expect(codes(run(...order))).toEqual(['R_DEVIATION_OPEN_MINOR']);
  });
});
