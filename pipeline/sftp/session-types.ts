// What one SFTP session is given (SessionContext), what it reports (UploadedFile, PartialFile),
// and what an open handle is. Types and constants only.

import type { FileEntry } from 'ssh2';
import type { Logger } from 'pino';
import type { Upload, UploadLimits } from './upload.js';
import type { AuditFn } from './auth.js';
import type { HashSink } from './hash-pool.js';

export interface UploadedFile {
  partner: string;
  name: string;
  path: string;
  size: number;
  sha256: string;
  receivedAt: string;
  session: string;
}
export interface PartialFile extends UploadedFile {
  reason: string;
}

export interface SessionContext {
  partner: string;
  /** `<dropDir>/<partner>`, with inbound/, outbound/ and .quarantine/ already in place. */
  partnerRoot: string;
  session: string;
  ip: string;
  audit: AuditFn;
  onUploaded: (u: UploadedFile) => void;
  onPartial: (u: PartialFile) => void;
  log: Logger;
  now: () => number;
  limits: UploadLimits;
  stagedSuffixes: readonly string[];
  maxHandles: number;
  /** Where streamed bytes are hashed (a worker thread; see hash-pool.ts). */
  hashSink: () => HashSink;
  /** This machine's id, written into upload temp names (DropZoneOptions.hostId). */
  hostId?: string;
  /** Bytes received but not yet on disk, reported so the connection can apply backpressure. */
  flow?: { add(n: number): void; done(n: number): void };
}

export const QUARANTINE_DIR = '.quarantine';

export type UploadHandle = { kind: 'upload'; upload: Upload; virtual: string };
export type DownloadHandle = { kind: 'download'; fd: number; name: string; size: number; bytesSent: number; virtual: string; reading: number; closed: boolean };
export type DirHandle = { kind: 'dir'; entries: FileEntry[]; pos: number };
export type HandleState = UploadHandle | DownloadHandle | DirHandle;

/** Everything a request handler works with. */
export interface SessionParts {
  ctx: SessionContext;
  state: import('./session-state.js').SessionState;
  out: import('./session-reply.js').Responder;
  view: import('./session-view.js').PartnerView;
}
