// A real second lotgate process: the command line run from the TypeScript sources in a child
// `node` (test/scheduler/helpers/ts-register.mjs), so tests can kill it mid-job.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './world.js';

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnLotgate(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs'), path.join(ROOT, 'pipeline/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // Never outlive the test worker.
  const onExit = () => proc.kill('SIGKILL');
  process.once('exit', onExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      process.off('exit', onExit);
      resolve({ code, signal });
    }),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}
