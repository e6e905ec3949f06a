import type { DocumentRow, DocumentType, LotFacts } from '../model/types.js';
import { cmp } from './severity.js';
import { instantOf } from './time.js';

/**
 * The current document of a type: the highest version, then the latest issuedAt, then docId,
 * so the choice never depends on arrival order. A document that another one of the same type
 * supersedes is never current, whatever its version number says.
 */
export function currentDocument(facts: LotFacts, type: DocumentType): DocumentRow | undefined {
  const ofType = facts.documents.filter((d) => d.type === type);
  const superseded = new Set(ofType.map((d) => d.supersedes).filter((s): s is string => !!s));
  const candidates = ofType.filter((d) => !superseded.has(d.docId));
  // A supersedes-cycle (bad partner data) would leave nothing: fall back to all of them.
  const pool = candidates.length > 0 ? candidates : ofType;
  let best: DocumentRow | undefined;
  for (const d of pool) {
    if (
      !best ||
      d.version > best.version ||
      (d.version === best.version && (instantOf(d.issuedAt) > instantOf(best.issuedAt) ||
        (instantOf(d.issuedAt) === instantOf(best.issuedAt) && cmp(d.docId, best.docId) > 0)))
    ) {
      best = d;
    }
  }
  return best;
}

export const DOCUMENT_NAMES: Record<DocumentType, string> = {
  coa: 'Certificate of Analysis',
  batch_record: 'executed batch record',
  packaging_record: 'packaging record',
  test_report: 'test report',
  label_approval: 'label approval',
};
