// The PostgreSQL server of scenario 9: a database created for the run and dropped after, psql,
// and the CPU of a server backend from /proc (the server runs on this machine).
// LOTGATE_BENCH_PG_URL names the server (a superuser's URL; default the local trust login).

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { LOTGATE_BIN, REPO_ROOT } from './paths.js';
import { LIMS_HEADER } from '../gen/lims.js';
import { describeFailure, runChecked, runMeasured, type RunResult } from './proc.js';

export const PG_ADMIN_URL = process.env.LOTGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The admin URL with another database name. */
export function dbUrl(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** psql -X -q -v ON_ERROR_STOP=1 -At <url> -c <sql>: the output; throws on failure. */
export function psql(url: string, sql: string): Promise<string> {
  return runChecked('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', '-d', url, '-c', sql]);
}

/** CREATE DATABASE lotgate_bench_<random>; returns its name and URL. */
export async function createBenchDb(adminUrl = PG_ADMIN_URL): Promise<{ name: string; url: string }> {
  const name = `lotgate_bench_${randomBytes(5).toString('hex')}`;
  await psql(adminUrl, `CREATE DATABASE ${name}`);
  return { name, url: dbUrl(adminUrl, name) };
}

export async function dropBenchDb(name: string, adminUrl = PG_ADMIN_URL): Promise<void> {
  await psql(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat), null when unreadable. */
export function procCpuSeconds(pid: number): number | null {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** The same from the text of a /proc/<pid>/stat line. */
export function statCpuSeconds(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // After "(comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const f = stat.slice(close + 2).trim().split(' ');
  const t = Number(f[11]) + Number(f[12]);
  return Number.isFinite(t) ? t / 100 : null; // USER_HZ is 100 on Linux
}

/** CREATE DATABASE <name> TEMPLATE <template> (the template must have no connections). */
export async function createDbFromTemplate(template: string, adminUrl = PG_ADMIN_URL): Promise<{ name: string; url: string }> {
  const name = `lotgate_bench_${randomBytes(5).toString('hex')}`;
  await psql(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  return { name, url: dbUrl(adminUrl, name) };
}

/**
 * The CPU of every server process working for one database while a client runs: the backends of
 * all its connections (a pool, a judge thread, autovacuum), found in pg_stat_activity every
 * `everyMs` over one connection of the bench's own and read from /proc. Meant for a database
 * created for the run (no backend older than the sampling): each backend counts with its whole
 * CPU; what it spent between the last poll and its exit (at most `everyMs`) is missed, a slight
 * undercount.
 */
export async function sampleDatabaseCpu(database: string, everyMs = 100, adminUrl = PG_ADMIN_URL): Promise<{ stop(): Promise<{ seconds: number; backends: number }> }> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'lotgate-bench:cpu' });
  await client.connect();
  const last = new Map<number, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const r = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
        for (const { pid } of r.rows) {
          const s = procCpuSeconds(pid);
          if (s !== null) last.set(pid, s);
        }
      } catch {
        /* skip a poll */
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await client.end().catch(() => {});
      let seconds = 0;
      for (const s of last.values()) seconds += s;
      return { seconds, backends: last.size };
    },
  };
}

/** `lotgate store copy --from <sqlite> --to <url>`: a seeded SQLite store into an empty PostgreSQL database (untimed seeding). */
export async function copySqliteStore(configPath: string, from: string, to: string): Promise<void> {
  await runChecked(process.execPath, [LOTGATE_BIN, '--config', configPath, 'store', 'copy', '--from', from, '--to', to], { cwd: REPO_ROOT });
}

/** The reference of scenarios 9 and 10: a plain table of the LIMS file's columns, all TEXT. */
export const REF_TABLE = 'lims_ref';
export const REF_TABLE_DDL = `CREATE TABLE ${REF_TABLE} (${LIMS_HEADER.split(',').map((c) => `"${c}" TEXT`).join(', ')})`;

/**
 * The reference run: `\copy` of the file into REF_TABLE in one psql session, the backend's
 * /proc/<pid>/stat printed before and after it (two `\!` of cat, a few ms) for the server's CPU.
 */
export async function psqlCopyReference(url: string, file: string, rows: number): Promise<{ r: RunResult; server: number | null }> {
  await psql(url, `TRUNCATE ${REF_TABLE}`);
  await psql(url, 'CHECKPOINT');
  const script = [
    'SELECT pg_backend_pid() AS lg_pid \\gset',
    '\\setenv LG_PID :lg_pid',
    '\\! cat /proc/$LG_PID/stat',
    `\\copy ${REF_TABLE} FROM '${file.replace(/'/g, "''")}' CSV HEADER`,
    '\\! cat /proc/$LG_PID/stat',
    '',
  ].join('\n');
  const r = await runMeasured('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url], { input: script });
  if (r.code !== 0) throw describeFailure('psql \\copy', r);
  const stats = r.stdout.split('\n').filter((l) => /^\d+ \(/.test(l)).map(statCpuSeconds);
  const server = stats.length === 2 && stats[0] !== null && stats[1] !== null ? stats[1] - stats[0] : null;
  const count = Number((await psql(url, `SELECT count(*) FROM ${REF_TABLE}`)).trim());
  if (count !== rows) throw new Error(`psql \\copy loaded ${count} rows, expected ${rows}`);
  return { r, server };
}
