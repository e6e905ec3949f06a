// What an acknowledgment needs beyond the submission's own ledger row: the earlier submissions it
// points to, the partner's time zone, and how its files are written (CSV dialect, whether it is
// the newest answer for its file name). Reads only; building and writing stay in ack.ts.

import path from 'node:path';
import type { SubmissionRef } from '../model/types.js';
import type { SubmissionRow } from '../store/types.js';
import { ackCsvDialect, ackFileName, type WriteAckOptions } from './ack.js';
import type { IngestDeps } from './deps.js';

async function refTo(deps: Pick<IngestDeps, 'store'>, id: number | null): Promise<SubmissionRef | undefined> {
  const r = id === null ? undefined : await deps.store.ledger.getSubmission(id);
  if (!r) return undefined;
  // Submissions answered before per-submission names keep the name they were answered under.
  const ackFile = r.ackPath ? path.basename(r.ackPath) : ackFileName(r.originalName, r.id, 'json');
  return { submissionId: r.id, file: r.originalName, state: r.state, receivedAt: r.receivedAt, ackFile };
}

/** The submissions a `duplicate` or a resend points to. */
export async function ackLinks(deps: Pick<IngestDeps, 'store'>, sub: SubmissionRow): Promise<{ duplicateOf?: SubmissionRef; resendOf?: SubmissionRef }> {
  return { duplicateOf: await refTo(deps, sub.duplicateOf), resendOf: await refTo(deps, sub.resendOf) };
}

/** The partner's `timezone:`, else config.yaml's `timezone:` (itself defaulting to the machine's). */
export function ackTimeZone(deps: Pick<IngestDeps, 'partners' | 'config'>, sub: SubmissionRow): string {
  return deps.partners().get(sub.partner)?.timezone ?? deps.config.timezone;
}

/**
 * The CSV delimiter the partner's files use: that of the feed the submission was read with when
 * it is a CSV feed, else the one all the partner's CSV feeds share (a CoA PDF, a file no feed took).
 */
function feedDelimiter(deps: IngestDeps, sub: SubmissionRow): string | undefined {
  const csvFeeds = deps.mappings.entries(sub.partner).filter((e) => e.spec?.format === 'csv');
  const own = csvFeeds.find((e) => e.name === sub.mappingName);
  const delimiters = new Set((own ? [own] : csvFeeds).map((e) => e.spec?.dialect?.delimiter ?? ','));
  return delimiters.size === 1 ? [...delimiters][0] : undefined;
}

export async function ackWriteOptions(deps: IngestDeps, sub: SubmissionRow): Promise<WriteAckOptions> {
  return {
    csv: deps.config.intake.ackCsv ? ackCsvDialect(deps.partners().get(sub.partner)?.ack, feedDelimiter(deps, sub)) : null,
    // The stable <name>.ack.json follows the newest upload of the name that has an answer.
    latest: !(await deps.store.ledger.hasNewerAnsweredByName(sub.partner, sub.originalName, sub.id)),
  };
}
