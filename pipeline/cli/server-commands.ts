// `lotgate start` (the servers) and `lotgate status` (what they are doing, from the outside).

import type { Command } from 'commander';
import { JOBS } from '../../jobs/index.js';
import { apiRole } from '../api/role.js';
import { schedulerRole } from '../scheduler/role.js';
import { RedisUnavailableError } from '../runtime/redis.js';
import { BUILTIN_ROLES, startServer, type Role, type RoleModule } from '../runtime/server.js';
import { collectStatus, type StatusReport } from '../runtime/status.js';
import { FULL_CONFIG_CHECK } from './config-parts.js';
import { configFrom, printJson, UserError } from './context.js';
import { renderTable, type RenderOptions } from './render.js';

/**
 * Roles beyond the built-in ones, by name: the scheduler with the jobs of jobs/index.ts;
 * `lotgate start` without --role runs it too.
 */
export const EXTRA_ROLES: Record<string, RoleModule> = { scheduler: schedulerRole(JOBS), api: apiRole(JOBS) };

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

export function parseRoles(requested: string[], extra: Record<string, RoleModule> = EXTRA_ROLES): { roles: Role[]; modules: RoleModule[] } {
  const known = [...BUILTIN_ROLES, ...Object.keys(extra)];
  const wanted = requested.length ? [...new Set(requested.map((r) => r.toLowerCase()))] : known;
  const bad = wanted.filter((r) => !known.includes(r));
  if (bad.length) throw new UserError(`unknown role${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}: use ${known.join(', ')} (repeat --role for several)`, 2);
  return {
    roles: wanted.filter((r): r is Role => (BUILTIN_ROLES as readonly string[]).includes(r)),
    modules: wanted.filter((r) => r in extra).map((r) => extra[r]),
  };
}

export function waitForSignal(stop: (reason: string) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let signals = 0;
    const on = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`lotgate: ${sig} again — exiting now; unfinished jobs run again at the next start\n`);
        process.exit(130);
      }
      process.stderr.write(`\nlotgate: ${sig} — stopping: no new uploads, running jobs finish or are handed back (${sig} again to exit at once)\n`);
      void stop(sig).then(resolve, resolve);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function fmtBytes(n: number | undefined): string {
  if (n === undefined) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function renderStatus(s: StatusReport, opts: RenderOptions = {}): string {
  const r = s.redis;
  let out = r.reachable
    ? `Redis     reachable  ${r.url} (${r.source === 'env' ? 'REDIS_URL' : r.source === 'config' ? 'config' : 'private redis-server'}), v${r.version}, ${r.latencyMs} ms\n`
    : `Redis     UNREACHABLE${r.url ? `  ${r.url}` : ''}: ${r.error}\n`;
  const st = s.store;
  out +=
    'schemaVersion' in st && st.ok
      ? `Store     ok  ${st.path}  ${fmtBytes(st.sizeBytes)}${st.walBytes ? ` (+${fmtBytes(st.walBytes)} WAL)` : ''}, schema v${st.schemaVersion}, ${st.submissions} submissions, ${st.lots} lots, outbox ${st.outboxPending} pending / ${st.outboxDead} dead, ${st.auditEvents} audit events\n`
      : `Store     ${'error' in st && st.error ? `PROBLEM  ${st.path}: ${st.error}` : `PROBLEM  ${st.path}`}\n`;
  out += `Ledger    ${s.unfinished} submission(s) received and not finished\n`;
  if (s.queues.length) {
    out += `\nQueues (${s.queuePrefix}:ingest.<partner>)\n`;
    out += renderTable(
      ['PARTNER', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED'],
      s.queues.map((q) => [q.partner, String(q.waiting), String(q.active), String(q.delayed), String(q.failed)]),
    );
  }
  if (s.recent.length) {
    out += '\nLast submissions\n';
    out += renderTable(
      ['ID', 'PARTNER', 'FILE', 'STATE', 'ROWS', 'APPLIED', 'REJECTED', 'RECEIVED'],
      s.recent.map((x) => [String(x.id), x.partner, x.originalName, x.errorCode ? `${x.state} ${x.errorCode}` : x.state, String(x.rows), String(x.applied), String(x.rejected), x.receivedAt]),
      opts,
    );
  } else {
    out += '\nNo submissions yet.\n';
  }
  return out;
}

export function registerServerCommands(program: Command): void {
  program
    .command('start')
    .description('Run the servers: SFTP drop zone, intake (watcher + reconciler) and queue workers, until Ctrl-C.')
    .option('-r, --role <role>', `run only this role; repeat for several (${[...BUILTIN_ROLES, ...Object.keys(EXTRA_ROLES)].join(', ')}; default: all)`, collect)
    .addHelpText(
      'after',
      '\nEnvironment: REDIS_URL (else config redis.url, else a private redis-server), LOTGATE_SFTP_PORT, LOTGATE_HTTP_PORT, LOTGATE_DATA_DIR, LOTGATE_LOG_LEVEL.\n' +
        'Several processes may share one data dir and Redis, e.g. `lotgate start --role sftp --role intake` and `lotgate start --role worker`.',
    )
    .action(async (opts: { role?: string[] }, cmd: Command) => {
      // The whole configuration (jobs, connectors, notifications included) is checked before any port opens.
      const config = configFrom(cmd, FULL_CONFIG_CHECK);
      const { roles, modules } = parseRoles(opts.role ?? []);
      let server;
      try {
        server = await startServer({ config, roles, modules });
      } catch (err) {
        if (err instanceof RedisUnavailableError) throw new UserError(err.message, 69);
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') throw new UserError(`a port is already in use (${e.message}): stop the other server or set LOTGATE_SFTP_PORT / sftp.port, LOTGATE_HTTP_PORT / http.port`, 69);
        throw err;
      }
      // Handlers first: whoever reads the banner may signal at once (a signal without a handler kills the process).
      const stopped = waitForSignal(server.stop);
      process.stderr.write(server.banner.join('\n') + '\n');
      await stopped;
      // Everything is closed; a handle leaked by a library must not keep the process up.
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
    });

  program
    .command('status')
    .description('Queues per partner, the last submissions, Redis and store health (works while the servers run elsewhere).')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = configFrom(cmd);
      const report = await collectStatus(config);
      if (opts.json) printJson(report);
      else process.stdout.write(renderStatus(report, { timeZone: config.timezone }));
      if (!report.redis.reachable || !report.store.ok) process.exitCode = 1;
    });
}
