import { currentDocument } from '../documents.js';
import { reason } from '../render.js';
import type { Rule } from '../rule.js';

/** Products whose rule set requires it need an approved label on file for the lot. */
export const labelApprovalRule: Rule = (facts, rules) => {
  if (!rules.labelApprovalRequired || currentDocument(facts, 'label_approval')) return [];
  return [reason(facts, 'R_LABEL_APPROVAL_MISSING', 'NOT_READY', {}, [{ kind: 'document', ref: 'label_approval', detail: 'none received' }])];
};
