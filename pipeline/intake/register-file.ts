// Takes a complete file into the ledger: digest, archive, ledger row, audit.
// Order matters for "nothing lost": archive (link/copy) → ledger row → remove the source.
// A crash before the ledger row leaves the file in inbound/ for the reconciler; a crash after
// it leaves a ledger row in `received`, which the reconciler re-queues.

import type { ErrorCode } from '../codes.js';
import { rm } from 'node:fs/promises';
import type { IngestDeps } from '../ingest/deps.js';
import { hashFile } from './archive.js';

export type SubmissionSource = 'sftp' | 'watch' | 'cli' | 'pull' | 'replay';

export interface IncomingFile {
  partner: string;
  /** Where the bytes are now. */
  path: string;
  /** The name the partner gave the file. */
  name: string;
  source: SubmissionSource;
  /** Known when the drop zone hashed the bytes while they streamed in. */
  sha256?: string;
  size?: number;
  receivedAt?: string;
  /** Remove `path` once the ledger holds the file (drop-zone files); CLI files stay. */
  removeSource: boolean;
  replayOf?: number;
  /**
   * Insert the ledger row already quarantined (partial uploads): a crash before the caller's
   * quarantine() then leaves a terminal row, never one the reconciler would queue for processing.
   */
  quarantined?: { code: ErrorCode; message: string };
}

export async function registerFile(deps: Pick<IngestDeps, 'store' | 'archive' | 'now'>, f: IncomingFile): Promise<number> {
  const digest = f.sha256 && f.size !== undefined ? { sha256: f.sha256, size: f.size } : await hashFile(f.path);
  const archivePath = await deps.archive.put(f.path, digest.sha256, { link: f.removeSource });
  const receivedAt = f.receivedAt ?? deps.now().toISOString();
  const id = await deps.store.transaction(async (tx) => {
    const sid = await tx.ledger.insertSubmission({
      partner: f.partner,
      originalName: f.name,
      size: digest.size,
      sha256: digest.sha256,
      receivedAt,
      source: f.source,
      archivePath,
      state: f.quarantined ? 'quarantined' : 'received',
      replayOf: f.replayOf ?? null,
      ...(f.quarantined ? { errorCode: f.quarantined.code, errorMessage: f.quarantined.message, finishedAt: deps.now().toISOString(), ackPending: true } : {}),
    });
    await tx.audit.appendAudit({
      actor: f.source === 'cli' || f.source === 'replay' ? 'operator' : `partner:${f.partner}`,
      action: 'submission.received',
      subject: `submission:${sid}`,
      details: { partner: f.partner, file: f.name, size: digest.size, sha256: digest.sha256, source: f.source, replayOf: f.replayOf },
    });
    if (f.quarantined) {
      // Decided at birth, in the same transaction: the error row, the terminal audit event and
      // the owed acknowledgment (written by the caller, or by the reconciler after a crash).
      const { code, message } = f.quarantined;
      await tx.ledger.insertRejectedRow(sid, { code, message });
      await tx.audit.appendAudit({ actor: 'lotgate', action: 'submission.quarantined', subject: `submission:${sid}`, details: { code, message } });
    }
    return sid;
  });
  if (f.removeSource) await rm(f.path, { force: true });
  return id;
}
