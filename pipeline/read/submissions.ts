// Submissions as the CLI and the API show them: the ledger row, its rejected rows.

import type { Access, RejectedRowRow, Store, SubmissionFilters, SubmissionRow } from '../store/store.js';

export interface SubmissionView extends Omit<SubmissionRow, 'archivePath' | 'ackPath'> {
  errors: RejectedRowRow[];
  errorCount: number;
}

/** The ledger row without server paths, plus up to `maxErrors` rejected rows (line, column, field, code). */
export async function submissionView(store: Store, s: SubmissionRow, maxErrors = 1000): Promise<SubmissionView> {
  const { archivePath: _a, ackPath: _k, ...rest } = s;
  return { ...rest, errors: await store.ledger.listRejectedRows(s.id, maxErrors), errorCount: await store.ledger.countRejectedRows(s.id) };
}

export function submissionSummary(s: SubmissionRow): Omit<SubmissionRow, 'archivePath' | 'ackPath'> {
  const { archivePath: _a, ackPath: _k, ...rest } = s;
  return rest;
}

export async function listSubmissionPage(store: Store, access: Access, f: SubmissionFilters, page: { limit: number; before?: number }) {
  const rows = await store.reads.listSubmissionsScoped(access, f, { limit: page.limit + 1, before: page.before });
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  return { items: items.map(submissionSummary), nextBefore: more ? items[items.length - 1].id : null };
}
