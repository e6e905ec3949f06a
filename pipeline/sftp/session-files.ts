// Request handlers on file handles: OPEN (upload into /inbound, download from /outbound),
// WRITE, READ, CLOSE, FSTAT, FSETSTAT. Each takes the session's parts and the request's
// arguments and answers exactly once.

import { promises as fsp, open as fsOpen, read as fsRead, close as fsClose, fstat as fsFstat, constants as C, type Stats } from 'node:fs';
import ssh2 from 'ssh2';
import { resolvePath, realPathOf } from './jail.js';
import { Upload } from './upload.js';
import { toAttrs } from './listing.js';
import { errnoToStatus } from './session-reply.js';
import { finishUpload } from './session-uploads.js';
import { uploadVerdict } from '../intake/names.js';
import type { DownloadHandle, SessionParts } from './session-types.js';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;
const MAX_READ = 255 * 1024;

export async function onOpen(s: SessionParts, reqid: number, filename: string, flags: number): Promise<void> {
  const r = resolvePath(filename);
  if (!r.ok) return s.out.jailFail(reqid, 'open', r.error);
  const t = r.target;
  if (t.kind !== 'file') return s.out.status(reqid, STATUS_CODE.FAILURE, 'Failure: is a directory');
  if ((flags & OPEN_MODE.WRITE) !== 0) return openUpload(s, reqid, r.virtual, t.area, t.name, flags);
  if (t.area !== 'outbound') return s.out.deny(reqid, 'open-read', r.virtual, 'files in /inbound cannot be read back; acknowledgments are in /outbound');
  return openDownload(s, reqid, r.virtual, realPathOf(s.ctx.partnerRoot, t), t.name);
}

async function openUpload(s: SessionParts, reqid: number, virtual: string, area: string, name: string, flags: number): Promise<void> {
  const { ctx, state, out, view } = s;
  if (area !== 'inbound') return out.deny(reqid, 'open-write', virtual, '/outbound is read-only');
  if (flags & OPEN_MODE.READ) return out.deny(reqid, 'open-readwrite', virtual, 'files in /inbound cannot be read back');
  if (flags & OPEN_MODE.APPEND) return out.deny(reqid, 'open-append', virtual, 'appending or resuming uploads is not supported');
  if (!(flags & OPEN_MODE.CREAT)) return out.deny(reqid, 'open-existing', virtual, 'existing files cannot be modified; upload a new file');
  // A name intake would not take is refused now, never accepted and then left unanswered.
  const verdict = uploadVerdict(name, ctx.stagedSuffixes);
  if (verdict.kind === 'refused') return out.deny(reqid, 'open-write', virtual, verdict.message, verdict.code);
  if (flags & OPEN_MODE.EXCL && (await view.exists('inbound', name))) return out.status(reqid, STATUS_CODE.FAILURE, 'file exists');
  if (state.full) return out.status(reqid, STATUS_CODE.FAILURE, 'too many open files');
  let upload: Upload;
  try {
    upload = await Upload.create(view.dirs.inbound, name, ctx.limits, ctx.now(), ctx.hashSink, ctx.hostId);
  } catch (err) {
    ctx.log.error({ err }, 'sftp: cannot create upload temp file');
    return out.status(reqid, errnoToStatus(err), 'cannot create file');
  }
  const h = state.open({ kind: 'upload', upload, virtual });
  if (!h) {
    // Session ending while we opened, or out of handles: nothing was written, nothing to keep.
    await upload.finish(false).catch(() => undefined);
    await fsp.unlink(upload.tempPath).catch(() => undefined);
    return out.status(reqid, STATUS_CODE.FAILURE, 'too many open files');
  }
  out.audit('sftp.upload.open', `${ctx.partner}:/inbound/${name}`, { name, flags: ssh2.utils.sftp.flagsToString(flags) ?? flags });
  out.sftp.handle(reqid, h);
}

async function openDownload(s: SessionParts, reqid: number, virtual: string, real: string, name: string): Promise<void> {
  const { state, out } = s;
  const fd = await new Promise<number | NodeJS.ErrnoException>((res) => fsOpen(real, C.O_RDONLY | C.O_NOFOLLOW, (err, fd) => res(err ?? fd)));
  if (typeof fd !== 'number') {
    if (fd.code === 'ELOOP') return out.deny(reqid, 'open-read', virtual, 'not a plain file');
    return out.status(reqid, errnoToStatus(fd), fd.code === 'ENOENT' ? 'No such file' : 'cannot open file');
  }
  const st = await new Promise<Stats | null>((res) => fsFstat(fd, (err, x) => res(err ? null : x)));
  if (!st || !st.isFile() || state.ending) {
    fsClose(fd, () => undefined);
    return out.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
  }
  const h = state.open({ kind: 'download', fd, name, size: st.size, bytesSent: 0, virtual, reading: 0, closed: false });
  if (!h) {
    fsClose(fd, () => undefined);
    return out.status(reqid, STATUS_CODE.FAILURE, 'too many open files');
  }
  out.sftp.handle(reqid, h);
}

/** Close a download's fd, or let the last read in flight close it. */
export function closeDownload(st: DownloadHandle): void {
  st.closed = true;
  if (st.reading === 0) fsClose(st.fd, () => undefined);
}

export function auditDownload(s: SessionParts, st: DownloadHandle, extra: Record<string, unknown> = {}): void {
  s.out.audit('sftp.download', `${s.ctx.partner}:/outbound/${st.name}`, { name: st.name, bytes: st.bytesSent, size: st.size, complete: st.bytesSent >= st.size, ...extra });
}

export function onWrite(s: SessionParts, reqid: number, handle: Buffer, offset: number, data: Buffer): void {
  const { ctx, out } = s;
  const st = s.state.get(handle);
  if (!st) return out.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
  if (st.kind !== 'upload') return out.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'handle not open for writing');
  const n = data.length;
  ctx.flow?.add(n);
  st.upload.write(offset, data, (err) => {
    ctx.flow?.done(n);
    if (err) out.status(reqid, err.code === 'EFBIG' ? STATUS_CODE.FAILURE : errnoToStatus(err), `write failed: ${err.message}`);
    else out.status(reqid, STATUS_CODE.OK);
  });
}

export function onRead(s: SessionParts, reqid: number, handle: Buffer, offset: number, len: number): void {
  const { ctx, out } = s;
  const st = s.state.get(handle);
  if (!st) return out.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
  if (st.kind !== 'download') return out.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'handle not open for reading');
  const n = Math.min(len, MAX_READ);
  if (n <= 0 || !Number.isSafeInteger(offset) || offset < 0) return out.status(reqid, STATUS_CODE.FAILURE, 'bad read');
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
    if (err) return out.status(reqid, errnoToStatus(err), 'read failed');
    if (bytes === 0) return out.status(reqid, STATUS_CODE.EOF);
    st.bytesSent += bytes;
    try {
      out.sftp.data(reqid, bytes === n ? buf : buf.subarray(0, bytes));
    } catch (e) {
      ctx.log.debug({ err: e }, 'sftp: could not send data');
    }
  });
}

export async function onClose(s: SessionParts, reqid: number, handle: Buffer): Promise<void> {
  const st = s.state.release(handle);
  if (!st) return s.out.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
  if (st.kind === 'upload') return finishUpload(s, reqid, st);
  if (st.kind === 'download') {
    closeDownload(st);
    auditDownload(s, st);
  }
  s.out.status(reqid, STATUS_CODE.OK);
}

export async function onFstat(s: SessionParts, reqid: number, handle: Buffer): Promise<void> {
  const { out } = s;
  const st = s.state.get(handle);
  if (!st) return out.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
  if (st.kind === 'upload') {
    const x = await st.upload.stat();
    return out.sftp.attrs(reqid, toAttrs({ name: st.upload.name, isDir: false, size: x.size, mtimeMs: x.mtimeMs, atimeMs: x.atimeMs }));
  }
  if (st.kind === 'download') {
    const x = await new Promise<Stats>((res, rej) => fsFstat(st.fd, (err, v) => (err ? rej(err) : res(v))));
    return out.sftp.attrs(reqid, toAttrs({ name: st.name, isDir: false, size: x.size, mtimeMs: x.mtimeMs, atimeMs: x.atimeMs }));
  }
  out.status(reqid, STATUS_CODE.OP_UNSUPPORTED, 'fstat on a directory handle');
}

/** Times and modes on an open handle: accepted and ignored, like SETSTAT. */
export function onFsetstat(s: SessionParts, reqid: number, handle: Buffer): void {
  s.out.status(reqid, s.state.get(handle) ? STATUS_CODE.OK : STATUS_CODE.FAILURE);
}
