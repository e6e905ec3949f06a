// Intake: takes a complete file out of a partner's inbound/ folder into the ledger and onto the
// partner's queue. Every path that discovers files (the drop zone's callback, the watcher, the
// reconcile scan, other intake processes sharing the folder) calls takeFile; the atomic rename
// into .intake/ decides which one of them owns the file, so a file becomes exactly one submission.
//
// Order for "nothing lost": claim (rename) → archive → ledger row → remove the staged copy →
// enqueue. A crash after the claim leaves the file in .intake/ (the reconciler registers it);
// a crash after the ledger row leaves a `received` row (the reconciler re-queues it); a failed
// enqueue (Redis down) is only logged for the same reason.

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import type { PartnerConfig } from '../model/types.js';
import type { LedgerWriter } from './ledger-writer.js';
import { ignoredReason, partnerDirs, stagedName } from './names.js';
import type { SubmissionSource } from './register-file.js';

/** Puts a submission on its partner's queue. Resolves once Redis has the job (or already had it). */
export type Enqueue = (partner: string, submissionId: number) => Promise<void>;

export interface IntakeDeps {
  config: LotgateConfig;
  partners: () => Map<string, PartnerConfig>;
  now: () => Date;
  log: Logger;
  ledger: LedgerWriter;
  enqueue: Enqueue;
  /** Paths already reported as left alone, so a periodic scan does not repeat the warning. */
  noticed?: Set<string>;
  /** Staged files this process is registering right now; the reconciler leaves them alone. */
  staging?: Set<string>;
}

/** While a claimed file is being registered its ctime is refreshed this often (see reconciler). */
export const STAGING_HEARTBEAT_MS = 15_000;

export interface TakeRequest {
  partner: string;
  /** The file in <dropDir>/<partner>/inbound/. */
  path: string;
  /** Known when the drop zone hashed the bytes while they streamed in. */
  sha256?: string;
  size?: number;
  receivedAt?: string;
  /** Who found the file: the drop zone ('sftp') or the watcher / reconcile scan ('watch', the default). */
  source?: Extract<SubmissionSource, 'sftp' | 'watch'>;
}

export type TakeResult =
  | { status: 'taken'; submissionId: number; enqueued: boolean }
  /** Another claimer (watcher, drop-zone callback, another intake process) got it first. */
  | { status: 'gone' }
  | { status: 'ignored'; reason: string };

function notice(deps: IntakeDeps, key: string, msg: string, extra: Record<string, unknown>): void {
  if (deps.noticed?.has(key)) return;
  deps.noticed?.add(key);
  deps.log.warn(extra, msg);
}

function knownPartner(deps: IntakeDeps, partner: string): boolean {
  try {
    return deps.partners().has(partner);
  } catch (err) {
    // A broken partner file must not make intake drop files: leave them where they are.
    deps.log.error({ err }, 'partner files could not be loaded; files stay in inbound/ until they are fixed');
    return false;
  }
}

export async function takeFile(deps: IntakeDeps, req: TakeRequest): Promise<TakeResult> {
  const name = path.basename(req.path);
  const why = ignoredReason(name);
  if (why) return { status: 'ignored', reason: why };
  const dirs = partnerDirs(deps.config.dropDir, req.partner);
  if (path.resolve(path.dirname(req.path)) !== path.resolve(dirs.inbound)) {
    return { status: 'ignored', reason: `not in ${dirs.inbound}` };
  }
  if (!knownPartner(deps, req.partner)) {
    notice(deps, req.path, 'file left alone: its folder belongs to no configured partner', { partner: req.partner, file: req.path, partnersDir: deps.config.partnersDir });
    return { status: 'ignored', reason: `no partner "${req.partner}" is configured` };
  }

  const st = await lstat(req.path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!st) return { status: 'gone' };
  if (!st.isFile()) {
    // Symlinks could point anywhere on this machine; folders are not files.
    notice(deps, req.path, 'entry in inbound/ left alone: only regular files are taken', { partner: req.partner, file: req.path, type: st.isSymbolicLink() ? 'symlink' : 'other' });
    return { status: 'ignored', reason: st.isSymbolicLink() ? 'symbolic link' : 'not a regular file' };
  }

  const announced = req.receivedAt ? Date.parse(req.receivedAt) : Number.NaN;
  const receivedAtMs = Number.isFinite(announced) ? announced : deps.now().getTime();
  await mkdir(dirs.intake, { recursive: true });
  const staged = path.join(dirs.intake, stagedName(name, receivedAtMs, randomBytes(6).toString('hex')));
  try {
    await rename(req.path, staged);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'gone' };
    throw err;
  }
  deps.noticed?.delete(req.path);

  // Other intake processes sharing this folder recover staged files whose ctime is old (a crash
  // between claim and ledger row); touching the file says "still being registered".
  deps.staging?.add(staged);
  const heartbeat = setInterval(() => void utimes(staged, st.atime, st.mtime).catch(() => {}), STAGING_HEARTBEAT_MS);
  heartbeat.unref();
  let submissionId: number;
  try {
    submissionId = await deps.ledger.register({
      partner: req.partner,
      path: staged,
      name,
      source: req.source ?? 'watch',
      // The drop zone's digest describes the bytes it renamed into inbound/; the claimed file is
      // those bytes unless a new upload replaced it in between (then its size tells, usually, and
      // the file is hashed again rather than archived under a wrong digest).
      ...(req.sha256 && req.size === st.size ? { sha256: req.sha256, size: req.size } : {}),
      receivedAt: new Date(receivedAtMs).toISOString(),
      removeSource: true,
    });
  } finally {
    clearInterval(heartbeat);
    deps.staging?.delete(staged);
  }
  deps.log.info({ partner: req.partner, file: name, submissionId, source: req.source ?? 'watch' }, 'file received');
  const enqueued = await enqueueLogged(deps, req.partner, submissionId);
  return { status: 'taken', submissionId, enqueued };
}

async function enqueueLogged(deps: IntakeDeps, partner: string, submissionId: number): Promise<boolean> {
  try {
    await deps.enqueue(partner, submissionId);
    return true;
  } catch (err) {
    deps.log.warn({ err, partner, submissionId }, 'could not queue the submission (Redis unavailable?); the reconciler will queue it');
    return false;
  }
}

export interface PartialUpload {
  partner: string;
  /** The name the partner gave the file. */
  name: string;
  /** Where the drop zone moved the partial bytes (<dropDir>/<partner>/.quarantine/…). */
  path: string;
  /** Bytes received before the session ended. */
  size: number;
  sha256?: string;
  receivedAt?: string;
  /** What the partner is told (default: the upload was interrupted before the file was closed). */
  message?: string;
}

/**
 * An upload whose handle was still open when the session ended: the bytes are kept (archive +
 * ledger) and the submission is quarantined at once — never processed — with an acknowledgment
 * telling the partner to upload again.
 */
export async function takePartial(deps: IntakeDeps, p: PartialUpload): Promise<number> {
  const message = p.message ?? `The upload was interrupted before the file was closed (${p.size} bytes received); nothing was applied. Upload the file again.`;
  // The ledger row is born quarantined, so no crash can ever leave it queueable.
  const id = await deps.ledger.register({
    partner: p.partner,
    path: p.path,
    name: p.name,
    source: 'sftp',
    sha256: p.sha256,
    size: p.size,
    receivedAt: p.receivedAt,
    removeSource: true,
    quarantined: { code: 'E_PARTIAL_UPLOAD', message },
  });
  await deps.ledger.quarantine(id, 'E_PARTIAL_UPLOAD', message);
  deps.log.warn({ partner: p.partner, file: p.name, submissionId: id, bytes: p.size }, 'partial upload quarantined');
  return id;
}
