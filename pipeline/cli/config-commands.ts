// `lotgate config check [--json]`: every problem of config.yaml (and the partner files it points
// to) at once, with file:line:col, before anything is started. `lotgate config schema`: the JSON
// Schema of config.yaml, as published in config.schema.json for editors.

import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/config.js';
import type { ConfigIssue } from '../config/check.js';
import { formatIssue } from '../config/check.js';
import { loadPartners, PartnerFileError } from '../config/partners.js';
import { configSchemaFileText } from '../config/schema.js';
import { FULL_CONFIG_CHECK } from './config-parts.js';
import { globalOptions, printJson } from './context.js';

export interface ConfigCheckReport {
  ok: boolean;
  /** The file checked, or null when no config.yaml exists (embedded defaults). */
  file: string | null;
  problems: ConfigIssue[];
  /** Problems of partners/*.yaml, `file:line:col: message` each. */
  partnerProblems: string[];
  partners: number;
}

export function checkConfiguration(opts: { configPath?: string; dataDir?: string; env?: NodeJS.ProcessEnv }): ConfigCheckReport {
  try {
    const config = loadConfig({ ...opts, check: FULL_CONFIG_CHECK });
    let partnerProblems: string[] = [];
    let partners = 0;
    try {
      partners = loadPartners(config.partnersDir).size;
    } catch (err) {
      if (!(err instanceof PartnerFileError)) throw err;
      partnerProblems = err.diagnostics;
    }
    return { ok: partnerProblems.length === 0, file: config.configPath, problems: [], partnerProblems, partners };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.issues.length ? err.issues : [{ code: 'E_CONFIG_INVALID' as const, path: '', file: 'config', line: 0, col: 0, message: err.message }];
    return { ok: false, file: problems[0]?.file ?? null, problems, partnerProblems: [], partners: 0 };
  }
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Check config.yaml, or print its JSON Schema.');
  config
    .command('check')
    .description('Validate config.yaml (every key, cron expressions, time zones, connectors, notifications) and the partner files; exit 1 on any problem.')
    .option('--json', 'print JSON: { ok, file, problems: [{ code, path, file, line, col, message }], partnerProblems, partners }')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const report = checkConfiguration({ configPath: g.config, dataDir: g.dataDir });
      if (opts.json) printJson(report);
      else {
        for (const p of report.problems) process.stdout.write(formatIssue(p) + '\n');
        for (const p of report.partnerProblems) process.stdout.write(p + '\n');
        if (report.ok) process.stdout.write(`${report.file ?? 'embedded defaults (no config.yaml)'}: ok; ${report.partners} partner file(s) ok\n`);
        else process.stdout.write(`${report.problems.length + report.partnerProblems.length} problem(s)\n`);
      }
      if (!report.ok) process.exitCode = 1;
    });
  config
    .command('schema')
    .description('Print the JSON Schema of config.yaml (the content of config.schema.json).')
    .action(() => {
      process.stdout.write(configSchemaFileText(FULL_CONFIG_CHECK));
    });
}
