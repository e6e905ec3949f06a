// A `lotgate start` child process with its own environment, its stderr kept for assertions.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const SERVER_CLI = fileURLToPath(new URL('./server-cli.mjs', import.meta.url));

export interface Child {
  proc: ChildProcess;
  stderr(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stderr contains `text`. */
  waitForStderr(text: string | RegExp, timeoutMs?: number): Promise<string>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, [SERVER_CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    stderr: () => err,
    stdout: () => out,
    exited,
    async waitForStderr(text, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      const hit = () => (typeof text === 'string' ? err.includes(text) : text.test(err));
      let done = false;
      void exited.then(() => (done = true));
      while (!hit()) {
        if (done) throw new Error(`lotgate exited before printing ${text}:\n${err}`);
        if (Date.now() > end) throw new Error(`lotgate did not print ${text} within ${timeoutMs} ms:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return err;
    },
  };
}
