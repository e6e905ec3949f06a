import type { ReadinessReason } from '../../model/types.js';
import { lotLabel } from '../describe.js';
import { currentDocument, DOCUMENT_NAMES } from '../documents.js';
import type { Rule } from '../rule.js';

/** Each required document type present for the lot (its current version stands for the whole chain). */
export const documentsRule: Rule = (facts, rules) => {
  const reasons: ReadinessReason[] = [];
  for (const type of new Set(rules.requiredDocuments)) {
    // The label-approval rule owns that requirement when it is on: one reason, not two.
    if (type === 'label_approval' && rules.labelApprovalRequired) continue;
    if (currentDocument(facts, type)) continue;
    const evidence = [{ kind: 'document', ref: type, detail: 'none received' }];
    if (type === 'coa') {
      reasons.push({
        code: 'R_COA_MISSING',
        severity: 'NOT_READY',
        message: `No Certificate of Analysis received for lot ${facts.lot.lotNumber} (material ${facts.lot.materialId}). The lab or manufacturer needs to send the CoA for this lot.`,
        evidence,
      });
    } else {
      reasons.push({
        code: 'R_DOC_MISSING',
        severity: 'NOT_READY',
        message: `No ${DOCUMENT_NAMES[type]} (${type}) received for ${lotLabel(facts)}; this product requires one before release. The manufacturer needs to send it.`,
        evidence,
      });
    }
  }
  return reasons;
};
