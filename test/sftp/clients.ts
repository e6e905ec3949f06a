// Runners for real SFTP clients from Debian packages, against a drop zone on 127.0.0.1:
// OpenSSH sftp (helpers.ts), lftp, curl (libssh2), rclone, Python paramiko. Each takes a key
// file and returns what the client printed; none trusts a known_hosts file.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<ClientRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Why a client cannot run here (its Debian package is not installed), or null. */
export function missing(binary: string, probe?: string[]): string | null {
  if (!existsSync(binary)) return `${binary} is not installed`;
  if (probe) {
    const r = spawnSync(binary, probe, { encoding: 'utf8' });
    if (r.status !== 0) return `${binary} ${probe.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  }
  return null;
}

const SSH_OPTS = '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR';

/** lftp over its sftp:// scheme (it runs `ssh -s sftp` underneath). */
export async function runLftp(port: number, key: string, user: string, commands: string[], cwd: string): Promise<ClientRun> {
  const script = [`set sftp:connect-program "ssh -a -x -i ${key} ${SSH_OPTS}"`, 'set net:max-retries 1', 'set cmd:fail-exit yes', `open -u ${user}, -p ${port} sftp://127.0.0.1`, ...commands, 'bye'].join('\n');
  const tmp = mkdtempSync(join(tmpdir(), 'lotgate-lftp-'));
  writeFileSync(join(tmp, 'script'), script + '\n');
  try {
    return await run('/usr/bin/lftp', ['-f', join(tmp, 'script')], { cwd, env: { ...process.env, HOME: tmp } });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** OpenSSH sftp in batch mode (`sftp -b`), as a nightly job runs it. */
export async function runOpenssh(port: number, key: string, user: string, commands: string[], cwd: string): Promise<ClientRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'lotgate-sftpb-'));
  writeFileSync(join(tmp, 'batch'), commands.join('\n') + '\n');
  try {
    const args = ['-b', join(tmp, 'batch'), '-P', String(port), '-i', key, ...SSH_OPTS.split(' '), `${user}@127.0.0.1`];
    return await run('/usr/bin/sftp', args, { cwd });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * curl's sftp:// (libssh2), the key pair from files. With `hostKey` (`SHA256:…`, as lotgate
 * prints it) the server's host key is pinned with --hostpubsha256; without it, -k.
 */
export function runCurl(port: number, key: string, user: string, args: string[], cwd: string, hostKey?: string): Promise<ClientRun> {
  const trust = hostKey ? ['--hostpubsha256', hostKey.replace(/^SHA256:/, '')] : ['-k'];
  return run('/usr/bin/curl', ['--silent', '--show-error', '--fail', ...trust, '--key', key, '--pubkey', `${key}.pub`, '-u', `${user}:`, ...args], { cwd });
}
export const curlUrl = (port: number, path: string) => `sftp://127.0.0.1:${port}${path}`;

/** rclone with an sftp remote named `lg` configured from the environment only (no config file). */
export function runRclone(port: number, key: string, user: string, args: string[], cwd: string): Promise<ClientRun> {
  const env = {
    ...process.env,
    RCLONE_CONFIG: '/dev/null',
    RCLONE_CONFIG_LG_TYPE: 'sftp',
    RCLONE_CONFIG_LG_HOST: '127.0.0.1',
    RCLONE_CONFIG_LG_PORT: String(port),
    RCLONE_CONFIG_LG_USER: user,
    RCLONE_CONFIG_LG_KEY_FILE: key,
    // A drop zone offers SFTP only: no shell for md5sum/sha1sum.
    RCLONE_CONFIG_LG_SHELL_TYPE: 'none',
    RCLONE_CONFIG_LG_DISABLE_HASHCHECK: 'true',
  };
  return run('/usr/bin/rclone', ['--retries', '1', '--low-level-retries', '1', ...args], { cwd, env });
}

/** A Python script run by Debian's python3 with python3-paramiko; argv after the script. */
export function runPython(script: string, args: string[], cwd: string): Promise<ClientRun> {
  return run('/usr/bin/python3', ['-c', script, ...args], { cwd });
}
