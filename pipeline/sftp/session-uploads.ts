// How an upload ends: delivered into inbound/ under its final name, staged until the client
// renames it, or quarantined as a partial. Every outcome is audited and reported.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { hashFile, type Upload, type UploadResult } from './upload.js';
import { placeNoClobber } from './place.js';
import { quarantineNameFor } from '../intake/names.js';
import { MAX_TAKEN_NAME_BYTES, uploadVerdict } from '../intake/names.js';
import { QUARANTINE_DIR, type SessionParts, type UploadHandle } from './session-types.js';

const { STATUS_CODE } = ssh2.utils.sftp;

export function isStagedName(s: SessionParts, name: string): boolean {
  return uploadVerdict(name, s.ctx.stagedSuffixes).kind === 'staged';
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Move a finished upload into inbound/ (never over another file) and report it. */
export async function deliver(s: SessionParts, name: string, tempPath: string, result: UploadResult, openedAt: number, extra: Record<string, unknown>): Promise<string> {
  const { ctx, state, out, view } = s;
  // A numbered collision name stays within what intake takes.
  const finalName = await placeNoClobber(tempPath, view.dirs.inbound, name, (c) => state.isStaged(c), MAX_TAKEN_NAME_BYTES);
  const receivedAt = new Date(ctx.now()).toISOString();
  const path = join(view.dirs.inbound, finalName);
  state.remember(finalName, result.size, ctx.now());
  out.audit('sftp.upload.close', `${ctx.partner}:/inbound/${finalName}`, {
    name: finalName,
    requestedName: name,
    bytes: result.size,
    sha256: result.sha256,
    hashMode: result.hashMode,
    writes: result.stats.writes,
    outOfOrderWrites: result.stats.outOfOrder,
    maxReorderBytes: result.stats.maxWindowBytes,
    hashFallback: result.stats.fallbackReason ?? undefined,
    durationMs: ctx.now() - openedAt,
    ...extra,
  });
  try {
    ctx.onUploaded({ partner: ctx.partner, name: finalName, path, size: result.size, sha256: result.sha256, receivedAt, session: ctx.session });
  } catch (err) {
    // The file is in inbound/; intake's reconcile scan will find it even if this hook failed.
    ctx.log.error({ err, name: finalName }, 'sftp: onUploaded handler failed');
  }
  return finalName;
}

/** Keep bytes that will never be delivered in .quarantine/ and report them as a partial. */
export async function quarantine(s: SessionParts, name: string, tempPath: string, result: UploadResult | null, reason: string, openedAt: number): Promise<void> {
  const { ctx, out } = s;
  const qdir = join(ctx.partnerRoot, QUARANTINE_DIR);
  let size = result?.size ?? 0;
  let sha256 = result?.sha256 ?? '';
  if (!result) {
    // The upload could not be finished normally (e.g. fsync failed): describe what is there.
    try {
      size = (await fsp.stat(tempPath)).size;
      sha256 = await hashFile(tempPath);
    } catch (err) {
      ctx.log.error({ err, tempPath }, 'sftp: partial upload unreadable');
    }
  }
  let path = tempPath;
  try {
    const qname = await placeNoClobber(tempPath, qdir, quarantineNameFor(ctx.now(), name));
    path = join(qdir, qname);
  } catch (err) {
    // Leave it where it is (hidden in inbound/); never delete bytes a partner sent.
    ctx.log.error({ err, tempPath }, 'sftp: could not move partial upload to quarantine');
  }
  const receivedAt = new Date(ctx.now()).toISOString();
  out.audit('sftp.upload.partial', `${ctx.partner}:/inbound/${name}`, { name, bytes: size, sha256, reason, quarantinedAs: path, durationMs: ctx.now() - openedAt });
  try {
    ctx.onPartial({ partner: ctx.partner, name, path, size, sha256, receivedAt, session: ctx.session, reason });
  } catch (err) {
    ctx.log.error({ err, name }, 'sftp: onPartial handler failed');
  }
}

/** An upload still open when the session ends. */
export async function abandonUpload(s: SessionParts, u: Upload, reason: string): Promise<void> {
  let result: UploadResult | null = null;
  try {
    result = await u.finish(true);
  } catch (err) {
    s.ctx.log.warn({ err, name: u.name }, 'sftp: finishing a partial upload failed');
  }
  await quarantine(s, u.name, u.tempPath, result, reason, u.openedAt);
}

/** CLOSE of an upload handle: fsync, check coverage, then stage or deliver, and answer. */
export async function finishUpload(s: SessionParts, reqid: number, st: UploadHandle): Promise<void> {
  const { ctx, state, out } = s;
  const u = st.upload;
  let result: UploadResult;
  try {
    result = await u.finish(true);
  } catch (err) {
    out.status(reqid, STATUS_CODE.FAILURE, `Failure: upload failed: ${(err as Error).message}`);
    await quarantine(s, u.name, u.tempPath, null, `close failed: ${errCode(err)}`, u.openedAt);
    return;
  }
  if (u.error) {
    out.status(reqid, STATUS_CODE.FAILURE, `Failure: upload failed: ${u.error.message}`);
    await quarantine(s, u.name, u.tempPath, result, `write failed: ${u.error.code ?? u.error.message}`, u.openedAt);
    return;
  }
  if (result.gap) {
    // Holes would reach intake as zeros posing as data. Typical cause: a client resuming
    // ("reput") onto what is, for us, always a fresh file.
    const [a, b] = result.gap;
    out.status(reqid, STATUS_CODE.FAILURE, `Failure: bytes ${a}-${b} were never written; resuming uploads is not supported, upload the whole file again`);
    await quarantine(s, u.name, u.tempPath, result, `incomplete: bytes ${a}-${b} never written`, u.openedAt);
    return;
  }
  if (isStagedName(s, u.name)) {
    // A retry under the same staging name (WinSCP after an error) supersedes the earlier
    // staged bytes, which were never delivered: they become a partial, not an orphan.
    const older = state.staged(u.name);
    if (older) await quarantine(s, older.name, older.tempPath, older.result, 'superseded by a newer staged upload of the same name', older.openedAt);
    state.stage({ name: u.name, result, tempPath: u.tempPath, openedAt: u.openedAt, closedAt: ctx.now() });
    out.audit('sftp.upload.staged', `${ctx.partner}:/inbound/${u.name}`, { name: u.name, bytes: result.size, sha256: result.sha256 });
    out.status(reqid, STATUS_CODE.OK);
    return;
  }
  await deliverOrQuarantine(s, reqid, u.name, u.tempPath, result, u.openedAt, {});
}

/** Deliver and answer OK, or answer the failure and keep the bytes as a partial. */
export async function deliverOrQuarantine(s: SessionParts, reqid: number, name: string, tempPath: string, result: UploadResult, openedAt: number, extra: Record<string, unknown>): Promise<void> {
  try {
    await deliver(s, name, tempPath, result, openedAt, extra);
    s.out.status(reqid, STATUS_CODE.OK);
  } catch (err) {
    s.out.status(reqid, STATUS_CODE.FAILURE, `Failure: could not store upload: ${(err as Error).message}`);
    await quarantine(s, name, tempPath, result, `store failed: ${errCode(err)}`, openedAt);
  }
}
