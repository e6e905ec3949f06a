import { describe, expect, it } from 'vitest';
import { currentDocument } from '../../pipeline/readiness/documents.js';
import { documentsRule } from '../../pipeline/readiness/rules/documents.js';
import { codes, defaultRules, doc, emptyFacts, NOW } from './facts.js';

describe('documents rule', () => {
  it('is satisfied by a CoA under the default rules', () => {
    expect(documentsRule(emptyFacts({ documents: [doc('coa', 'COA-1')] }), defaultRules(), NOW)).toEqual([]);
  });

  it('says plainly that no CoA was received for the lot', () => {
    const reasons = documentsRule(emptyFacts({ documents: [doc('batch_record', 'BR-1')] }), defaultRules(), NOW);
    expect(codes(reasons)).toEqual(['R_COA_MISSING']);
    expect(reasons[0].severity).toBe('NOT_READY');
    expect(reasons[0].message).toMatch(/^No Certificate of Analysis received for lot L2026-001\b/);
    expect(reasons[0].evidence).toEqual([{ kind: 'document', ref: 'coa', detail: 'none received' }]);
  });

  it('requires every configured type, one reason per missing type', () => {
    const rules = defaultRules({ requiredDocuments: ['coa', 'batch_record', 'packaging_record'] });
    const reasons = documentsRule(emptyFacts({ documents: [doc('batch_record', 'BR-1')] }), rules, NOW);
    expect(codes(reasons).sort()).toEqual(['R_COA_MISSING', 'R_DOC_MISSING']);
    const missing = reasons.find((r) => r.code === 'R_DOC_MISSING')!;
    expect(missing.message).toContain('No packaging record (packaging_record) received for lot L2026-001');
    expect(missing.evidence[0].ref).toBe('packaging_record');
  });

  it('requires nothing when the rule set lists no documents', () => {
    expect(documentsRule(emptyFacts(), defaultRules({ requiredDocuments: [] }), NOW)).toEqual([]);
  });

  it('leaves label approval to its own rule when that rule is on', () => {
    const listed = defaultRules({ requiredDocuments: ['coa', 'label_approval'] });
    const facts = emptyFacts({ documents: [doc('coa', 'COA-1')] });
    expect(codes(documentsRule(facts, listed, NOW))).toEqual(['R_DOC_MISSING']);
    expect(documentsRule(facts, { ...listed, labelApprovalRequired: true }, NOW)).toEqual([]);
  });
});

describe('currentDocument', () => {
  it('is the highest version, whatever the order', () => {
    const docs = [doc('coa', 'COA-1', 1), doc('coa', 'COA-1', 3), doc('coa', 'COA-1', 2)];
    expect(currentDocument(emptyFacts({ documents: docs }), 'coa')?.version).toBe(3);
    expect(currentDocument(emptyFacts({ documents: [...docs].reverse() }), 'coa')?.version).toBe(3);
  });

  it('never picks a superseded document, even with a higher version number', () => {
    const docs = [doc('coa', 'COA-OLD', 5), doc('coa', 'COA-NEW', 1, { supersedes: 'COA-OLD' })];
    expect(currentDocument(emptyFacts({ documents: docs }), 'coa')?.docId).toBe('COA-NEW');
  });

  it('breaks version ties by issuedAt, then docId', () => {
    const a = doc('coa', 'COA-A', 1, { issuedAt: '2026-03-01T00:00:00Z' });
    const b = doc('coa', 'COA-B', 1, { issuedAt: '2026-02-01T00:00:00Z' });
    expect(currentDocument(emptyFacts({ documents: [a, b] }), 'coa')?.docId).toBe('COA-A');
    expect(currentDocument(emptyFacts({ documents: [b, a] }), 'coa')?.docId).toBe('COA-A');
    const c = doc('coa', 'COA-C', 1, { issuedAt: '2026-03-01T00:00:00Z' });
    expect(currentDocument(emptyFacts({ documents: [c, a] }), 'coa')?.docId).toBe('COA-C');
  });

  it('still finds a document when a supersedes cycle would exclude all of them', () => {
    const docs = [doc('coa', 'A', 1, { supersedes: 'B' }), doc('coa', 'B', 2, { supersedes: 'A' })];
    expect(currentDocument(emptyFacts({ documents: docs }), 'coa')?.docId).toBe('B');
  });

  it('is undefined when no document of the type exists', () => {
    expect(currentDocument(emptyFacts({ documents: [doc('coa', 'C')] }), 'label_approval')).toBeUndefined();
  });
});
