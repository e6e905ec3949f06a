// Runs the real command-line groups in this process (commander, the same action code as
// `lotgate …`) and captures what they print.

import { Command, CommanderError } from 'commander';
import { registerJobCommands } from '../../../pipeline/cli/job-commands.js';
import { registerOutboxCommands } from '../../../pipeline/cli/outbox-commands.js';
import { registerReadCommands } from '../../../pipeline/cli/read-commands.js';
import { registerSubmissionCommands } from '../../../pipeline/cli/submission-commands.js';
import { reportError } from '../../../pipeline/cli/context.js';

export interface CliResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export async function cli(configPath: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const program = new Command('lotgate').option('-c, --config <file>').option('-d, --data-dir <dir>').exitOverride();
  registerReadCommands(program);
  registerSubmissionCommands(program);
  registerJobCommands(program);
  registerOutboxCommands(program);
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const saved = { exitCode: process.exitCode, env: { ...process.env } };
  process.exitCode = 0;
  Object.assign(process.env, env, { LOTGATE_LOG_LEVEL: 'silent' });
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'lotgate', '-c', configPath, ...args]);
    exitCode = Number(process.exitCode ?? 0);
  } catch (e) {
    exitCode = e instanceof CommanderError ? e.exitCode : reportError(e);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = saved.exitCode;
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
  return { stdout, stderr, exitCode };
}
