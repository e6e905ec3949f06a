// Shared plumbing for CLI commands: global options → config → a Lotgate instance.

import type { Command } from 'commander';
import type { CheckOptions } from '../config/check.js';
import { ConfigError, loadConfig, type LotgateConfig } from '../config/config.js';
import { PartnerFileError } from '../config/partners.js';
import { createLotgate, type Lotgate } from '../lotgate.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * The configuration of the command's --config / --data-dir. `check` adds the sections other parts
 * own (see config-parts.ts); commands that start servers or jobs pass it.
 */
export function configFrom(cmd: Command, check?: CheckOptions): LotgateConfig {
  const g = globalOptions(cmd);
  return loadConfig({ configPath: g.config, dataDir: g.dataDir, check });
}

/** Runs `fn` with a Lotgate instance and closes it afterwards, whatever happens. */
export async function withLotgate<T>(cmd: Command, fn: (lg: Lotgate) => Promise<T> | T): Promise<T> {
  const lg = await createLotgate(configFrom(cmd));
  try {
    return await fn(lg);
  } finally {
    await lg.close();
  }
}

/** Turns known error types into one clear line and an exit code, instead of a stack trace. */
export function reportError(err: unknown): number {
  if (err instanceof ConfigError || err instanceof PartnerFileError) {
    process.stderr.write(`lotgate: ${err.message}\n`);
    return 2;
  }
  if (err instanceof UserError) {
    process.stderr.write(`lotgate: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`lotgate: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}

export class UserError extends Error {
  constructor(message: string, public readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}
