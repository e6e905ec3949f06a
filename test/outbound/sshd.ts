// A throw-away OpenSSH server on a loopback port for the SFTP push tests: temp host key,
// temp authorized_keys, internal-sftp. Returns why when it cannot run, so tests skip clearly.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

export interface Sshd {
  port: number;
  user: string;
  dir: string;
  clientKeyPath: string;
  hostFingerprint: string;
  /** sshd's log so far (stderr with -e). */
  log(): string;
  stop(): Promise<void>;
}

export type SshdStart = { ok: true; sshd: Sshd } | { ok: false; why: string };

const SSHD = '/usr/sbin/sshd';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startSshd(): Promise<SshdStart> {
  if (!existsSync(SSHD)) return { ok: false, why: `${SSHD} not installed (apt-get install openssh-server)` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'sshd needs root to run (tests are not running as root)' };
  const dir = mkdtempSync(path.join(tmpdir(), 'lotgate-sshd-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const hostKey = path.join(dir, 'host_ed25519');
    const clientKey = path.join(dir, 'client_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lotgate-test-host', '-f', hostKey]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lotgate-test-client', '-f', clientKey]);
    writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
    const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(/\s+/)[1];
    const user = userInfo().username;
    const port = await freePort();
    const cfg = path.join(dir, 'sshd_config');
    writeFileSync(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
        'StrictModes no',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        `AllowUsers ${user}`,
        'Subsystem sftp internal-sftp',
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    // Privilege separation directory the Debian package normally creates at boot.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    try {
      execFileSync(SSHD, ['-t', '-f', cfg], { stdio: 'pipe' });
    } catch (err) {
      cleanup();
      return { ok: false, why: `sshd rejects the test config: ${String((err as { stderr?: Buffer }).stderr ?? err)}` };
    }
    const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    let exited = false;
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    child.once('exit', () => (exited = true));
    // If the test worker dies before afterAll, sshd must not outlive it.
    process.once('exit', () => {
      if (!exited) child.kill('SIGTERM');
    });
    for (let i = 0; i < 100 && !exited; i++) {
      if (await canConnect(port)) {
        const sshd: Sshd = {
          port,
          user,
          dir,
          clientKeyPath: clientKey,
          hostFingerprint: fp,
          log: () => log,
          stop: async () => {
            if (!exited && child.pid) {
              const done = new Promise<void>((r) => child.once('exit', () => r()));
              child.kill('SIGTERM');
              await done;
            }
            cleanup();
          },
        };
        return { ok: true, sshd };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited) child.kill('SIGTERM');
    cleanup();
    return { ok: false, why: `sshd did not start: ${log.trim() || 'no output'}` };
  } catch (err) {
    cleanup();
    return { ok: false, why: `cannot prepare sshd: ${(err as Error).message}` };
  }
}
