// Request handlers on paths: STAT/LSTAT, SETSTAT, OPENDIR/READDIR, REALPATH, RENAME, REMOVE,
// and the refused MKDIR, RMDIR, SYMLINK.

import { promises as fsp } from 'node:fs';
import ssh2 from 'ssh2';
import type { Attributes } from 'ssh2';
import { resolvePath, canonicalize } from './jail.js';
import { toAttrs, longname } from './listing.js';
import { deliverOrQuarantine } from './session-uploads.js';
import { uploadVerdict } from '../intake/names.js';
import type { SessionParts } from './session-types.js';

const { STATUS_CODE } = ssh2.utils.sftp;
const READDIR_BATCH = 100;

/** STAT and LSTAT alike: symlinks are invisible, so there is nothing to tell them apart. */
export async function onStat(s: SessionParts, reqid: number, path: string, op: string): Promise<void> {
  const r = resolvePath(path);
  if (!r.ok) return s.out.jailFail(reqid, op, r.error);
  const e = await s.view.lookup(r.target);
  if (!e) return s.out.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
  s.out.sftp.attrs(reqid, toAttrs(e));
}

export async function onSetstat(s: SessionParts, reqid: number, path: string): Promise<void> {
  const r = resolvePath(path);
  if (!r.ok) return s.out.jailFail(reqid, 'setstat', r.error);
  // Times and modes are accepted and ignored: clients send them after every upload and
  // treat a refusal as a failed transfer.
  const e = await s.view.lookup(r.target);
  s.out.status(reqid, e ? STATUS_CODE.OK : STATUS_CODE.NO_SUCH_FILE, e ? undefined : 'No such file');
}

export async function onOpendir(s: SessionParts, reqid: number, path: string): Promise<void> {
  const { ctx, out, view } = s;
  const r = resolvePath(path);
  if (!r.ok) return out.jailFail(reqid, 'opendir', r.error);
  if (r.target.kind === 'file') {
    const e = await view.lookup(r.target);
    return out.status(reqid, e ? STATUS_CODE.FAILURE : STATUS_CODE.NO_SUCH_FILE, e ? 'not a directory' : 'No such file');
  }
  const now = ctx.now();
  const entries = (await view.list(r.target)).map((e) => ({ filename: e.name, longname: longname(e, ctx.partner, now), attrs: toAttrs(e) }));
  const h = s.state.open({ kind: 'dir', entries, pos: 0 });
  if (!h) return out.status(reqid, STATUS_CODE.FAILURE, 'too many open handles');
  out.sftp.handle(reqid, h);
}

export function onReaddir(s: SessionParts, reqid: number, handle: Buffer): void {
  const st = s.state.get(handle);
  if (!st || st.kind !== 'dir') return s.out.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
  if (st.pos >= st.entries.length) return s.out.status(reqid, STATUS_CODE.EOF);
  const batch = st.entries.slice(st.pos, st.pos + READDIR_BATCH);
  st.pos += batch.length;
  s.out.sftp.name(reqid, batch);
}

export function onRealpath(s: SessionParts, reqid: number, path: string): void {
  const r = canonicalize(path);
  if (!r.ok) return s.out.jailFail(reqid, 'realpath', r.error);
  s.out.sftp.name(reqid, [{ filename: r.virtual, longname: r.virtual, attrs: {} as Attributes }]);
}

/** Only a staged upload may be renamed: to another staging name, or to its final name (delivery). */
export async function onRename(s: SessionParts, reqid: number, oldPath: string, newPath: string): Promise<void> {
  const { state, out, view } = s;
  const a = resolvePath(oldPath);
  if (!a.ok) return out.jailFail(reqid, 'rename', a.error);
  const b = resolvePath(newPath);
  if (!b.ok) return out.jailFail(reqid, 'rename', b.error);
  if (a.target.kind !== 'file' || b.target.kind !== 'file' || a.target.area !== 'inbound' || b.target.area !== 'inbound') {
    return out.deny(reqid, 'rename', `${a.virtual} -> ${b.virtual}`, 'only uploads in /inbound can be renamed');
  }
  const staged = state.staged(a.target.name);
  if (!staged) {
    if (!(await view.exists('inbound', a.target.name))) return out.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    return out.deny(reqid, 'rename', `${a.virtual} -> ${b.virtual}`, 'delivered files cannot be renamed');
  }
  const to = b.target.name;
  if (to === staged.name) return out.status(reqid, STATUS_CODE.OK);
  const verdict = uploadVerdict(to, s.ctx.stagedSuffixes);
  // The upload stays staged: the client may rename it again, remove it, or leave it a partial.
  if (verdict.kind === 'refused') return out.deny(reqid, 'rename', `${a.virtual} -> ${b.virtual}`, verdict.message, verdict.code);
  if (verdict.kind === 'staged') {
    // Still a staging name: just re-label it; SFTP v3 RENAME never replaces a file.
    if (state.isStaged(to) || (await view.exists('inbound', to))) return out.status(reqid, STATUS_CODE.FAILURE, 'file exists');
    state.unstage(staged.name);
    state.stage({ ...staged, name: to });
    return out.status(reqid, STATUS_CODE.OK);
  }
  // The final name: deliver now. An existing file of that name is never replaced; the upload
  // gets the next free numbered name instead (place.ts), as for a direct upload.
  state.unstage(staged.name);
  await deliverOrQuarantine(s, reqid, to, staged.tempPath, staged.result, staged.openedAt, { via: 'rename', stagedAs: staged.name });
}

/** Only a staged upload may be removed (a cancelled transfer); delivered files stay. */
export async function onRemove(s: SessionParts, reqid: number, path: string): Promise<void> {
  const { ctx, state, out } = s;
  const r = resolvePath(path);
  if (!r.ok) return out.jailFail(reqid, 'remove', r.error);
  if (r.target.kind === 'file' && r.target.area === 'inbound') {
    const staged = state.staged(r.target.name);
    if (staged) {
      // The partner withdraws bytes it never delivered.
      state.unstage(staged.name);
      await fsp.unlink(staged.tempPath).catch(() => undefined);
      out.audit('sftp.upload.discarded', `${ctx.partner}:/inbound/${staged.name}`, { name: staged.name, bytes: staged.result.size, sha256: staged.result.sha256 });
      return out.status(reqid, STATUS_CODE.OK);
    }
  }
  out.deny(reqid, 'remove', r.virtual, 'files cannot be removed from the drop zone');
}

export function onMkdir(s: SessionParts, reqid: number, path: string): void {
  s.out.deny(reqid, 'mkdir', path, 'folders cannot be created');
}

export function onRmdir(s: SessionParts, reqid: number, path: string): void {
  s.out.deny(reqid, 'rmdir', path, 'folders cannot be removed');
}

export function onSymlink(s: SessionParts, reqid: number, _target: string, link: string): void {
  s.out.deny(reqid, 'symlink', link, 'links cannot be created');
}
