// The work a lotgate thread can do. Plain data both ways (structured clone).

import type { AuditInput, BanRecord } from '../store/store.js';
import type { IncomingFile } from '../intake/register-file.js';
import type { SubmissionState } from '../model/types.js';
import type { LotgateConfig } from '../config/config.js';
import type { ErrorCode } from '../codes.js';

export type LotgateTask =
  /** Parse, map and apply one submission (processSubmission). */
  | { kind: 'process'; submissionId: number }
  /** Set a submission aside after its last failed attempt, with an acknowledgment. */
  | { kind: 'quarantine'; submissionId: number; code: ErrorCode; message: string }
  /** Archive + ledger row for a claimed file (registerFile). */
  | { kind: 'register'; file: IncomingFile }
  | { kind: 'audit'; event: AuditInput }
  /** A drop-zone ban, shared with the other processes of the data dir (store/areas/pulls.ts). */
  | { kind: 'ban'; ban: BanRecord }
  /** Write the acknowledgments the ledger still owes (a failed write, a crash after a decision). */
  | { kind: 'acks'; minAgeMs?: number };

export type TaskResult = { state: SubmissionState } | { submissionId: number } | { ok: true } | { written: number; failed: number };

export interface TaskThreadData {
  /**
   * The resolved configuration of the parent, as plain data: a thread sees exactly the settings
   * of the process that started it (environment overrides and command-line options included),
   * instead of re-reading files that may have changed or live elsewhere.
   */
  config: LotgateConfig;
  /** Label for the thread's log lines. */
  pool: string;
  logLevel?: string;
}
