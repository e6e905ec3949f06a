import { describe, expect, it } from 'vitest';
import { labelApprovalRule } from '../../pipeline/readiness/rules/label-approval.js';
import { codes, defaultRules, doc, emptyFacts, NOW } from './facts.js';

describe('label approval rule', () => {
  it('asks for nothing when the product does not require it', () => {
    expect(labelApprovalRule(emptyFacts(), defaultRules({ labelApprovalRequired: false }), NOW)).toEqual([]);
  });

  it('is NOT_READY without a label approval when required', () => {
    const reasons = labelApprovalRule(emptyFacts({ documents: [doc('coa', 'COA-1')] }), defaultRules({ labelApprovalRequired: true }), NOW);
    expect(codes(reasons)).toEqual(['R_LABEL_APPROVAL_MISSING']);
    expect(reasons[0].severity).toBe('NOT_READY');
    expect(reasons[0].message).toContain('No label approval received for lot L2026-001');
  });

  it('is satisfied by a label approval document (any version of the chain)', () => {
    const facts = emptyFacts({ documents: [doc('label_approval', 'LA-1', 1), doc('label_approval', 'LA-2', 2, { supersedes: 'LA-1' })] });
    expect(labelApprovalRule(facts, defaultRules({ labelApprovalRequired: true }), NOW)).toEqual([]);
  });
});
