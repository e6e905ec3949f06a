// OpenSSH pieces: client keys made with ssh-keygen, the `sftp -b` client, and the reference
// server — OpenSSH sshd with internal-sftp on a loopback port, from a temp sshd_config.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './net.js';
import { runChecked, runMeasured, startBackground, type Background, type RunResult } from './proc.js';
import { TOOLS } from './tools.js';

export interface KeyPair {
  privateKey: string;
  publicKeyLine: string;
}

/** `ssh-keygen -t ed25519` into `dir/name` (no passphrase). */
export async function makeKey(dir: string, name: string): Promise<KeyPair> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  if (!existsSync(file)) await runChecked(TOOLS.sshKeygen.bin, ['-q', '-t', 'ed25519', '-N', '', '-C', `lotgate-bench ${name}`, '-f', file]);
  return { privateKey: file, publicKeyLine: readFileSync(`${file}.pub`, 'utf8').trim() };
}

export const CLIENT_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes'];

/** One `sftp -b` session: `put local remote`, measured. `-v` so the negotiated cipher can be read. */
export function sftpPut(key: string, user: string, port: number, local: string, remote: string, batchDir: string): Promise<RunResult> {
  const batch = path.join(batchDir, `batch-${user}-${port}.txt`);
  writeFileSync(batch, `put ${local} ${remote}\n`);
  return runMeasured(TOOLS.sftp.bin, ['-v', '-b', batch, '-i', key, '-P', String(port), ...CLIENT_OPTS, `${user}@127.0.0.1`]);
}

/** "chacha20-poly1305@openssh.com MAC: <implicit>" from an `sftp -v` log. */
export function negotiatedCipher(stderr: string): string | null {
  const m = /kex: client->server cipher: (\S+) MAC: (\S+)/.exec(stderr);
  return m ? `${m[1]}${m[2] === '<implicit>' ? '' : ` + ${m[2]}`}` : null;
}

export interface ReferenceSshd {
  port: number;
  user: string;
  /** Where uploads land (absolute; the sftp session is not chrooted). */
  inbox: string;
  notes: string[];
  stop(): Promise<void>;
}

/** OpenSSH sshd -D with internal-sftp, accepting `clientKey` for the current user. */
export async function startReferenceSshd(dir: string, clientKey: KeyPair): Promise<ReferenceSshd> {
  const notes: string[] = [];
  mkdirSync(dir, { recursive: true });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  if (!existsSync(hostKey)) await runChecked(TOOLS.sshKeygen.bin, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, clientKey.publicKeyLine + '\n', { mode: 0o600 });
  const inbox = path.join(dir, 'inbox');
  mkdirSync(inbox, { recursive: true });
  // sshd refuses to start without its privilege separation directory.
  if (!existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    notes.push('created /run/sshd (sshd privilege separation directory)');
  }
  const user = os.userInfo().username;
  const port = await freePort();
  const cfg = path.join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      'PidFile none',
      `AuthorizedKeysFile ${authorized}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      user === 'root' ? 'PermitRootLogin prohibit-password' : '',
      `AllowUsers ${user}`,
      'StrictModes no',
      'UsePAM no',
      'Subsystem sftp internal-sftp',
      'ForceCommand internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const bg: Background = startBackground(TOOLS.sshd.bin, ['-D', '-e', '-f', cfg]);
  try {
    await waitForPort(port, 10_000, () => bg.child.exitCode === null);
  } catch (e) {
    await bg.stop();
    throw new Error(`sshd did not start: ${(e as Error).message}\n${bg.output().slice(-2000)}`);
  }
  return { port, user, inbox, notes, stop: () => bg.stop() };
}
