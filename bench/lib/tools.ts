// The reference programs come from Debian's archive. Missing ones are installed with apt-get
// (the bench says so in its output and in results.json), never from anywhere else.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Tool {
  /** Absolute path or a name looked up on PATH. */
  bin: string;
  /** Debian package providing it. */
  pkg: string;
}

export const TOOLS = {
  sqlite3: { bin: 'sqlite3', pkg: 'sqlite3' },
  time: { bin: '/usr/bin/time', pkg: 'time' },
  sshd: { bin: '/usr/sbin/sshd', pkg: 'openssh-server' },
  sftp: { bin: 'sftp', pkg: 'openssh-client' },
  sshKeygen: { bin: 'ssh-keygen', pkg: 'openssh-client' },
  redis: { bin: 'redis-server', pkg: 'redis-server' },
  /** Scenario 9's reference; the PostgreSQL server itself is not installed by the bench (LOTGATE_BENCH_PG_URL). */
  psql: { bin: 'psql', pkg: 'postgresql-client' },
} satisfies Record<string, Tool>;

export function which(bin: string): string | null {
  if (bin.startsWith('/')) return existsSync(bin) ? bin : null;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = `${dir}/${bin}`;
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/**
 * Makes sure every tool is present, installing the missing packages with `apt-get install -y`.
 * Returns one note per package installed; throws when a tool is still missing afterwards.
 */
export function ensureTools(tools: readonly Tool[], log: (line: string) => void): string[] {
  const missing = tools.filter((t) => which(t.bin) === null);
  if (missing.length === 0) return [];
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  log(`installing from Debian: ${pkgs.join(', ')} (apt-get install -y)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  if (r.status !== 0) {
    // A fresh container has no package lists yet.
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  }
  const still = tools.filter((t) => which(t.bin) === null);
  if (still.length > 0) throw new Error(`could not install ${still.map((t) => `${t.bin} (${t.pkg})`).join(', ')}; install them and run again`);
  return pkgs.map((p) => `installed ${p} from Debian (apt-get install -y)`);
}
