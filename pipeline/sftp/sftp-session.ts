// SFTP request handlers for one partner's session. Every path goes through the jail first;
// uploads land in hidden temp files and appear in inbound/ only when complete; a session that
// ends with an upload still open quarantines it as a partial.
//
// Policies (also in pipeline/sftp/README.md):
// - /inbound: create new files, list, stat. No read-back, no overwrite, no remove, no rename of
//   delivered files. A same-name upload gets ` (2)`, ` (3)`, … (see place.ts).
// - Staged uploads: a file uploaded as `<name>.filepart` (WinSCP), `.part` or `.tmp` is held
//   back when closed and delivered only when the client renames it to its final name in the
//   same session. The client may also remove it (a cancelled transfer). If the session ends
//   first, it is a partial upload.
// - /outbound: list, stat, read. Nothing else.
// - MKDIR, RMDIR, REMOVE (except own staged files), SYMLINK: permission denied. READLINK and
//   extensions: unsupported. SETSTAT/FSETSTAT: accepted and ignored (clients send times/modes).

import { promises as fsp, open as fsOpen, read as fsRead, close as fsClose, fstat as fsFstat, constants as C } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper, Attributes, FileEntry } from 'ssh2';
import type { Logger } from 'pino';
import { resolvePath, canonicalize, realPathOf, type JailTarget, type JailError, type Area } from './jail.js';
import { Upload, hashFile, type UploadLimits, type UploadResult } from './upload.js';
import { placeNoClobber, stampForFileName } from './place.js';
import { toAttrs, longname, type EntryInfo } from './listing.js';
import type { AuditFn } from './auth.js';
import type { HashSink } from './hash-pool.js';
import type { AuditAction } from '../codes.js';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;

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
  /** Bytes received but not yet on disk, reported so the connection can apply backpressure. */
  flow?: { add(n: number): void; done(n: number): void };
}

export interface SftpSession {
  /** Quarantine whatever is still open or staged; resolves when every file is settled. */
  end(reason: string): Promise<void>;
}

export const QUARANTINE_DIR = '.quarantine';
const MAX_READ = 255 * 1024;
const READDIR_BATCH = 100;
const REMEMBER_DELIVERED = 1000;

interface Staged {
  name: string;
  result: UploadResult;
  tempPath: string;
  openedAt: number;
  closedAt: number;
}

type HandleState =
  | { kind: 'upload'; upload: Upload; virtual: string }
  | { kind: 'download'; fd: number; name: string; size: number; bytesSent: number; virtual: string; reading: number; closed: boolean }
  | { kind: 'dir'; entries: FileEntry[]; pos: number };

function errnoToStatus(err: unknown): number {
  switch ((err as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return STATUS_CODE.NO_SUCH_FILE;
    case 'EACCES':
    case 'EPERM':
    case 'ELOOP':
      return STATUS_CODE.PERMISSION_DENIED;
    default:
      return STATUS_CODE.FAILURE;
  }
}

export function attachSftpSession(sftp: SFTPWrapper, ctx: SessionContext): SftpSession {
  const handles = new Map<number, HandleState>();
  const staged = new Map<string, Staged>();
  const delivered = new Map<string, { size: number; mtimeMs: number }>();
  const pendingOps = new Set<Promise<unknown>>();
  let nextHandle = 1;
  let ending: Promise<void> | null = null;
  const dirs: Record<Area, string> = { inbound: join(ctx.partnerRoot, 'inbound'), outbound: join(ctx.partnerRoot, 'outbound') };

  function track<T>(pr: Promise<T>): Promise<T> {
    pendingOps.add(pr);
    pr.finally(() => pendingOps.delete(pr)).catch(() => undefined);
    return pr;
  }

  function audit(action: AuditAction, subject: string, details: Record<string, unknown>): void {
    try {
      ctx.audit({ actor: ctx.partner, action, subject, details: { session: ctx.session, ip: ctx.ip, ...details } });
    } catch (err) {
      ctx.log.error({ err, action }, 'sftp: audit write failed');
    }
  }

  function reply(reqid: number, code: number, message?: string): void {
    try {
      sftp.status(reqid, code, message);
    } catch (err) {
      ctx.log.debug({ err }, 'sftp: could not send status');
    }
  }

  function deny(reqid: number, op: string, path: string, message: string): void {
    audit('sftp.denied', `${ctx.partner}:${path}`, { op, path, reason: message });
    // Clients show the server's message instead of the generic text; keep the generic words first.
    reply(reqid, STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${message}`);
  }

  function jailFail(reqid: number, op: string, e: JailError): void {
    if (e.code === 'E_PATH_NOT_FOUND') return reply(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    audit('sftp.denied', `${ctx.partner}:${e.path}`, { op, path: e.path, code: e.code, reason: e.message });
    reply(reqid, STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${e.message}`);
  }

  function newHandle(state: HandleState): Buffer | null {
    if (handles.size >= ctx.maxHandles) return null;
    const id = nextHandle++;
    handles.set(id, state);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id, 0);
    return b;
  }

  function handleId(h: Buffer): number {
    return h.length === 4 ? h.readUInt32BE(0) : -1;
  }

  function isStagedName(name: string): boolean {
    const lower = name.toLowerCase();
    return ctx.stagedSuffixes.some((s) => lower.endsWith(s) && lower.length > s.length);
  }

  function stagedEntry(s: Staged): EntryInfo {
    return { name: s.name, isDir: false, size: s.result.size, mtimeMs: s.closedAt };
  }

  function remember(name: string, size: number, mtimeMs: number): void {
    delivered.set(name, { size, mtimeMs });
    if (delivered.size > REMEMBER_DELIVERED) delivered.delete(delivered.keys().next().value as string);
  }

  /** What a partner sees at a target, or null if nothing (symlinks and odd files are nothing). */
  async function lookup(t: JailTarget): Promise<EntryInfo | null> {
    if (t.kind === 'root') return { name: '/', isDir: true, size: 4096, mtimeMs: (await fsp.lstat(ctx.partnerRoot)).mtimeMs };
    if (t.kind === 'area') {
      const st = await fsp.lstat(dirs[t.area]);
      return st.isDirectory() ? { name: t.area, isDir: true, size: 4096, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs } : null;
    }
    if (t.area === 'inbound') {
      const s = staged.get(t.name);
      if (s) return stagedEntry(s);
    }
    try {
      const st = await fsp.lstat(join(dirs[t.area], t.name));
      if (!st.isFile()) return null;
      return { name: t.name, isDir: false, size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Delivered files may already have been picked up by intake; the partner still sees
      // what it uploaded in this session so "stat after put" checks pass.
      const d = t.area === 'inbound' ? delivered.get(t.name) : undefined;
      return d ? { name: t.name, isDir: false, size: d.size, mtimeMs: d.mtimeMs } : null;
    }
  }

  async function listDir(t: JailTarget): Promise<EntryInfo[]> {
    if (t.kind === 'root') {
      const out: EntryInfo[] = [];
      for (const area of ['inbound', 'outbound'] as const) {
        const e = await lookup({ kind: 'area', area });
        if (e) out.push(e);
      }
      return out;
    }
    if (t.kind !== 'area') throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    const dir = dirs[t.area];
    const out: EntryInfo[] = [];
    for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
      // Only plain files with names a partner could address; never temp files or symlinks.
      if (!d.isFile() || resolvePath(`/${t.area}/${d.name}`).ok === false) continue;
      try {
        const st = await fsp.lstat(join(dir, d.name));
        if (st.isFile()) out.push({ name: d.name, isDir: false, size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs });
      } catch {
        // Picked up by intake between readdir and lstat: it is simply gone.
      }
    }
    if (t.area === 'inbound') for (const s of staged.values()) out.push(stagedEntry(s));
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  function fileExistsForPartner(area: Area, name: string): Promise<boolean> {
    return lookup({ kind: 'file', area, name }).then((e) => e !== null);
  }

  // ---------------------------------------------------------------------------------------
  // Finishing uploads

  async function deliver(name: string, tempPath: string, result: UploadResult, openedAt: number, extra: Record<string, unknown>): Promise<string> {
    const finalName = await placeNoClobber(tempPath, dirs.inbound, name, (c) => staged.has(c));
    const receivedAt = new Date(ctx.now()).toISOString();
    const path = join(dirs.inbound, finalName);
    remember(finalName, result.size, ctx.now());
    audit('sftp.upload.close', `${ctx.partner}:/inbound/${finalName}`, {
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

  async function quarantine(name: string, tempPath: string, result: UploadResult | null, reason: string, openedAt: number): Promise<void> {
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
      const qname = await placeNoClobber(tempPath, qdir, `${stampForFileName(ctx.now())}-${name}`);
      path = join(qdir, qname);
    } catch (err) {
      // Leave it where it is (hidden in inbound/); never delete bytes a partner sent.
      ctx.log.error({ err, tempPath }, 'sftp: could not move partial upload to quarantine');
    }
    const receivedAt = new Date(ctx.now()).toISOString();
    audit('sftp.upload.partial', `${ctx.partner}:/inbound/${name}`, { name, bytes: size, sha256, reason, quarantinedAs: path, durationMs: ctx.now() - openedAt });
    try {
      ctx.onPartial({ partner: ctx.partner, name, path, size, sha256, receivedAt, session: ctx.session, reason });
    } catch (err) {
      ctx.log.error({ err, name }, 'sftp: onPartial handler failed');
    }
  }

  async function abandonUpload(u: Upload, reason: string): Promise<void> {
    let result: UploadResult | null = null;
    try {
      result = await u.finish(true);
    } catch (err) {
      ctx.log.warn({ err, name: u.name }, 'sftp: finishing a partial upload failed');
    }
    await quarantine(u.name, u.tempPath, result, reason, u.openedAt);
  }

  async function closeUpload(reqid: number, st: Extract<HandleState, { kind: 'upload' }>): Promise<void> {
    const u = st.upload;
    let result: UploadResult;
    try {
      result = await u.finish(true);
    } catch (err) {
      reply(reqid, STATUS_CODE.FAILURE, `Failure: upload failed: ${(err as Error).message}`);
      await quarantine(u.name, u.tempPath, null, `close failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, u.openedAt);
      return;
    }
    if (u.error) {
      reply(reqid, STATUS_CODE.FAILURE, `Failure: upload failed: ${u.error.message}`);
      await quarantine(u.name, u.tempPath, result, `write failed: ${u.error.code ?? u.error.message}`, u.openedAt);
      return;
    }
    if (result.gap) {
      // Holes would reach intake as zeros posing as data. Typical cause: a client resuming
      // ("reput") onto what is, for us, always a fresh file.
      const [a, b] = result.gap;
      reply(reqid, STATUS_CODE.FAILURE, `Failure: bytes ${a}-${b} were never written; resuming uploads is not supported, upload the whole file again`);
      await quarantine(u.name, u.tempPath, result, `incomplete: bytes ${a}-${b} never written`, u.openedAt);
      return;
    }
    if (isStagedName(u.name)) {
      // A retry under the same staging name (WinSCP after an error) supersedes the earlier
      // staged bytes, which were never delivered: they become a partial, not an orphan.
      const older = staged.get(u.name);
      if (older) await quarantine(older.name, older.tempPath, older.result, 'superseded by a newer staged upload of the same name', older.openedAt);
      staged.set(u.name, { name: u.name, result, tempPath: u.tempPath, openedAt: u.openedAt, closedAt: ctx.now() });
      audit('sftp.upload.staged', `${ctx.partner}:/inbound/${u.name}`, { name: u.name, bytes: result.size, sha256: result.sha256 });
      reply(reqid, STATUS_CODE.OK);
      return;
    }
    try {
      await deliver(u.name, u.tempPath, result, u.openedAt, {});
      reply(reqid, STATUS_CODE.OK);
    } catch (err) {
      reply(reqid, STATUS_CODE.FAILURE, `Failure: could not store upload: ${(err as Error).message}`);
      await quarantine(u.name, u.tempPath, result, `store failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, u.openedAt);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Requests

  async function onOpen(reqid: number, filename: string, flags: number): Promise<void> {
    const r = resolvePath(filename);
    if (!r.ok) return jailFail(reqid, 'open', r.error);
    const t = r.target;
    if (t.kind !== 'file') return reply(reqid, STATUS_CODE.FAILURE, 'Failure: is a directory');
    const wantsWrite = (flags & OPEN_MODE.WRITE) !== 0;
    if (wantsWrite) {
      if (t.area !== 'inbound') return deny(reqid, 'open-write', r.virtual, '/outbound is read-only');
      if (flags & OPEN_MODE.READ) return deny(reqid, 'open-readwrite', r.virtual, 'files in /inbound cannot be read back');
      if (flags & OPEN_MODE.APPEND) return deny(reqid, 'open-append', r.virtual, 'appending or resuming uploads is not supported');
      if (!(flags & OPEN_MODE.CREAT)) return deny(reqid, 'open-existing', r.virtual, 'existing files cannot be modified; upload a new file');
      if (flags & OPEN_MODE.EXCL && (await fileExistsForPartner('inbound', t.name))) {
        return reply(reqid, STATUS_CODE.FAILURE, 'file exists');
      }
      if (handles.size >= ctx.maxHandles) return reply(reqid, STATUS_CODE.FAILURE, 'too many open files');
      let upload: Upload;
      try {
        upload = await Upload.create(dirs.inbound, t.name, ctx.limits, ctx.now(), ctx.hashSink);
      } catch (err) {
        ctx.log.error({ err }, 'sftp: cannot create upload temp file');
        return reply(reqid, errnoToStatus(err), 'cannot create file');
      }
      const h = ending ? null : newHandle({ kind: 'upload', upload, virtual: r.virtual });
      if (!h) {
        // Session ending while we opened, or out of handles: nothing was written, nothing to keep.
        await upload.finish(false).catch(() => undefined);
        await fsp.unlink(upload.tempPath).catch(() => undefined);
        return reply(reqid, STATUS_CODE.FAILURE, 'too many open files');
      }
      audit('sftp.upload.open', `${ctx.partner}:/inbound/${t.name}`, { name: t.name, flags: ssh2.utils.sftp.flagsToString(flags) ?? flags });
      return sftp.handle(reqid, h);
    }
    if (t.area !== 'outbound') return deny(reqid, 'open-read', r.virtual, 'files in /inbound cannot be read back');
    const real = realPathOf(ctx.partnerRoot, t);
    const fd = await new Promise<number | NodeJS.ErrnoException>((res) => fsOpen(real, C.O_RDONLY | C.O_NOFOLLOW, (err, fd) => res(err ?? fd)));
    if (typeof fd !== 'number') {
      if (fd.code === 'ELOOP') return deny(reqid, 'open-read', r.virtual, 'not a plain file');
      return reply(reqid, errnoToStatus(fd), fd.code === 'ENOENT' ? 'No such file' : 'cannot open file');
    }
    const st = await new Promise<import('node:fs').Stats | null>((res) => fsFstat(fd, (err, s) => res(err ? null : s)));
    if (!st || !st.isFile() || ending) {
      fsClose(fd, () => undefined);
      return reply(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    }
    const h = newHandle({ kind: 'download', fd, name: t.name, size: st.size, bytesSent: 0, virtual: r.virtual, reading: 0, closed: false });
    if (!h) {
      fsClose(fd, () => undefined);
      return reply(reqid, STATUS_CODE.FAILURE, 'too many open files');
    }
    sftp.handle(reqid, h);
  }

  function closeDownload(st: Extract<HandleState, { kind: 'download' }>): void {
    st.closed = true;
    if (st.reading === 0) fsClose(st.fd, () => undefined);
  }

  function onWrite(reqid: number, handle: Buffer, offset: number, data: Buffer): void {
    const st = handles.get(handleId(handle));
    if (!st) return reply(reqid, STATUS_CODE.FAILURE, 'invalid handle');
    if (st.kind !== 'upload') return reply(reqid, STATUS_CODE.PERMISSION_DENIED, 'handle not open for writing');
    const n = data.length;
    ctx.flow?.add(n);
    st.upload.write(offset, data, (err) => {
      ctx.flow?.done(n);
      if (err) reply(reqid, err.code === 'EFBIG' ? STATUS_CODE.FAILURE : errnoToStatus(err), `write failed: ${err.message}`);
      else reply(reqid, STATUS_CODE.OK);
    });
  }

  function onRead(reqid: number, handle: Buffer, offset: number, len: number): void {
    const st = handles.get(handleId(handle));
    if (!st) return reply(reqid, STATUS_CODE.FAILURE, 'invalid handle');
    if (st.kind !== 'download') return reply(reqid, STATUS_CODE.PERMISSION_DENIED, 'handle not open for reading');
    const n = Math.min(len, MAX_READ);
    if (n <= 0 || !Number.isSafeInteger(offset) || offset < 0) return reply(reqid, STATUS_CODE.FAILURE, 'bad read');
    const buf = Buffer.allocUnsafe(n);
    st.reading += 1;
    fsRead(st.fd, buf, 0, n, offset, (err, bytes) => {
      st.reading -= 1;
      // The handle was closed while this read ran: close the fd now, never before (a reused
      // fd number would otherwise serve another file's bytes).
      if (st.closed) {
        if (st.reading === 0) fsClose(st.fd, () => undefined);
        return;
      }
      if (err) return reply(reqid, errnoToStatus(err), 'read failed');
      if (bytes === 0) return reply(reqid, STATUS_CODE.EOF);
      st.bytesSent += bytes;
      try {
        sftp.data(reqid, bytes === n ? buf : buf.subarray(0, bytes));
      } catch (e) {
        ctx.log.debug({ err: e }, 'sftp: could not send data');
      }
    });
  }

  async function onClose(reqid: number, handle: Buffer): Promise<void> {
    const id = handleId(handle);
    const st = handles.get(id);
    if (!st) return reply(reqid, STATUS_CODE.FAILURE, 'invalid handle');
    handles.delete(id);
    if (st.kind === 'upload') return closeUpload(reqid, st);
    if (st.kind === 'download') {
      closeDownload(st);
      audit('sftp.download', `${ctx.partner}:/outbound/${st.name}`, { name: st.name, bytes: st.bytesSent, size: st.size, complete: st.bytesSent >= st.size });
    }
    reply(reqid, STATUS_CODE.OK);
  }

  async function onStat(reqid: number, path: string, op: string): Promise<void> {
    const r = resolvePath(path);
    if (!r.ok) return jailFail(reqid, op, r.error);
    const e = await lookup(r.target);
    if (!e) return reply(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    sftp.attrs(reqid, toAttrs(e));
  }

  async function onFstat(reqid: number, handle: Buffer): Promise<void> {
    const st = handles.get(handleId(handle));
    if (!st) return reply(reqid, STATUS_CODE.FAILURE, 'invalid handle');
    if (st.kind === 'upload') {
      const s = await st.upload.stat();
      return sftp.attrs(reqid, toAttrs({ name: st.upload.name, isDir: false, size: s.size, mtimeMs: s.mtimeMs, atimeMs: s.atimeMs }));
    }
    if (st.kind === 'download') {
      const s = await new Promise<import('node:fs').Stats>((res, rej) => fsFstat(st.fd, (err, x) => (err ? rej(err) : res(x))));
      return sftp.attrs(reqid, toAttrs({ name: st.name, isDir: false, size: s.size, mtimeMs: s.mtimeMs, atimeMs: s.atimeMs }));
    }
    reply(reqid, STATUS_CODE.OP_UNSUPPORTED, 'fstat on a directory handle');
  }

  async function onSetstat(reqid: number, path: string): Promise<void> {
    const r = resolvePath(path);
    if (!r.ok) return jailFail(reqid, 'setstat', r.error);
    // Times and modes are accepted and ignored: clients send them after every upload and
    // treat a refusal as a failed transfer.
    const e = await lookup(r.target);
    reply(reqid, e ? STATUS_CODE.OK : STATUS_CODE.NO_SUCH_FILE, e ? undefined : 'No such file');
  }

  async function onOpendir(reqid: number, path: string): Promise<void> {
    const r = resolvePath(path);
    if (!r.ok) return jailFail(reqid, 'opendir', r.error);
    if (r.target.kind === 'file') {
      const e = await lookup(r.target);
      return reply(reqid, e ? STATUS_CODE.FAILURE : STATUS_CODE.NO_SUCH_FILE, e ? 'not a directory' : 'No such file');
    }
    const now = ctx.now();
    const entries = (await listDir(r.target)).map((e) => ({ filename: e.name, longname: longname(e, ctx.partner, now), attrs: toAttrs(e) }));
    const h = newHandle({ kind: 'dir', entries, pos: 0 });
    if (!h) return reply(reqid, STATUS_CODE.FAILURE, 'too many open handles');
    sftp.handle(reqid, h);
  }

  function onReaddir(reqid: number, handle: Buffer): void {
    const st = handles.get(handleId(handle));
    if (!st || st.kind !== 'dir') return reply(reqid, STATUS_CODE.FAILURE, 'invalid handle');
    if (st.pos >= st.entries.length) return reply(reqid, STATUS_CODE.EOF);
    const batch = st.entries.slice(st.pos, st.pos + READDIR_BATCH);
    st.pos += batch.length;
    sftp.name(reqid, batch);
  }

  function onRealpath(reqid: number, path: string): void {
    const r = canonicalize(path);
    if (!r.ok) return jailFail(reqid, 'realpath', r.error);
    sftp.name(reqid, [{ filename: r.virtual, longname: r.virtual, attrs: {} as Attributes }]);
  }

  async function onRename(reqid: number, oldPath: string, newPath: string): Promise<void> {
    const a = resolvePath(oldPath);
    if (!a.ok) return jailFail(reqid, 'rename', a.error);
    const b = resolvePath(newPath);
    if (!b.ok) return jailFail(reqid, 'rename', b.error);
    if (a.target.kind !== 'file' || b.target.kind !== 'file' || a.target.area !== 'inbound' || b.target.area !== 'inbound') {
      return deny(reqid, 'rename', `${a.virtual} -> ${b.virtual}`, 'only uploads in /inbound can be renamed');
    }
    const s = staged.get(a.target.name);
    if (!s) {
      const exists = await fileExistsForPartner('inbound', a.target.name);
      if (!exists) return reply(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
      return deny(reqid, 'rename', `${a.virtual} -> ${b.virtual}`, 'delivered files cannot be renamed');
    }
    const to = b.target.name;
    if (to === s.name) return reply(reqid, STATUS_CODE.OK);
    if (isStagedName(to)) {
      // Still a staging name: just re-label it; SFTP v3 RENAME never replaces a file.
      if (staged.has(to) || (await fileExistsForPartner('inbound', to))) return reply(reqid, STATUS_CODE.FAILURE, 'file exists');
      staged.delete(s.name);
      staged.set(to, { ...s, name: to });
      return reply(reqid, STATUS_CODE.OK);
    }
    // The final name: deliver now. An existing file of that name is never replaced; the upload
    // gets the next free numbered name instead (place.ts), as for a direct upload.
    staged.delete(s.name);
    try {
      await deliver(to, s.tempPath, s.result, s.openedAt, { via: 'rename', stagedAs: s.name });
      reply(reqid, STATUS_CODE.OK);
    } catch (err) {
      reply(reqid, STATUS_CODE.FAILURE, `Failure: could not store upload: ${(err as Error).message}`);
      await quarantine(to, s.tempPath, s.result, `store failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, s.openedAt);
    }
  }

  async function onRemove(reqid: number, path: string): Promise<void> {
    const r = resolvePath(path);
    if (!r.ok) return jailFail(reqid, 'remove', r.error);
    if (r.target.kind === 'file' && r.target.area === 'inbound') {
      const s = staged.get(r.target.name);
      if (s) {
        // A cancelled staged transfer: the partner withdraws bytes it never delivered.
        staged.delete(s.name);
        await fsp.unlink(s.tempPath).catch(() => undefined);
        audit('sftp.upload.discarded', `${ctx.partner}:/inbound/${s.name}`, { name: s.name, bytes: s.result.size, sha256: s.result.sha256 });
        return reply(reqid, STATUS_CODE.OK);
      }
    }
    deny(reqid, 'remove', r.virtual, 'files cannot be removed from the drop zone');
  }

  function guard<A extends unknown[]>(op: string, fn: (reqid: number, ...args: A) => Promise<void> | void) {
    return (reqid: number, ...args: A) => {
      if (ending) return reply(reqid, STATUS_CODE.CONNECTION_LOST);
      try {
        const out = fn(reqid, ...args);
        if (out && typeof (out as Promise<void>).then === 'function') {
          track(
            (out as Promise<void>).catch((err) => {
              ctx.log.error({ err, op }, 'sftp: request failed');
              reply(reqid, errnoToStatus(err), `${op} failed`);
            }),
          );
        }
      } catch (err) {
        ctx.log.error({ err, op }, 'sftp: request failed');
        reply(reqid, errnoToStatus(err), `${op} failed`);
      }
    };
  }

  sftp.on('OPEN', guard('open', (reqid, filename: string, flags: number) => onOpen(reqid, filename, flags)));
  sftp.on('WRITE', guard('write', (reqid, handle: Buffer, offset: number, data: Buffer) => onWrite(reqid, handle, offset, data)));
  sftp.on('READ', guard('read', (reqid, handle: Buffer, offset: number, len: number) => onRead(reqid, handle, offset, len)));
  sftp.on('CLOSE', guard('close', (reqid, handle: Buffer) => onClose(reqid, handle)));
  sftp.on('STAT', guard('stat', (reqid, path: string) => onStat(reqid, path, 'stat')));
  sftp.on('LSTAT', guard('lstat', (reqid, path: string) => onStat(reqid, path, 'lstat')));
  sftp.on('FSTAT', guard('fstat', (reqid, handle: Buffer) => onFstat(reqid, handle)));
  sftp.on('SETSTAT', guard('setstat', (reqid, path: string) => onSetstat(reqid, path)));
  sftp.on(
    'FSETSTAT',
    guard('fsetstat', (reqid, handle: Buffer) => reply(reqid, handles.has(handleId(handle)) ? STATUS_CODE.OK : STATUS_CODE.FAILURE)),
  );
  sftp.on('OPENDIR', guard('opendir', (reqid, path: string) => onOpendir(reqid, path)));
  sftp.on('READDIR', guard('readdir', (reqid, handle: Buffer) => onReaddir(reqid, handle)));
  sftp.on('REALPATH', guard('realpath', (reqid, path: string) => onRealpath(reqid, path)));
  sftp.on('RENAME', guard('rename', (reqid, from: string, to: string) => onRename(reqid, from, to)));
  sftp.on('REMOVE', guard('remove', (reqid, path: string) => onRemove(reqid, path)));
  sftp.on('MKDIR', guard('mkdir', (reqid, path: string) => deny(reqid, 'mkdir', path, 'folders cannot be created')));
  sftp.on('RMDIR', guard('rmdir', (reqid, path: string) => deny(reqid, 'rmdir', path, 'folders cannot be removed')));
  sftp.on('SYMLINK', guard('symlink', (reqid, _target: string, link: string) => deny(reqid, 'symlink', link, 'links cannot be created')));
  sftp.on('READLINK', (reqid: number) => reply(reqid, STATUS_CODE.OP_UNSUPPORTED));
  sftp.on('EXTENDED', (reqid: number) => reply(reqid, STATUS_CODE.OP_UNSUPPORTED));

  sftp.on('error', (err: Error) => ctx.log.debug({ err, session: ctx.session }, 'sftp: channel error'));
  // The client sent EOF: close our side too, or the client waits for us.
  sftp.on('end', () => {
    try {
      sftp.end();
    } catch {
      // already closed
    }
  });
  sftp.on('close', () => void end('session closed'));

  function end(reason: string): Promise<void> {
    if (ending) return ending;
    ending = (async () => {
      // Requests already running (a CLOSE being finalized, an OPEN) settle first, so a file
      // whose CLOSE arrived is delivered, not quarantined.
      while (pendingOps.size) await Promise.allSettled([...pendingOps]);
      const work: Promise<void>[] = [];
      for (const [id, st] of handles) {
        handles.delete(id);
        if (st.kind === 'upload') work.push(abandonUpload(st.upload, reason));
        else if (st.kind === 'download') {
          closeDownload(st);
          audit('sftp.download', `${ctx.partner}:/outbound/${st.name}`, { name: st.name, bytes: st.bytesSent, size: st.size, complete: st.bytesSent >= st.size, interrupted: reason });
        }
      }
      for (const s of staged.values()) {
        work.push(quarantine(s.name, s.tempPath, s.result, `staged upload never renamed (${reason})`, s.openedAt));
      }
      staged.clear();
      await Promise.allSettled(work);
    })();
    return ending;
  }

  return { end };
}
