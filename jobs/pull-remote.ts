// The SFTP client the pull job uses: ssh2-sftp-client behind the few calls the job makes, with
// the host key checked against the partner's configured fingerprints.

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import SftpClient from 'ssh2-sftp-client';
import type { PullSource } from './pull-config.js';

export interface RemoteEntry {
  name: string;
  /** '-' file, 'd' folder, 'l' link. */
  type: string;
  size: number;
  /** Epoch ms. */
  modifyTime: number;
}

/** The subset of ssh2-sftp-client the pull job needs (tests may wrap the real one). */
export interface PullClient {
  connect(options: SftpClient.ConnectOptions): Promise<unknown>;
  list(dir: string): Promise<RemoteEntry[]>;
  /** Streams a remote file into `dst` (resolves when the remote side is read, not when dst is flushed). */
  get(remotePath: string, dst: NodeJS.WritableStream): Promise<unknown>;
  exists(remotePath: string): Promise<false | string>;
  mkdir(remotePath: string, recursive?: boolean): Promise<unknown>;
  posixRename(from: string, to: string): Promise<unknown>;
  rename(from: string, to: string): Promise<unknown>;
  delete(remotePath: string, notFoundOK?: boolean): Promise<unknown>;
  end(): Promise<unknown>;
}

export function defaultPullClient(): PullClient {
  // Without these handlers a dropped connection would surface as an uncaught error event.
  const noop = () => undefined;
  return new SftpClient('lotgate-pull', { error: noop, end: noop, close: noop }) as unknown as PullClient;
}

export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Connects, refusing a server whose host key is not one of the configured fingerprints. */
export async function connectPull(client: PullClient, src: PullSource): Promise<void> {
  let hostKeyProblem: string | null = null;
  try {
    await client.connect({
      host: src.host,
      port: src.port,
      username: src.user,
      privateKey: src.privateKey,
      passphrase: src.passphrase,
      password: src.password,
      readyTimeout: src.timeoutMs,
      hostVerifier: (key: Buffer) => {
        if (src.allowUnknownHostKey && src.fingerprints.length === 0) return true;
        const seen = hostKeyFingerprint(key);
        if (src.fingerprints.includes(seen)) return true;
        hostKeyProblem = `host key ${seen} is not one of the configured hostFingerprint values — the server's key changed, or something is posing as it`;
        return false;
      },
    });
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new Error(`sftp://${src.user}@${src.host}:${src.port}: ${hostKeyProblem ?? `cannot connect: ${(err as Error).message}`}`);
  }
}

/**
 * Downloads a remote file to a local path and resolves once the local file is complete and
 * closed. (ssh2-sftp-client's get() resolves when the remote read ends, possibly before the
 * local file has been written.)
 */
export async function download(client: PullClient, remotePath: string, localPath: string): Promise<void> {
  const ws = createWriteStream(localPath, { flags: 'w' });
  try {
    await client.get(remotePath, ws);
  } catch (err) {
    ws.destroy();
    throw err;
  }
  await finished(ws);
}
