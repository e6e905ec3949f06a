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

export async function startLotgate(ws: Workspace, opts: { redisUrl: string; sftpPort: number; timeoutMs?: number; nodeFlags?: string[] }): Promise<RunningLotgate> {
  const bg: Background = startBackground(process.execPath, [...(opts.nodeFlags ?? []), LOTGATE_BIN, '--config', ws.configPath, 'start'], {
    cwd: REPO_ROOT,
    logFile: path.join(ws.dir, 'lotgate-start.log'),
    env: { ...process.env, REDIS_URL: opts.redisUrl, LOTGATE_SFTP_PORT: String(opts.sftpPort) },
  });
  try {
    await waitForPort(opts.sftpPort, opts.timeoutMs ?? 60_000, () => bg.child.exitCode === null);
  } catch (e) {
    await bg.stop();
    throw new Error(`lotgate start did not come up: ${(e as Error).message}\n${bg.output().slice(-3000)}`);
  }
  return {
    port: opts.sftpPort,
    logFile: path.join(ws.dir, 'lotgate-start.log'),
    pid: bg.child.pid!,
    output: bg.output,
    peakRssMb: () => {
      const kb = vmHwmKb(bg.child.pid);
      return kb === null ? null : kb / 1024;
    },
    stop: bg.stop,
  };
}
