import { describe, expect, it } from 'vitest';
import { identityRule } from '../../pipeline/readiness/rules/identity.js';
import { codes, defaultRules, emptyFacts, NOW } from './facts.js';

describe('identity rule', () => {
  it('has nothing to say when no identifier conflicts', () => {
    expect(identityRule(emptyFacts(), defaultRules(), NOW)).toEqual([]);
  });

  it('blocks on an identifier that also points at another lot, naming both lots and the issuer', () => {
    const facts = emptyFacts({
      conflictingIdentifiers: [{ scheme: 'cmo_batch', value: 'B-77', issuer: 'acme', lotNumbers: ['L2026-009', 'L2026-001'] }],
    });
    const reasons = identityRule(facts, defaultRules(), NOW);
    expect(codes(reasons)).toEqual(['R_ID_CONFLICT']);
    expect(reasons[0].severity).toBe('BLOCKED');
    expect(reasons[0].message).toContain("cmo_batch 'B-77' from acme");
    expect(reasons[0].message).toContain('lot L2026-001');
    expect(reasons[0].message).toContain('also for lot L2026-009');
    expect(reasons[0].evidence).toEqual([{ kind: 'identifier', ref: 'cmo_batch:B-77', detail: 'issuer acme; lots L2026-001, L2026-009' }]);
  });

  it('gives one reason per distinct conflicting identifier', () => {
    const facts = emptyFacts({
      conflictingIdentifiers: [
        { scheme: 'cmo_batch', value: 'B-77', issuer: 'acme', lotNumbers: ['L2026-001', 'L2026-009'] },
        { scheme: 'cmo_batch', value: 'B-77', issuer: 'acme', lotNumbers: ['L2026-009', 'L2026-001'] },
        { scheme: 'lims_sample', value: 'S-1', issuer: 'labco', lotNumbers: ['L2026-001', 'L2026-010'] },
      ],
    });
    const reasons = identityRule(facts, defaultRules(), NOW);
    expect(reasons.map((r) => r.evidence[0].ref).sort()).toEqual(['cmo_batch:B-77', 'lims_sample:S-1']);
  });
});
