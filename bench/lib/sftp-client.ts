// An in-process SFTP client (ssh2) for the latency scenario: one session per partner, and an
// upload whose CLOSE moment is known to the millisecond (OpenSSH's sftp does not tell us).

import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';

export interface SftpSession {
  /** Uploads `data` to `remote`; resolves with Date.now() taken just before CLOSE was sent. */
  put(remote: string, data: Buffer): Promise<number>;
  end(): void;
}

export function connectSftp(port: number, username: string, privateKeyFile: string): Promise<SftpSession> {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.on('error', reject);
    conn.on('ready', () => {
      conn.sftp((err, sftp) => {
        if (err) return reject(err);
        resolve({ put: (remote, data) => put(sftp, remote, data), end: () => conn.end() });
      });
    });
    conn.connect({ host: '127.0.0.1', port, username, privateKey: readFileSync(privateKeyFile), readyTimeout: 30_000 });
  });
}

const CHUNK = 32 * 1024;

function put(sftp: SFTPWrapper, remote: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    sftp.open(remote, 'w', (err, handle) => {
      if (err) return reject(new Error(`open ${remote}: ${err.message}`));
      // All writes in flight at once, as OpenSSH's sftp does (it keeps up to 64 requests out).
      let pending = 0;
      let failed = false;
      const done = () => {
        const closeAt = Date.now();
        sftp.close(handle, (e) => (e ? reject(new Error(`close ${remote}: ${e.message}`)) : resolve(closeAt)));
      };
      if (data.length === 0) return done();
      for (let off = 0; off < data.length; off += CHUNK) {
        const len = Math.min(CHUNK, data.length - off);
        pending++;
        sftp.write(handle, data, off, len, off, (e) => {
          if (failed) return;
          if (e) {
            failed = true;
            return reject(new Error(`write ${remote}: ${e.message}`));
          }
          if (--pending === 0) done();
        });
      }
    });
  });
}
