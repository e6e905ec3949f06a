// `node bin/lotgate.js --config <ws>/config.yaml start` as a child process with its own data
// dir, a private Redis (REDIS_URL) and a free SFTP port; ready once the SFTP port accepts.
// It logs at its default level (info), as in production; the log is kept in <ws>/lotgate-start.log.

import path from 'node:path';
import { LOTGATE_BIN, REPO_ROOT } from './paths.js';
import { waitForPort } from './net.js';
import { startBackground, vmHwmKb, type Background } from './proc.js';
import type { Workspace } from './workspace.js';

export interface RunningLotgate {
  port: number;
  /** Everything the server printed (kept with --keep). */
  logFile: string;
  pid: number;
  output(): string;
  /** Peak RSS of the lotgate process so far (VmHWM), MB. */
  peakRssMb(): number | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  redisUrl: string;
  sftpPort: number;
  timeoutMs?: number;
  nodeFlags?: string[];
  /** `--role` values (default: all roles, as `lotgate start`). Without sftp, ready once the banner is printed. */
  roles?: string[];
  /** More environment (LOTGATE_DATABASE_URL, LOTGATE_QUEUE_PREFIX, …). */
  env?: NodeJS.ProcessEnv;
  /** Log file name in the workspace (default lotgate-start.log). */
  logName?: string;
}

export async function startLotgate(ws: Workspace, opts: StartOptions): Promise<RunningLotgate> {
  const roles = opts.roles ?? [];
  const logFile = path.join(ws.dir, opts.logName ?? 'lotgate-start.log');
  const bg: Background = startBackground(process.execPath, [...(opts.nodeFlags ?? []), LOTGATE_BIN, '--config', ws.configPath, 'start', ...roles.flatMap((r) => ['--role', r])], {
    cwd: REPO_ROOT,
    logFile,
    env: { ...process.env, REDIS_URL: opts.redisUrl, LOTGATE_SFTP_PORT: String(opts.sftpPort), ...opts.env },
  });
  try {
    if (roles.length === 0 || roles.includes('sftp')) await waitForPort(opts.sftpPort, opts.timeoutMs ?? 60_000, () => bg.child.exitCode === null);
    else await waitForOutput(bg, /status\s+npx lotgate status/, opts.timeoutMs ?? 60_000);
  } catch (e) {
    await bg.stop();
    throw new Error(`lotgate start did not come up: ${(e as Error).message}\n${bg.output().slice(-3000)}`);
  }
  return {
    port: opts.sftpPort,
    logFile,
    pid: bg.child.pid!,
    output: bg.output,
    peakRssMb: () => {
      const kb = vmHwmKb(bg.child.pid);
      return kb === null ? null : kb / 1024;
    },
    stop: bg.stop,
  };
}

/** Waits until the process has printed `re` (its start-up banner), or fails when it exits or times out. */
async function waitForOutput(bg: Background, re: RegExp, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!re.test(bg.output())) {
    if (bg.child.exitCode !== null) throw new Error(`exited with code ${bg.child.exitCode}`);
    if (Date.now() > until) throw new Error(`no start-up banner after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
