import { lotLabel } from '../describe.js';
import { currentDocument } from '../documents.js';
import type { Rule } from '../rule.js';

/** Products whose rule set requires it need an approved label on file for the lot. */
export const labelApprovalRule: Rule = (facts, rules) => {
  if (!rules.labelApprovalRequired || currentDocument(facts, 'label_approval')) return [];
  return [
    {
      code: 'R_LABEL_APPROVAL_MISSING',
      severity: 'NOT_READY',
      message: `No label approval received for ${lotLabel(facts)}; this product requires an approved label before release. Send the label_approval document for this lot.`,
      evidence: [{ kind: 'document', ref: 'label_approval', detail: 'none received' }],
    },
  ];
};
