// Running the measured programs as child processes: wall time, exit status, peak RSS.
// Peak RSS comes from GNU time (`/usr/bin/time -f %M`, the kernel's ru_maxrss of the child),
// or, when it is absent, from polling /proc/<pid>/status VmHWM (the same high-water mark).

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then stdin is closed. */
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  /** Peak resident set size of the child in MB, null when it could not be measured. */
  peakRssMb: number | null;
  /** CPU seconds of the child (user + system, all its threads), null without GNU time. */
  cpuSeconds: number | null;
  stdout: string;
  stderr: string;
}

const KEEP = 256 * 1024;

function tail(buf: string, chunk: Buffer): string {
  const s = buf + chunk.toString('utf8');
  return s.length > KEEP ? s.slice(s.length - KEEP) : s;
}

let seq = 0;

/** Runs `cmd args` to completion and measures it. Never throws for a non-zero exit. */
export async function runMeasured(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const useTime = existsSync(GNU_TIME);
  const rssFile = path.join(tmpdir(), `lotgate-bench-rss-${process.pid}-${++seq}`);
  const argv = useTime ? ['-f', '%M %U %S', '-o', rssFile, cmd, ...args] : args;
  const started = performance.now();
  const child = spawn(useTime ? GNU_TIME : cmd, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout = tail(stdout, c)));
  child.stderr!.on('data', (c: Buffer) => (stderr = tail(stderr, c)));
  // A child that exits without reading its stdin must not crash the bench with EPIPE.
  child.stdin!.on('error', () => {});
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();

  let polledKb = 0;
  const poller = useTime ? null : setInterval(() => (polledKb = Math.max(polledKb, vmHwmKb(child.pid) ?? 0)), 50);
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const seconds = (performance.now() - started) / 1000;
  if (poller) clearInterval(poller);
  if (timer) clearTimeout(timer);

  let peakKb: number | null = polledKb || null;
  let cpuSeconds: number | null = null;
  if (useTime) {
    peakKb = null;
    if (existsSync(rssFile)) {
      // On a non-zero exit GNU time writes "Command exited with non-zero status N" first.
      const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
      const [kb, user, sys] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
      if (Number.isFinite(kb)) peakKb = kb;
      if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user + sys;
      rmSync(rssFile, { force: true });
    }
  }
  return { code, signal, seconds, peakRssMb: peakKb === null ? null : peakKb / 1024, cpuSeconds, stdout, stderr };
}

export function vmHwmKb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function describeFailure(what: string, r: RunResult): Error {
  const out = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-15).join('\n');
  return new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${out}`);
}

/** A long-running helper process (redis-server, sshd, lotgate start) the bench stops itself. */
export interface Background {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startBackground(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string } = {}): Background {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // The whole output goes to logFile (for post-mortems); the last 256 KB stay in memory.
  const file = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
  child.stdout!.on('data', (c: Buffer) => {
    out = tail(out, c);
    file?.write(c);
  });
  child.stderr!.on('data', (c: Buffer) => {
    out = tail(out, c);
    file?.write(c);
  });
  child.on('close', () => file?.end());
  child.on('error', (e) => (out += `\n[spawn error] ${e.message}`));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a command to completion without measuring; throws on failure. */
export async function runChecked(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout = tail(stdout, c)));
  child.stderr!.on('data', (c: Buffer) => (stderr = tail(stderr, c)));
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.input ?? '');
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${(stderr || stdout).trim().split('\n').slice(-15).join('\n')}`);
  return stdout;
}
