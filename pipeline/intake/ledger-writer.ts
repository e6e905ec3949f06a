// The ledger writes intake needs, behind one small interface. In a server they run on a writer
// thread (pipeline/runtime), so a long transaction of a worker never blocks the event loop that
// serves SFTP and renews queue locks; `directLedger` runs them in the calling thread (tests,
// one-shot commands).

import type { ErrorCode } from '../codes.js';
import { redriveAcks } from '../ingest/acknowledge.js';
import type { IngestDeps } from '../ingest/deps.js';
import { quarantine } from '../ingest/process-submission.js';
import type { AuditInput, BanRecord } from '../store/store.js';
import { registerFile, type IncomingFile } from './register-file.js';
import { retryBusy } from './retry-busy.js';

export interface LedgerWriter {
  /** Archive + ledger row (+ removal of the source when asked); resolves to the submission id. */
  register(f: IncomingFile): Promise<number>;
  /** Terminal `quarantined` state with one coded error and an acknowledgment. */
  quarantine(submissionId: number, code: ErrorCode, message: string): Promise<void>;
  audit(e: AuditInput): Promise<void>;
  /** A drop-zone ban, for every process of the data dir (store/areas/pulls.ts). */
  ban(b: BanRecord): Promise<void>;
  /** Writes the acknowledgments the ledger still owes (of submissions decided at least minAgeMs ago); idempotent. */
  acks(minAgeMs?: number): Promise<{ written: number; failed: number }>;
}

export function directLedger(deps: IngestDeps): LedgerWriter {
  return {
    register: (f) => retryBusy(() => registerFile(deps, f)),
    quarantine: async (id, code, message) => {
      await retryBusy(() => quarantine(deps, id, code, message));
    },
    audit: async (e) => {
      await retryBusy(() => deps.store.audit.appendAudit(e));
    },
    ban: async (b) => {
      await retryBusy(() => deps.store.pulls.recordBan(b));
    },
    acks: (minAgeMs) => retryBusy(() => redriveAcks(deps, { minAgeMs })),
  };
}
