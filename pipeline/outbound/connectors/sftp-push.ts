// Remote SFTP push: the same file the file-drop connector writes, uploaded to the receiver's
// SFTP server (the ERP's or QMS's interface folder). The upload goes to a hidden temp name and is
// renamed into place, so a receiver polling the folder never picks up half a file. One
// connection serves a whole batch between open() and close().

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import type { Connector, DeliveryResult, RetryConfig } from '../delivery.js';
import { retryPolicy } from '../delivery.js';
import { envSecret, OutboundConfigError, type ConfigProblem } from '../errors.js';
import type { OutboundMessage } from '../messages.js';
import type { CsvOptions } from '../render/csv.js';
import { renderMessage, type FileFormat, type RenderedFile } from '../render/render.js';

export interface SftpConnectorConfig extends RetryConfig {
  name: string;
  type: 'sftp';
  host: string;
  port?: number;
  user: string;
  /** Private key file (OpenSSH or PEM); a relative path is relative to the data dir. */
  keyPath?: string;
  /** Environment variable holding the key's passphrase, when it has one. */
  passphraseEnv?: string;
  /** Environment variable holding the password (password or keyboard-less password auth). */
  passwordEnv?: string;
  /** Remote folder the files go to. */
  dir: string;
  format: FileFormat;
  topics: string[];
  csv?: CsvOptions;
  /** The server's host key fingerprints as `ssh-keygen -lf` prints them (`SHA256:...`). */
  hostFingerprints?: string[];
  /** Accept any host key (test systems only: anyone on the path could pose as the server). */
  allowUnknownHostKey?: boolean;
  /** Connect/handshake timeout. Default 20 s. */
  timeoutMs?: number;
}

/** The subset of ssh2-sftp-client this connector uses (tests may hand in a double). */
export interface SftpClientLike {
  connect(options: SftpClient.ConnectOptions): Promise<unknown>;
  put(input: Buffer, remotePath: string): Promise<unknown>;
  posixRename(from: string, to: string): Promise<unknown>;
  rename(from: string, to: string): Promise<unknown>;
  exists(remotePath: string): Promise<false | string>;
  delete(remotePath: string, notFoundOK?: boolean): Promise<unknown>;
  end(): Promise<unknown>;
}

export interface SftpDeps {
  /** Folder relative key paths are resolved against. */
  baseDir?: string;
  /** Prefix for problem paths, e.g. `connectors[2]`. */
  path?: string;
  /** Builds a client; `onLost` must be called when the connection drops. */
  clientFactory?: (onLost: () => void) => SftpClientLike;
}

export interface SftpConnector extends Connector {
  open(): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export const DEFAULT_SFTP_TIMEOUT_MS = 20_000;

export function createSftpConnector(cfg: SftpConnectorConfig, env: NodeJS.ProcessEnv, deps: SftpDeps = {}): SftpConnector {
  const where = deps.path ?? `connector "${cfg.name}"`;
  const problems: ConfigProblem[] = [];
  let privateKey: Buffer | undefined;
  if (cfg.keyPath) {
    const keyFile = path.resolve(deps.baseDir ?? process.cwd(), cfg.keyPath);
    try {
      privateKey = readFileSync(keyFile);
    } catch (err) {
      problems.push({ code: 'E_CONFIG_KEY_UNREADABLE', path: `${where}.keyPath`, message: `cannot read private key ${keyFile}: ${(err as Error).message}` });
    }
  }
  const passphrase = cfg.passphraseEnv ? envSecret(env, cfg.passphraseEnv, `${where}.passphraseEnv`, 'private key passphrase', problems) : undefined;
  const password = cfg.passwordEnv ? envSecret(env, cfg.passwordEnv, `${where}.passwordEnv`, 'SFTP password', problems) : undefined;
  if (!cfg.keyPath && !cfg.passwordEnv) {
    problems.push({ code: 'E_CONFIG_INVALID', path: where, message: 'needs keyPath or passwordEnv to log in' });
  }
  const fingerprints = (cfg.hostFingerprints ?? []).map(normalizeFingerprint);
  if (fingerprints.length === 0 && !cfg.allowUnknownHostKey) {
    problems.push({
      code: 'E_CONFIG_HOST_KEY',
      path: `${where}.hostFingerprints`,
      message: `the server's host key fingerprint is required (ssh-keygen -lf on its public host key, or ssh-keyscan -p ${cfg.port ?? 22} ${cfg.host} | ssh-keygen -lf -); allowUnknownHostKey: true skips the check on test systems`,
    });
  }
  if (problems.length) throw new OutboundConfigError(problems);

  const what = `${cfg.name} (sftp://${cfg.user}@${cfg.host}:${cfg.port ?? 22})`;
  const timeoutMs = cfg.timeoutMs ?? DEFAULT_SFTP_TIMEOUT_MS;
  const factory =
    deps.clientFactory ??
    ((onLost: () => void) =>
      new SftpClient(cfg.name, { error: onLost, end: onLost, close: onLost }) as unknown as SftpClientLike);

  let client: SftpClientLike | null = null;
  let connecting: Promise<SftpClientLike> | null = null;
  let inBatch = false;
  let active = 0; // deliveries in flight; outside a batch the last one out closes the connection
  let hostKeyProblem: string | null = null;

  const drop = (c: SftpClientLike | null) => {
    if (c && client === c) client = null;
    c?.end().catch(() => undefined);
  };

  const connect = (): Promise<SftpClientLike> => {
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    connecting = (async () => {
      let c: SftpClientLike | null = null;
      const lost = () => {
        // Forget it so the next delivery reconnects; end() releases whatever is left of it.
        if (client === c) client = null;
        c?.end().catch(() => undefined);
      };
      c = factory(lost);
      hostKeyProblem = null;
      try {
        await c.connect({
          host: cfg.host,
          port: cfg.port ?? 22,
          username: cfg.user,
          privateKey,
          passphrase,
          password,
          readyTimeout: timeoutMs,
          hostVerifier: (key: Buffer) => {
            if (cfg.allowUnknownHostKey && fingerprints.length === 0) return true;
            const seen = fingerprintOf(key);
            if (fingerprints.includes(seen)) return true;
            hostKeyProblem = `host key ${seen} is not one of the configured hostFingerprints — the server's key changed, or something is posing as it`;
            return false;
          },
        });
      } catch (err) {
        c.end().catch(() => undefined);
        throw new Error(hostKeyProblem ?? `cannot connect: ${(err as Error).message}`);
      }
      client = c;
      return c;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  };

  const upload = async (c: SftpClientLike, file: RenderedFile): Promise<void> => {
    const final = path.posix.join(cfg.dir, file.name);
    const tmp = path.posix.join(cfg.dir, `.${file.name}.${randomBytes(6).toString('hex')}.part`);
    try {
      await c.put(file.content, tmp);
      try {
        // posix-rename@openssh.com replaces an existing file atomically (a re-delivery).
        await c.posixRename(tmp, final);
      } catch {
        // Servers without the extension: plain SFTP rename refuses to overwrite. The same name
        // means the same message id, so an existing file is this message, already delivered.
        try {
          await c.rename(tmp, final);
        } catch (err) {
          if ((await c.exists(final)) === '-') {
            await c.delete(tmp, true);
            return;
          }
          throw err;
        }
      }
    } catch (err) {
      await c.delete(tmp, true).catch(() => undefined);
      throw err;
    }
  };

  const connector: SftpConnector = {
    name: cfg.name,
    type: 'sftp',
    topics: cfg.topics,
    retry: retryPolicy(cfg),
    async open(): Promise<DeliveryResult> {
      inBatch = true;
      try {
        await connect();
        return { ok: true };
      } catch (err) {
        return { ok: false, retryable: true, error: `${what}: ${(err as Error).message}` };
      }
    },
    async close(): Promise<void> {
      inBatch = false;
      const c = client ?? (connecting ? await connecting.catch(() => null) : null);
      client = null;
      if (c) await c.end().catch(() => undefined);
    },
    async deliver(msg: OutboundMessage): Promise<DeliveryResult> {
      let file: RenderedFile;
      try {
        file = renderMessage(msg, cfg.format, cfg.csv);
      } catch (err) {
        return { ok: false, retryable: false, error: `${what}: cannot render message ${msg.id} as ${cfg.format}: ${(err as Error).message}` };
      }
      const reused = client !== null;
      let c: SftpClientLike | null = null;
      active++;
      try {
        c = await connect();
        try {
          await upload(c, file);
        } catch (err) {
          // A connection kept open across a batch may have been closed by the server while idle:
          // one fresh connection gets one more try before the failure counts.
          if (!reused) throw err;
          drop(c);
          c = await connect();
          await upload(c, file);
        }
        return { ok: true };
      } catch (err) {
        drop(c);
        return { ok: false, retryable: true, error: `${what}: ${file.name}: ${(err as Error).message}` };
      } finally {
        active--;
        if (!inBatch && active === 0 && client) {
          const done = client;
          client = null;
          await done.end().catch(() => undefined);
        }
      }
    },
  };
  return connector;
}

/** `SHA256:<base64 without padding>` of a raw SSH public key blob, as OpenSSH prints it. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

function normalizeFingerprint(fp: string): string {
  const t = fp.trim().replace(/=+$/, '');
  return t.startsWith('SHA256:') ? t : `SHA256:${t}`;
}
