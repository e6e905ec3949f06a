// Servers the chaos run starts and kills on purpose: lotgate start and redis-server. Built on the
// bench's startBackground (output kept in a log file); adds killing with a chosen signal and
// waiting for the exit with a bound. Each one is registered for cleanup while it runs.

import path from 'node:path';
import { LOTGATE_BIN, REPO_ROOT } from '../../bench/lib/paths.js';
import { waitForPort } from '../../bench/lib/net.js';
import { startBackground, type Background } from '../../bench/lib/proc.js';
import { TOOLS } from '../../bench/lib/tools.js';
import { onCleanup } from './cleanup.js';

export interface Managed {
  pid: number;
  /** True until the process has exited. */
  alive(): boolean;
  /** Exit code or signal once exited. */
  exitStatus(): string | null;
  output(): string;
  /** Sends `signal`; resolves with the ms it took to exit, or null if it was still running after `timeoutMs`. */
  signal(signal: NodeJS.Signals, timeoutMs: number): Promise<number | null>;
}

function manage(bg: Background, what: string): Managed {
  const exited = new Promise<void>((resolve) => {
    if (bg.child.exitCode !== null || bg.child.signalCode !== null) resolve();
    bg.child.once('exit', () => resolve());
  });
  const alive = () => bg.child.exitCode === null && bg.child.signalCode === null;
  const unregister = onCleanup(`${what} (pid ${bg.child.pid})`, async () => {
    if (!alive()) return;
    bg.child.kill('SIGKILL');
    await exited;
  });
  void exited.then(unregister);
  return {
    pid: bg.child.pid!,
    alive,
    exitStatus: () => (alive() ? null : bg.child.signalCode ?? `exit ${bg.child.exitCode}`),
    output: bg.output,
    signal: async (signal, timeoutMs) => {
      if (!alive()) return 0;
      const t0 = Date.now();
      bg.child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
      clearTimeout(timer);
      return timedOut ? null : Date.now() - t0;
    },
  };
}

/** A redis-server without persistence on a given loopback port (the same port after a restart). */
export async function startRedisOn(port: number, logFile: string): Promise<Managed> {
  const bg = startBackground(TOOLS.redis.bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { logFile });
  const m = manage(bg, 'redis-server');
  try {
    await waitForPort(port, 10_000, m.alive);
  } catch (e) {
    await m.signal('SIGKILL', 5_000);
    throw new Error(`redis-server did not start on port ${port}: ${(e as Error).message}\n${bg.output().slice(-1500)}`);
  }
  return m;
}

/** `node bin/lotgate.js --config <config> start`, ready once its SFTP port accepts connections. */
export async function startLotgate(opts: { configPath: string; logDir: string; redisUrl: string; sftpPort: number; timeoutMs?: number }): Promise<Managed> {
  const bg = startBackground(process.execPath, [LOTGATE_BIN, '--config', opts.configPath, 'start'], {
    cwd: REPO_ROOT,
    logFile: path.join(opts.logDir, 'lotgate-start.log'),
    env: { ...process.env, REDIS_URL: opts.redisUrl, LOTGATE_SFTP_PORT: String(opts.sftpPort) },
  });
  const m = manage(bg, 'lotgate start');
  try {
    await waitForPort(opts.sftpPort, opts.timeoutMs ?? 60_000, m.alive);
  } catch (e) {
    await m.signal('SIGKILL', 5_000);
    throw new Error(`lotgate start did not come up: ${(e as Error).message}\n${bg.output().slice(-3000)}`);
  }
  return m;
}
