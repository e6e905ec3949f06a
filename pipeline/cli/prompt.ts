// Secrets typed at a terminal (no echo), or read as lines from piped stdin (scripts, tests).

import { createInterface } from 'node:readline';

/** One line per prompt, in order. */
export async function readLines(prompts: string[]): Promise<string[]> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  const it = rl[Symbol.asyncIterator]();
  const out: string[] = [];
  for (const p of prompts) {
    if (process.stdin.isTTY) {
      process.stderr.write(p);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    }
    const n = await it.next();
    out.push(n.done ? '' : String(n.value));
    if (process.stdin.isTTY) process.stderr.write('\n');
  }
  rl.close();
  return out;
}
