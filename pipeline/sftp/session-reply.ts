// How a session answers: SFTP status replies that never throw, refusals that are audited, and
// the audit record itself with the session's id and address added.

import type { AuditAction } from '../codes.js';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import type { JailError } from './jail.js';
import type { SessionContext } from './session-types.js';

const { STATUS_CODE } = ssh2.utils.sftp;

export function errnoToStatus(err: unknown): number {
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

export class Responder {
  constructor(
    /** The channel, for the replies that carry data (handle, data, name, attrs). */
    readonly sftp: SFTPWrapper,
    private readonly ctx: SessionContext,
  ) {}

  audit(action: AuditAction, subject: string, details: Record<string, unknown>): void {
    try {
      this.ctx.audit({ actor: this.ctx.partner, action, subject, details: { session: this.ctx.session, ip: this.ctx.ip, ...details } });
    } catch (err) {
      this.ctx.log.error({ err, action }, 'sftp: audit write failed');
    }
  }

  status(reqid: number, code: number, message?: string): void {
    try {
      this.sftp.status(reqid, code, message);
    } catch (err) {
      this.ctx.log.debug({ err }, 'sftp: could not send status');
    }
  }

  /** A refused request: audited, and answered with our reason after the generic words. */
  deny(reqid: number, op: string, path: string, message: string, code?: string): void {
    this.audit('sftp.denied', `${this.ctx.partner}:${path}`, { op, path, ...(code ? { code } : {}), reason: message });
    // Clients show the server's message instead of the generic text; keep the generic words first.
    this.status(reqid, STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${message}`);
  }

  /** A path the jail did not resolve: absent paths are just absent, the rest is refused. */
  jailFail(reqid: number, op: string, e: JailError): void {
    if (e.code === 'E_PATH_NOT_FOUND') return this.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
    this.audit('sftp.denied', `${this.ctx.partner}:${e.path}`, { op, path: e.path, code: e.code, reason: e.message });
    this.status(reqid, STATUS_CODE.PERMISSION_DENIED, `Permission denied: ${e.message}`);
  }
}
