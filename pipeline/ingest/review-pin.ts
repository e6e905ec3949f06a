// Review approvals are pinned to what was reviewed. The preview of a held submission records the
// mapping (name + content hash) and the counts it would apply; an approval applies exactly that or
// refuses with E_REVIEW_STALE — before parsing when the feed's mapping changed since, and under the
// write lock (nothing committed) when the same mapping now gives other counts (master data or the
// partner's configuration changed). A new preview comes from `lotgate replay <id>`, and it
// supersedes any older preview of the same content: one approvable copy per content.

import type { SubmissionRow } from '../store/types.js';
import type { Store } from '../store/store.js';

export class ReviewStaleError extends Error {
  readonly code = 'E_REVIEW_STALE';
  constructor(
    readonly submissionId: number,
    detail: string,
  ) {
    super(`E_REVIEW_STALE: submission ${submissionId} cannot be approved as reviewed: ${detail}. Nothing was applied; it stays pending review. Make a new preview with \`lotgate replay ${submissionId}\`, review that one and approve it.`);
    this.name = 'ReviewStaleError';
  }
}

/** Before parsing: the feed's mapping must be the one the preview used. */
export function assertReviewedMapping(sub: SubmissionRow, feed: { name: string; hash: string }): void {
  if (sub.mappingHash === feed.hash && sub.mappingName === feed.name) return;
  const was = `${sub.mappingName ?? '(none)'} ${sub.mappingHash?.slice(0, 12) ?? '?'}`;
  throw new ReviewStaleError(sub.id, `it was previewed with mapping ${was}, the file would now be applied with ${feed.name} ${feed.hash.slice(0, 12)}`);
}

/** Before committing an approval: the counts must be those the reviewer saw. */
export function assertReviewedOutcome(sub: SubmissionRow, now: { rows: number; applied: number; rejected: number }): void {
  if (sub.rows === now.rows && sub.applied === now.applied && sub.rejected === now.rejected) return;
  throw new ReviewStaleError(sub.id, `the preview showed rows ${sub.rows}, applied ${sub.applied}, rejected ${sub.rejected}; applied now it gives rows ${now.rows}, applied ${now.applied}, rejected ${now.rejected} (master data or the partner's configuration changed)`);
}

/**
 * In the transaction that holds a new preview: older previews of the same content from the same
 * partner stop being approvable (state `duplicate`, pointing to the new one). Returns their ids.
 */
export async function supersedeOlderPreviews(store: Store, sub: Pick<SubmissionRow, 'id' | 'partner' | 'sha256'>, at: string): Promise<number[]> {
  const older = (await store.ledger.listSubmissions({ partner: sub.partner, state: 'pending_review', limit: 100_000 })).filter((s) => s.sha256 === sub.sha256 && s.id !== sub.id);
  for (const o of older) {
    await store.ledger.updateSubmission(o.id, { state: 'duplicate', duplicateOf: sub.id, finishedAt: at, errorCode: 'W_REVIEW_SUPERSEDED', errorMessage: `Superseded by the newer preview of the same content, submission ${sub.id}; approve or reject that one.` });
    await store.audit.appendAudit({ actor: 'lotgate', action: 'submission.review_superseded', subject: `submission:${o.id}`, details: { supersededBy: sub.id, sha256: sub.sha256, partner: sub.partner } });
  }
  return older.map((o) => o.id);
}
