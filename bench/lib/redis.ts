// A private redis-server for scenarios that run `lotgate start`: its own free port, no
// persistence, stopped at the end. The shared 127.0.0.1:6379 is never touched.

import { TOOLS } from './tools.js';
import { freePort, waitForPort } from './net.js';
import { startBackground, type Background } from './proc.js';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const bg: Background = startBackground(TOOLS.redis.bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes']);
  try {
    await waitForPort(port, 10_000, () => bg.child.exitCode === null);
  } catch (e) {
    await bg.stop();
    throw new Error(`redis-server did not start: ${(e as Error).message}\n${bg.output().slice(-2000)}`);
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => bg.stop() };
}
