import type { ReadinessReason } from '../../model/types.js';
import { currentDocument } from '../documents.js';
import { reason } from '../render.js';
import type { Rule } from '../rule.js';

/** Each required document type present for the lot (its current version stands for the whole chain). */
export const documentsRule: Rule = (facts, rules) => {
  const reasons: ReadinessReason[] = [];
  for (const type of new Set(rules.requiredDocuments)) {
    // The label-approval rule owns that requirement when it is on: one reason, not two.
    if (type === 'label_approval' && rules.labelApprovalRequired) continue;
    if (currentDocument(facts, type)) continue;
    const evidence = [{ kind: 'document', ref: type, detail: 'none received' }];
    if (type === 'coa') reasons.push(reason(facts, 'R_COA_MISSING', 'NOT_READY', {}, evidence));
    else reasons.push(reason(facts, 'R_DOC_MISSING', 'NOT_READY', { type }, evidence));
  }
  return reasons;
};
