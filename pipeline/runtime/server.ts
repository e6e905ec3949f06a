// `lotgate start`: assembles the roles of one process — the SFTP drop zone, intake (watcher +
// reconciler) and the queue workers — around one Redis and one data dir, and takes them down in
// the reverse order. Any subset of roles can run per process; processes sharing a data dir and a
// Redis cooperate (a drop zone here, intake and workers there).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { takeFile, takePartial, type IntakeDeps, type TakeRequest, type TakeResult } from '../intake/intake.js';
import { directLedger, type LedgerWriter } from '../intake/ledger-writer.js';
import { localHostId } from '../intake/host-id.js';
import { partnerDirs } from '../intake/names.js';
import { createReconciler, type ReconcileOptions, type Reconciler } from '../intake/reconciler.js';
import { recoverDirtyLots } from '../readiness/recompute.js';
import { startWatcher, type InboundWatcher } from '../intake/watcher.js';
import { createLogger, createLotgate, type Lotgate } from '../lotgate.js';
import { IngestQueues } from '../queue/ingest-queues.js';
import { IngestWorkers } from '../queue/ingest-workers.js';
import { queueSettings, type QueueSettings } from '../queue/settings.js';
import type { LotgateTask, TaskResult, TaskThreadData } from '../queue/tasks.js';
import { resolveThreadEntry, ThreadPool } from '../queue/thread-pool.js';
import { createDropZone, type DropZone } from '../sftp/drop-zone.js';
import { anchorAuditHead } from '../audit/anchors.js';
import { demoCredentials, demoCredentialsMessage, findDemoCredentials, PUBLISHED_DEMO_PASSWORDS } from '../sftp/demo-credentials.js';
import { ConfigError } from '../config/config.js';
import { redactUrl, resolveRedis, type RedisHandle } from './redis.js';

export type Role = 'sftp' | 'intake' | 'worker';
export const BUILTIN_ROLES: readonly Role[] = ['sftp', 'intake', 'worker'];

/** What a role added by another part (the scheduler of the jobs issue) gets to work with. */
export interface ServerContext {
  config: LotgateConfig;
  /** Main-thread Lotgate: reads, partners, mappings. Write through `ledger` to keep this thread free. */
  lg: Lotgate;
  log: Logger;
  redis: RedisHandle;
  queues: IngestQueues;
  ledger: LedgerWriter;
  settings: QueueSettings;
  /** The server being assembled: its roles, and the drop zone's address once it listens. */
  server?: RunningServer;
}

/**
 * Hook for roles beyond the built-in three (e.g. `scheduler`): started after them, stopped
 * before them. Register it in pipeline/cli/server-commands.ts's role table.
 */
export interface RoleModule {
  name: string;
  start(ctx: ServerContext): Promise<{ stop(): Promise<void>; banner?: string[] }>;
}

export interface ServerOptions {
  config: LotgateConfig;
  roles: readonly Role[];
  modules?: readonly RoleModule[];
  log?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Overrides config.sftp.port (0 = any free port). */
  sftpPort?: number;
  reconcile?: ReconcileOptions;
  /** Ledger writes of this process on a writer thread (default) or inline (tests without dist/). */
  ledgerThread?: boolean;
  /** stop() resolves after this long even if a part has not stopped (default shutdown grace + 15 s). */
  stopDeadlineMs?: number;
}

export interface RunningServer {
  roles: readonly string[];
  config: LotgateConfig;
  redis: RedisHandle;
  settings: QueueSettings;
  sftp?: { host: string; port: number; hostKeyFingerprint: string };
  /** Set by the api role once the HTTP API listens. */
  http?: { url: string };
  partners: string[];
  /** Partners that can log in to the drop zone (have keys or a password). */
  sftpPartners: string[];
  queues: IngestQueues;
  workers?: IngestWorkers;
  reconciler?: Reconciler;
  /** The intake entry point of this process (when the intake role runs here). */
  take?: (req: TakeRequest) => Promise<TakeResult>;
  banner: string[];
  stop(reason?: string): Promise<void>;
}

function logLevelOf(log: Logger): string {
  return typeof log.level === 'string' ? log.level : 'info';
}

function poolLedger(pool: ThreadPool<LotgateTask, TaskResult>): LedgerWriter {
  return {
    register: async (file) => ((await pool.run({ kind: 'register', file })) as { submissionId: number }).submissionId,
    quarantine: async (submissionId, code, message) => {
      await pool.run({ kind: 'quarantine', submissionId, code, message });
    },
    audit: async (event) => {
      await pool.run({ kind: 'audit', event });
    },
    ban: async (ban) => {
      await pool.run({ kind: 'ban', ban });
    },
    acks: async (minAgeMs) => (await pool.run({ kind: 'acks', minAgeMs })) as { written: number; failed: number },
  };
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { config } = opts;
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger();
  const roles = [...new Set(opts.roles)];
  const has = (r: Role) => roles.includes(r);
  const settings = queueSettings(config, env);
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.catch(() => {}).finally(() => pending.delete(p));
    return p;
  };
  let stopping: Promise<void> | null = null;
  /** Set by the worker role: stops taking jobs at once and starts the grace period. */
  let stopTakingJobs: (() => Promise<void>) | null = null;

  const stop = (reason = 'shutdown'): Promise<void> => {
    stopping ??= (async () => {
      log.info({ reason, graceMs: settings.shutdownGraceMs }, 'lotgate is stopping');
      // First, before any other role is taken down (an SFTP session or an intake waiting for the
      // write lock may take long to end): no new job, and the grace of the running ones starts
      // now. When it is over, running files are rolled back and handed back to their queues.
      void stopTakingJobs?.().catch((err) => log.error({ err }, 'error while stopping the queue workers'));
      // The process exits even if a part hangs (a client that never lets go, a stuck disk): a
      // part still busy at the deadline is left behind (whatever it was running is rolled back
      // by SQLite and runs again at the next start) and the parts after it still get a moment.
      const deadline = Date.now() + (opts.stopDeadlineMs ?? settings.shutdownGraceMs + 15_000);
      for (const c of [...closers].reverse()) {
        const budget = Math.max(1000, deadline - Date.now());
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((r) => {
          timer = setTimeout(() => r('late'), budget);
          timer.unref();
        });
        try {
          const outcome = await Promise.race([c.close().then(() => 'closed' as const), late]);
          if (outcome === 'late') log.error({ part: c.name, waitedMs: budget }, 'part did not stop in time; going on without it');
        } catch (err) {
          log.error({ err, part: c.name }, 'error while stopping');
        } finally {
          clearTimeout(timer);
        }
      }
      log.info('lotgate stopped');
    })();
    return stopping;
  };

  try {
    const lg = await createLotgate(config, { log });
    closers.push({ name: 'store', close: () => lg.close() });
    // Stopped after every role that writes: the last head this process leaves is anchored.
    closers.push({ name: 'audit anchor', close: async () => {
      const r = await anchorAuditHead(lg, 'shutdown');
      log.info({ seq: r.head.seq, hash: r.head.hash, file: r.file, written: r.written }, 'audit head anchored');
    } });
    // Fail fast on broken partner files, with their file:line messages.
    const partnerMap = lg.partners();
    const partnerIds = [...partnerMap.keys()].sort();
    const sftpPartners = partnerIds.filter((p) => partnerMap.get(p)?.sftp?.publicKeys?.length || partnerMap.get(p)?.sftp?.passwordHash);
    // Published demo keys or password: only on purpose (demo mode), never by accident.
    const demoUses = has('sftp') ? await findDemoCredentials(partnerMap, demoCredentials(), config.partnersDir) : [];
    if (demoUses.length && !config.demo) throw new ConfigError(demoCredentialsMessage(demoUses, config.configPath));

    const redis = await resolveRedis(config, log, { env });
    closers.push({ name: 'redis-server', close: () => redis.stop() });

    // Producer commands fail within seconds while Redis is away (intake logs it and the
    // reconciler catches up) instead of hanging an upload callback.
    const producer = new Redis(redis.url, { maxRetriesPerRequest: 2, retryStrategy: (n) => Math.min(2000, 100 * n) });
    producer.on('error', () => {});
    closers.push({ name: 'redis connection', close: () => producer.quit().catch(() => producer.disconnect()) });
    const queues = new IngestQueues(producer, settings, log);
    closers.push({ name: 'queues', close: () => queues.close() });

    let ledger: LedgerWriter;
    if (opts.ledgerThread === false) {
      ledger = directLedger(lg);
    } else {
      const data: TaskThreadData = { config, pool: 'ledger', logLevel: logLevelOf(log) };
      const writer = new ThreadPool<LotgateTask, TaskResult>({ name: 'ledger', size: 1, entry: resolveThreadEntry('task-thread'), workerData: data, log });
      // Stopped after every role that writes through it (roles register their closers later).
      closers.push({ name: 'ledger writer', close: async () => {
        await Promise.allSettled([...pending]);
        await writer.close(settings.shutdownGraceMs);
      } });
      ledger = poolLedger(writer);
    }

    const intakeDeps: IntakeDeps = {
      config,
      partners: lg.partners,
      now: lg.now,
      log,
      ledger,
      enqueue: (partner, id) => queues.enqueue(partner, id),
      noticed: new Set(),
      staging: new Set(),
    };
    const ctx: ServerContext = { config, lg, log, redis, queues, ledger, settings };
    const server: RunningServer = { roles: [...roles, ...(opts.modules ?? []).map((m) => m.name)], config, redis, settings, partners: partnerIds, sftpPartners, queues, banner: [], stop };
    ctx.server = server;

    if (has('worker')) {
      const conn = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(5000, 200 * n) });
      conn.on('error', () => {});
      closers.push({ name: 'worker redis connection', close: () => conn.quit().catch(() => conn.disconnect()) });
      const data: TaskThreadData = { config, pool: 'ingest', logLevel: logLevelOf(log) };
      const pool = new ThreadPool<LotgateTask, TaskResult>({ name: 'ingest', size: settings.workers, entry: resolveThreadEntry('task-thread'), workerData: data, log });
      const workers = new IngestWorkers({
        connection: conn,
        settings,
        pool,
        log,
        partnerIds: async () => {
          const configured = [...lg.partners().keys()];
          const inRedis = await queues.knownPartners().catch(() => [] as string[]);
          return [...new Set([...configured, ...inRedis])];
        },
      });
      closers.push({ name: 'worker pool', close: () => pool.close(0) });
      const closeWorkers = () => workers.close(settings.shutdownGraceMs, () => pool.abortRunning());
      stopTakingJobs = closeWorkers;
      closers.push({ name: 'queue workers', close: closeWorkers });
      await workers.start();
      server.workers = workers;
    }

    if (has('intake')) {
      for (const p of partnerIds) {
        const d = partnerDirs(config.dropDir, p);
        mkdirSync(d.inbound, { recursive: true });
        mkdirSync(d.outbound, { recursive: true });
      }
      const reconciler = createReconciler(
        {
          ...intakeDeps,
          store: lg.store,
          requeue: (partner, id) => queues.ensureQueued(partner, id),
          jobState: (partner, id) => queues.jobState(partner, id),
          recomputeDirty: (olderThanMs) => recoverDirtyLots(lg, lg.now(), olderThanMs),
        },
        opts.reconcile,
      );
      const take = (req: TakeRequest) => track(takeFile(intakeDeps, req));
      const watcher: InboundWatcher = startWatcher({
        dropDir: config.dropDir,
        stableMs: config.intake.stableMs,
        log,
        onFile: (f) => take({ ...f, source: 'watch' }),
      });
      closers.push({ name: 'reconciler', close: () => reconciler.stop() });
      closers.push({ name: 'watcher', close: () => watcher.close() });
      await watcher.ready;
      // Redis coming back (restarted, failed over, flushed) → queue what the ledger still owes.
      let redisWasDown = false;
      producer.on('close', () => {
        redisWasDown = true;
      });
      producer.on('ready', () => {
        if (!redisWasDown) return;
        redisWasDown = false;
        log.info('Redis is reachable again; reconciling');
        void reconciler.scan().catch(() => {});
      });
      reconciler.start();
      server.reconciler = reconciler;
      server.take = take;
    }

    if (has('sftp')) {
      const port = opts.sftpPort ?? config.sftp.port;
      const intakeHere = has('intake');
      const zone: DropZone = createDropZone({
        dropDir: config.dropDir,
        host: config.sftp.host,
        port,
        hostKeyPath: path.join(config.dataDir, 'ssh_host_ed25519_key'),
        hostId: localHostId(config.dataDir),
        partners: lg.partners,
        audit: (e) => {
          void track(ledger.audit(e)).catch((err) => log.error({ err, action: e.action }, 'audit event could not be written'));
        },
        onUploaded: (u) => {
          // With intake in this process the file is taken at once; otherwise the watcher of the
          // intake process (or its reconcile scan) finds it in inbound/.
          if (!intakeHere || !server.take) return;
          void server
            .take({ partner: u.partner, path: u.path, sha256: u.sha256, size: u.size, receivedAt: u.receivedAt, source: 'sftp' })
            .catch((err) => log.error({ err, partner: u.partner, file: u.name }, 'intake of an uploaded file failed; the reconcile scan will retry it'));
        },
        onPartial: (p) => {
          void track(takePartial(intakeDeps, { partner: p.partner, name: p.name, path: p.path, size: p.size, sha256: p.sha256, receivedAt: p.receivedAt })).catch((err) =>
            log.error({ err, partner: p.partner, file: p.name, path: p.path }, 'a partial upload could not be quarantined; its bytes stay in .quarantine/'),
          );
        },
        log,
        // Bans are read from the store (WAL: reads never wait for a writer) and written on the
        // writer thread, so a long file transaction never stalls a login.
        banStore: {
          get: (kind, key) => lg.store.pulls.getBan(kind, key),
          save: (b) => {
            void track(ledger.ban({ kind: b.kind, key: b.key, until: b.until, strike: b.strike, bannedAt: b.bannedAt })).catch((err) => log.error({ err, ban: b }, 'sftp: a ban could not be stored; it holds in this process only'));
          },
        },
        // Partner files are re-read at every login: one added later with a demo key is refused too.
        refuseCredentials: config.demo ? undefined : { fingerprints: new Set(demoCredentials().keys.keys()), passwords: PUBLISHED_DEMO_PASSWORDS },
        preauth: { maxConnectionsPerIp: config.sftp.preauth.maxConnectionsPerIp, auditEventsPerIp: config.sftp.preauth.auditEventsPerIp, auditWindowMs: config.sftp.preauth.auditWindowSeconds * 1000 },
        loginGraceMs: config.sftp.loginGraceSeconds * 1000,
        defender: { maxFailures: config.sftp.defender.maxFailures, windowMs: config.sftp.defender.windowSeconds * 1000, banMs: config.sftp.defender.banSeconds * 1000 },
      });
      const { port: bound } = await zone.listen();
      // First to stop: no new uploads, open ones become partials while intake still runs.
      closers.push({ name: 'sftp drop zone', close: async () => {
        await zone.close();
        await Promise.allSettled([...pending]);
      } });
      server.sftp = { host: config.sftp.host, port: bound, hostKeyFingerprint: zone.hostKeyFingerprint };
    }

    for (const m of opts.modules ?? []) {
      const started = await m.start(ctx);
      closers.push({ name: m.name, close: () => started.stop() });
      server.banner.push(...(started.banner ?? []));
    }

    server.banner.unshift(...bannerLines(server));
    if (demoUses.length) {
      const who = [...new Set(demoUses.map((u) => u.partner))].join(', ');
      server.banner.push(`  DEMO MODE  ${who} log in with the published demo credentials (fixtures/keys): never expose this drop zone`);
    }
    return server;
  } catch (err) {
    await stop('start-up failed');
    throw err;
  }
}

function bannerLines(s: RunningServer): string[] {
  const lines = [`lotgate ${s.roles.join(' + ')} — data ${s.config.dataDir}`];
  const r = s.redis;
  lines.push(`  redis      ${redactUrl(r.url)} (${r.source === 'env' ? 'REDIS_URL' : r.source === 'config' ? 'config.yaml' : 'private redis-server, data in ' + path.join(s.config.dataDir, 'redis')}; v${r.version})`);
  lines.push(`  drop zone  ${s.config.dropDir}`);
  lines.push(`  partners   ${s.partners.length ? s.partners.join(', ') : `(none: add partners/<id>.yaml in ${s.config.partnersDir})`}`);
  if (s.sftp) {
    lines.push(`  sftp       ${s.sftp.host}:${s.sftp.port}  host key ${s.sftp.hostKeyFingerprint}`);
    const example = s.sftpPartners[0] ?? s.partners[0] ?? '<partner>';
    lines.push(`  upload     sftp -P ${s.sftp.port} -i fixtures/keys/${example} ${example}@${s.sftp.host === '0.0.0.0' ? 'localhost' : s.sftp.host}   then: put file.csv inbound/`);
  }
  if (s.workers) lines.push(`  workers    ${s.settings.workers} thread(s), ${s.settings.perPartnerConcurrency} job(s) at a time per partner, queues "${s.settings.prefix}:ingest.<partner>"`);
  if (s.reconciler) lines.push(`  intake     watching ${s.config.dropDir}/*/inbound, reconcile every ${s.config.intake.reconcileSeconds}s`);
  lines.push('  status     npx lotgate status  stop: Ctrl-C');
  return lines;
}
