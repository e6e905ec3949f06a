// The intake entry points the API uses. In a server they are the same ledger writer and queues
// the drop zone uses (serverIntake); `directIntake` processes at once in the calling process
// (tests, one-shot tools), as `lotgate ingest` does.

import { processSubmission } from '../ingest/process-submission.js';
import { registerFile } from '../intake/register-file.js';
import type { LedgerWriter } from '../intake/ledger-writer.js';
import type { Lotgate } from '../lotgate.js';
import type { Store } from '../store/store.js';
import type { Logger } from 'pino';
import type { ApiIntake } from './context.js';

export function serverIntake(deps: { store: Store; ledger: LedgerWriter; enqueue: (partner: string, id: number) => Promise<void>; log: Logger }): ApiIntake {
  const queue = async (partner: string, id: number) => {
    try {
      await deps.enqueue(partner, id);
    } catch (err) {
      deps.log.warn({ err, partner, submissionId: id }, 'could not queue the submission (Redis unavailable?); the reconciler will queue it');
    }
  };
  return {
    async submit(f) {
      // Like a drop-zone upload after its claim: the staged file is archived, gets its ledger row and is removed.
      const id = await deps.ledger.register({ partner: f.partner, path: f.path, name: f.name, source: 'watch', removeSource: true });
      await queue(f.partner, id);
      return id;
    },
    async replay(submissionId) {
      const sub = (await deps.store.ledger.getSubmission(submissionId))!;
      const id = await deps.ledger.register({ partner: sub.partner, path: sub.archivePath, name: sub.originalName, source: 'replay', removeSource: false, replayOf: submissionId });
      await queue(sub.partner, id);
      return id;
    },
  };
}

export function directIntake(lg: Lotgate): ApiIntake {
  return {
    async submit(f) {
      const id = await registerFile(lg, { partner: f.partner, path: f.path, name: f.name, source: 'watch', removeSource: true });
      await processSubmission(lg, id);
      return id;
    },
    async replay(submissionId) {
      const sub = (await lg.store.ledger.getSubmission(submissionId))!;
      const id = await registerFile(lg, { partner: sub.partner, path: sub.archivePath, name: sub.originalName, source: 'replay', removeSource: false, replayOf: submissionId });
      await processSubmission(lg, id);
      return id;
    },
  };
}
