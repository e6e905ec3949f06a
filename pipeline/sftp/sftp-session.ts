// One partner's SFTP session: a small state (session-state.ts), a view of the jail
// (session-view.ts), a responder (session-reply.ts), and one named handler per SFTP request
// (session-files.ts, session-paths.ts). This file only wires them to the channel and ends the
// session: uploads still open or staged when it ends are quarantined as partials.
//
// Policies (also in pipeline/sftp/README.md):
// - /inbound: create new files, list, stat. No read-back, no overwrite, no remove, no rename of
//   delivered files. A same-name upload gets ` (2)`, ` (3)`, … (see place.ts).
// - Names: whatever intake would not take (too long, `~$…`, `….ack.json`; see
//   intake/names.ts uploadVerdict) is refused at OPEN, never accepted and left unanswered.
// - Staged uploads: a file uploaded under a temporary name (`.filepart` WinSCP, `.partial`
//   rclone, `.part`, `.tmp`, `.crdownload`) is held back when closed and delivered only when the
//   client renames it to its final name in the same session. The client may also remove it (a
//   cancelled transfer). If the session ends first, it is a partial upload.
// - /outbound: list, stat, read. Nothing else.
// - MKDIR, RMDIR, REMOVE (except own staged files), SYMLINK: permission denied. READLINK and
//   extensions: unsupported. SETSTAT/FSETSTAT: accepted and ignored (clients send times/modes).

import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { SessionState } from './session-state.js';
import { Responder, errnoToStatus } from './session-reply.js';
import { PartnerView } from './session-view.js';
import { abandonUpload, quarantine } from './session-uploads.js';
import { onOpen, onWrite, onRead, onClose, onFstat, onFsetstat, closeDownload, auditDownload } from './session-files.js';
import { onStat, onSetstat, onOpendir, onReaddir, onRealpath, onRename, onRemove, onMkdir, onRmdir, onSymlink } from './session-paths.js';
import type { SessionContext, SessionParts } from './session-types.js';

export { QUARANTINE_DIR, type SessionContext, type UploadedFile, type PartialFile } from './session-types.js';

const { STATUS_CODE } = ssh2.utils.sftp;

export interface SftpSession {
  /** Quarantine whatever is still open or staged; resolves when every file is settled. */
  end(reason: string): Promise<void>;
}

type Handler = (s: SessionParts, reqid: number, ...args: any[]) => Promise<void> | void;

/** SFTP request → [name in logs and errors, handler]. */
const HANDLERS: Record<string, [string, Handler]> = {
  OPEN: ['open', onOpen],
  WRITE: ['write', onWrite],
  READ: ['read', onRead],
  CLOSE: ['close', onClose],
  STAT: ['stat', (s, reqid, path: string) => onStat(s, reqid, path, 'stat')],
  LSTAT: ['lstat', (s, reqid, path: string) => onStat(s, reqid, path, 'lstat')],
  FSTAT: ['fstat', onFstat],
  SETSTAT: ['setstat', onSetstat],
  FSETSTAT: ['fsetstat', onFsetstat],
  OPENDIR: ['opendir', onOpendir],
  READDIR: ['readdir', onReaddir],
  REALPATH: ['realpath', onRealpath],
  RENAME: ['rename', onRename],
  REMOVE: ['remove', onRemove],
  MKDIR: ['mkdir', onMkdir],
  RMDIR: ['rmdir', onRmdir],
  SYMLINK: ['symlink', onSymlink],
};

export function attachSftpSession(sftp: SFTPWrapper, ctx: SessionContext): SftpSession {
  const state = new SessionState(ctx.maxHandles);
  const out = new Responder(sftp, ctx);
  const parts: SessionParts = { ctx, state, out, view: new PartnerView(ctx.partnerRoot, state) };

  const failed = (reqid: number, op: string, err: unknown) => {
    ctx.log.error({ err, op }, 'sftp: request failed');
    out.status(reqid, errnoToStatus(err), `${op} failed`);
  };

  // Every request: refused once the session is ending; a rejection or throw becomes a status;
  // async handlers are tracked so end() lets them finish first.
  for (const [event, [op, handler]] of Object.entries(HANDLERS)) {
    sftp.on(event, (reqid: number, ...args: unknown[]) => {
      if (state.ending) return out.status(reqid, STATUS_CODE.CONNECTION_LOST);
      try {
        const res = handler(parts, reqid, ...args);
        if (res) void state.track(res.catch((err) => failed(reqid, op, err)));
      } catch (err) {
        failed(reqid, op, err);
      }
    });
  }
  sftp.on('READLINK', (reqid: number) => out.status(reqid, STATUS_CODE.OP_UNSUPPORTED));
  sftp.on('EXTENDED', (reqid: number) => out.status(reqid, STATUS_CODE.OP_UNSUPPORTED));

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
    return state.end(async (handles, staged) => {
      const work: Promise<void>[] = [];
      for (const st of handles) {
        if (st.kind === 'upload') work.push(abandonUpload(parts, st.upload, reason));
        else if (st.kind === 'download') {
          closeDownload(st);
          auditDownload(parts, st, { interrupted: reason });
        }
      }
      for (const s of staged) work.push(quarantine(parts, s.name, s.tempPath, s.result, `staged upload never renamed (${reason})`, s.openedAt));
      await Promise.allSettled(work);
    });
  }

  return { end };
}
