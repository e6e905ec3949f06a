// The hosted SFTP drop zone: an ssh2 server that only speaks SFTP, one jail per partner.
// This file is the shell: TCP accept, login grace timer, defender at the door, wiring of the
// authenticator and the SFTP session handlers, and an orderly shutdown in which open uploads
// become partials.

import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { mkdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import ssh2 from 'ssh2';
import type { Connection, ClientInfo, Session, AuthContext, Algorithms } from 'ssh2';
import type { Logger } from 'pino';
import type { PartnerConfig } from '../model/types.js';
import { createDefender, type BanStore, type DefenderConfig } from './defender.js';
import { createPreauthAudit, createPreauthSlots, preauthLimits, type PreauthLimits } from './preauth.js';
import { createAuthenticator, type AuditFn } from './auth.js';
import { loadOrCreateHostKey } from './host-key.js';
import { attachSftpSession, QUARANTINE_DIR, type SftpSession, type UploadedFile, type PartialFile } from './sftp-session.js';
import { isValidPartnerId } from './jail.js';
import { createHashPool, type HashPool } from './hash-pool.js';
import { TEMP_SUFFIXES } from '../intake/names.js';

export type { UploadedFile, PartialFile } from './sftp-session.js';

export interface DropZoneOptions {
  /** Partner folders live at `<dropDir>/<partnerId>/{inbound,outbound}`. */
  dropDir: string;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Generated (ed25519) on first start, then kept and reused. */
  hostKeyPath: string;
  /** Read on every login, so a partner added or changed takes effect without a restart. */
  partners: () => Map<string, PartnerConfig>;
  audit: AuditFn;
  /** The file is complete and renamed into inbound/. */
  onUploaded: (u: UploadedFile) => void;
  /** An upload that did not complete; `path` is where its bytes were moved (quarantine). */
  onPartial: (u: PartialFile) => void;
  log: Logger;
  /** A connection not authenticated within this time is closed. Default 30 000. */
  loginGraceMs?: number;
  /** Default 5 failures / 5 min → 15 min ban, doubling per repeat. */
  defender?: { maxFailures: number; windowMs: number; banMs: number };
  /** Where bans are shared with the other processes of the data dir (default: this process only). */
  banStore?: BanStore;
  /** Public credentials refused even when a partner file lists them (outside demo mode). */
  refuseCredentials?: { fingerprints: ReadonlySet<string>; passwords: readonly string[] };
  /** Unauthenticated connections per IP and audit rows per IP and window (preauth.ts). */
  preauth?: Partial<PreauthLimits>;
  /** Clock for the defender (tests). */
  now?: () => number;
  /** Suffixes of uploads delivered only after a rename (default .filepart, .part, .tmp). */
  stagedSuffixes?: readonly string[];
  /** Largest accepted upload. Default 64 GiB. */
  maxFileBytes?: number;
  /** Bytes an upload may buffer out of order while hashing in stream. Default 16 MiB. */
  reorderWindowBytes?: number;
  /** Hash uploads in a worker thread. Default: when the machine has 4 or more cores. */
  hashInWorker?: boolean;
  /**
   * This machine's id (intake/host-id.ts), written into the names of upload temp files so that,
   * with a drop folder shared by several machines, the reconciler's start-up rule answers only
   * this machine's. Default: none (temp names carry no id).
   */
  hostId?: string;
}

export interface DropZone {
  listen(): Promise<{ port: number }>;
  /** Stops accepting, ends every session (open uploads become partials) and waits for them. */
  close(): Promise<void>;
  hostKeyFingerprint: string;
  /** Open TCP connections, authenticated or not. */
  connections(): number;
}

const FLOW_PAUSE_BYTES = 64 * 1024 * 1024;
const FLOW_RESUME_BYTES = 16 * 1024 * 1024;

/** Temporary names held back until renamed: the ones intake never takes (WinSCP `.filepart`,
 * rclone `.partial`, `.part`, `.tmp`, `.crdownload`), so none is delivered and then ignored. */
export const DEFAULT_STAGED_SUFFIXES: readonly string[] = TEMP_SUFFIXES;

const WANTED = {
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group14-sha256',
  ],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
  serverHostKey: ['ssh-ed25519'],
  // No compression: CSV compresses well, but zlib on the server is CPU and a bomb vector.
  compress: ['none'],
};

/** Modern algorithms only, intersected with what this ssh2/OpenSSL build supports. */
export function modernAlgorithms(): Algorithms {
  let supported: { SUPPORTED_KEX: string[]; SUPPORTED_CIPHER: string[]; SUPPORTED_MAC: string[] } | null = null;
  try {
    supported = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js');
  } catch {
    supported = null;
  }
  if (!supported) return WANTED as Algorithms;
  const keep = (wanted: string[], have: string[]) => wanted.filter((a) => have.includes(a));
  return {
    ...WANTED,
    kex: keep(WANTED.kex, supported.SUPPORTED_KEX),
    cipher: keep(WANTED.cipher, supported.SUPPORTED_CIPHER),
    hmac: keep(WANTED.hmac, supported.SUPPORTED_MAC),
  } as Algorithms;
}

interface Conn {
  id: string;
  ip: string;
  port: number;
  socket: Socket;
  client: Connection | null;
  software?: string;
  partner: string | null;
  sessions: SftpSession[];
  openedAt: number;
  grace: NodeJS.Timeout;
  /** Upload bytes received on this connection and not yet written to disk. */
  inFlight: number;
  /** Frees this connection's unauthenticated slot (on login or close). */
  releaseSlot: () => void;
}

function normalizeIp(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** Create the partner's folders; refuse if any of them is a symlink or not a folder. */
function ensurePartnerLayout(dropDir: string, partner: string): string {
  const root = join(dropDir, partner);
  for (const dir of [root, join(root, 'inbound'), join(root, 'outbound'), join(root, QUARANTINE_DIR)]) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`E_DROP_LAYOUT: ${dir} is not a plain folder`);
  }
  return root;
}

export function createDropZone(opts: DropZoneOptions): DropZone {
  const hostKey = loadOrCreateHostKey(opts.hostKeyPath);
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const loginGraceMs = opts.loginGraceMs ?? 30_000;
  const defender = createDefender((opts.defender ?? {}) as Partial<DefenderConfig>, now, opts.banStore);
  const doorLimits = preauthLimits(opts.preauth);
  const slots = createPreauthSlots(doorLimits.maxConnectionsPerIp);
  const preauth = createPreauthAudit((e) => opts.audit(e), doorLimits, { onError: (err) => log.error({ err }, 'sftp: audit write failed') });
  const limits = { reorderWindowBytes: opts.reorderWindowBytes ?? 16 * 1024 * 1024, maxFileBytes: opts.maxFileBytes ?? 64 * 1024 ** 3 };
  const stagedSuffixes = (opts.stagedSuffixes ?? DEFAULT_STAGED_SUFFIXES).map((s) => s.toLowerCase());
  const conns = new Map<Socket, Conn>();
  const sessionEnds = new Set<Promise<void>>();
  let tcp: NetServer | null = null;
  let ssh: InstanceType<typeof ssh2.Server> | null = null;
  let closing = false;
  let hashPool: HashPool | null = null;

  function audit(e: Parameters<AuditFn>[0]): void {
    try {
      preauth.audit(e);
    } catch (err) {
      log.error({ err, action: e.action }, 'sftp: audit write failed');
    }
  }

  function hangUp(conn: Conn): void {
    // Before the SSH banner exchange there is no one to say goodbye to.
    if (!conn.client) return void conn.socket.destroy();
    try {
      conn.client.end();
    } catch {
      // already gone
    }
    // end() is polite; a client that ignores the disconnect is cut off shortly after.
    setTimeout(() => conn.socket.destroy(), 1000).unref();
  }

  function onSocket(socket: Socket): void {
    socket.on('error', (err) => log.debug({ err }, 'sftp: socket error'));
    if (closing) return void socket.destroy();
    socket.setNoDelay(true);
    const ip = normalizeIp(socket.remoteAddress);
    // The store's bans of this address (another process's, or from before a restart) are read
    // first; the socket's bytes wait in its buffer meanwhile.
    void defender
      .load(ip)
      .then(() => admit(socket, ip))
      .catch((err: unknown) => {
        log.error({ err, ip }, 'sftp: connection setup failed');
        socket.destroy();
      });
  }

  function admit(socket: Socket, ip: string): void {
    if (closing || socket.destroyed) return void socket.destroy();
    const ban = defender.banned('ip', ip);
    if (ban) {
      audit({ actor: 'sftp', action: 'sftp.refused', subject: `ip:${ip}`, details: { ip, reason: 'banned', until: new Date(ban.until).toISOString() } });
      socket.destroy();
      return;
    }
    const releaseSlot = slots.take(ip);
    if (!releaseSlot) {
      audit({ actor: 'sftp', action: 'sftp.refused', subject: `ip:${ip}`, details: { ip, reason: 'too-many-unauthenticated-connections', limit: doorLimits.maxConnectionsPerIp } });
      socket.destroy();
      return;
    }
    const conn: Conn = {
      releaseSlot,
      id: randomBytes(8).toString('hex'),
      ip,
      port: socket.remotePort ?? 0,
      socket,
      client: null,
      partner: null,
      sessions: [],
      inFlight: 0,
      openedAt: Date.now(),
      grace: setTimeout(() => {
        if (conn.partner) return;
        audit({ actor: 'sftp', action: 'sftp.login_timeout', subject: `ip:${ip}`, details: { ip, session: conn.id, graceMs: loginGraceMs } });
        hangUp(conn);
      }, loginGraceMs),
    };
    conns.set(socket, conn);
    socket.once('close', () => {
      clearTimeout(conn.grace);
      conn.releaseSlot();
      conns.delete(socket);
      for (const s of conn.sessions) void trackEnd(s.end('connection closed'));
      if (conn.client) {
        audit({
          actor: conn.partner ?? 'sftp',
          action: 'sftp.disconnect',
          subject: conn.partner ? `partner:${conn.partner}` : `ip:${ip}`,
          details: { ip, port: conn.port, session: conn.id, partner: conn.partner, durationMs: Date.now() - conn.openedAt },
        });
      }
    });
    ssh!.injectSocket(socket);
  }

  function trackEnd(p: Promise<void>): Promise<void> {
    sessionEnds.add(p);
    p.finally(() => sessionEnds.delete(p)).catch(() => undefined);
    return p;
  }

  function onSshConnection(client: Connection, info: ClientInfo): void {
    client.on('error', (err: Error) => log.debug({ err, ip: info.ip }, 'sftp: client error'));
    const sock = (client as unknown as { _sock?: Socket })._sock;
    const conn = sock ? conns.get(sock) : undefined;
    if (!conn) {
      client.end();
      return;
    }
    conn.client = client;
    conn.software = info.header?.versions?.software;
    audit({
      actor: 'sftp',
      action: 'sftp.connect',
      subject: `ip:${conn.ip}`,
      details: { ip: conn.ip, port: conn.port, session: conn.id, client: info.header?.identRaw },
    });

    let partnerRoot: string | null = null;
    const authenticate = createAuthenticator({
      partners: opts.partners,
      defender,
      audit,
      log,
      connection: { id: conn.id, ip: conn.ip, port: conn.port, software: conn.software },
      refuse: opts.refuseCredentials,
      onAuthenticated: (partnerId) => {
        if (!isValidPartnerId(partnerId)) throw new Error('invalid partner id');
        partnerRoot = ensurePartnerLayout(opts.dropDir, partnerId);
        conn.partner = partnerId;
        conn.releaseSlot();
        clearTimeout(conn.grace);
      },
      disconnect: (reason) => {
        log.info({ ip: conn.ip, reason }, 'sftp: dropping connection');
        hangUp(conn);
      },
    });
    client.on('authentication', (ctx: AuthContext) => {
      try {
        authenticate(ctx);
      } catch (err) {
        log.error({ err }, 'sftp: authentication handler failed');
        try {
          ctx.reject();
        } catch {
          // connection already gone
        }
      }
    });

    client.on('ready', () => {
      client.on('session', (accept) => {
        const session: Session = accept();
        session.on('error', (err: Error) => log.debug({ err, session: conn.id }, 'sftp: session error'));
        session.on('sftp', (acceptSftp) => {
          if (!conn.partner || !partnerRoot || closing) return;
          const sftp = acceptSftp();
          // ssh2 re-opens the SSH window as soon as data is parsed, whatever the disk does, so a
          // client that never waits for replies could queue unbounded writes. Stop reading its
          // socket while too much is in flight; TCP pushes back to the client.
          const flow = {
            add(n: number) {
              conn.inFlight += n;
              if (conn.inFlight > FLOW_PAUSE_BYTES && !conn.socket.isPaused()) conn.socket.pause();
            },
            done(n: number) {
              conn.inFlight -= n;
              if (conn.inFlight < FLOW_RESUME_BYTES && conn.socket.isPaused()) conn.socket.resume();
            },
          };
          conn.sessions.push(
            attachSftpSession(sftp, {
              partner: conn.partner,
              partnerRoot,
              session: conn.id,
              ip: conn.ip,
              audit,
              onUploaded: opts.onUploaded,
              onPartial: opts.onPartial,
              log,
              now,
              limits,
              stagedSuffixes,
              maxHandles: 64,
              hashSink: () => (hashPool ??= createHashPool({ useWorker: opts.hashInWorker })).sink(),
              hostId: opts.hostId,
              flow,
            }),
          );
        });
        // exec, shell, pty, port forwarding: ssh2 rejects requests nobody listens for.
      });
    });
  }

  return {
    hostKeyFingerprint: hostKey.fingerprint,

    connections: () => conns.size,

    listen() {
      if (tcp) return Promise.reject(new Error('drop zone already listening'));
      mkdirSync(opts.dropDir, { recursive: true, mode: 0o750 });
      ssh = new ssh2.Server(
        { hostKeys: [hostKey.privateKey], algorithms: modernAlgorithms(), ident: 'lotgate' },
        onSshConnection,
      );
      ssh.on('error', (err: Error) => log.error({ err }, 'sftp: server error'));
      const server = createServer({ noDelay: true }, onSocket);
      tcp = server;
      server.on('error', (err) => log.error({ err }, 'sftp: listener error'));
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port, opts.host, () => {
          server.off('error', reject);
          const addr = server.address();
          const port = typeof addr === 'object' && addr ? addr.port : opts.port;
          log.info({ host: opts.host, port, hostKey: hostKey.fingerprint }, 'sftp drop zone listening');
          resolve({ port });
        });
      });
    },

    async close() {
      closing = true;
      const server = tcp;
      const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      for (const conn of conns.values()) {
        for (const s of conn.sessions) void trackEnd(s.end('server shutting down'));
      }
      // Settle uploads first (partials to quarantine), then hang up.
      while (sessionEnds.size) await Promise.allSettled([...sessionEnds]);
      for (const conn of conns.values()) hangUp(conn);
      await Promise.race([
        Promise.all([...conns.keys()].map((s) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r()))))),
        new Promise<void>((r) => setTimeout(r, 2000).unref()),
      ]);
      for (const s of conns.keys()) s.destroy();
      // Sessions ended by the socket closes above.
      while (sessionEnds.size) await Promise.allSettled([...sessionEnds]);
      await closed;
      await hashPool?.close();
      hashPool = null;
      preauth.close();
      tcp = null;
      ssh = null;
    },
  };
}
