// config.yaml is validated as a whole against one JSON Schema before anything starts: unknown
// keys are errors at file:line:col with a did-you-mean, a bad cron expression stops `lotgate
// start` before the SFTP port opens, `lotgate config check [--json]` lists every problem, and the
// published config.schema.json is the schema the loader uses.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { FULL_CONFIG_CHECK } from '../../pipeline/cli/config-parts.js';
import { ConfigError, loadConfig } from '../../pipeline/config/config.js';
import { configSchemaFileText } from '../../pipeline/config/schema.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/lotgate.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function configFile(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-config-'));
  dirs.push(dir);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function issuesOf(text: string, full = false) {
  try {
    loadConfig({ configPath: configFile(text), env: {}, check: full ? FULL_CONFIG_CHECK : undefined });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

const TYPOS = `sftp:
  prot: 2222
intake:
  stableMS: 100
queue:
  worker: 3
publicUrl: http://localhost:8080
`;

describe('config.yaml validation', () => {
  it('reports every unknown key at its line:col with a did-you-mean', () => {
    const issues = issuesOf(TYPOS);
    expect(issues.map((i) => [i.code, i.path, i.line, i.col])).toEqual([
      ['E_CONFIG_UNKNOWN_KEY', 'sftp.prot', 2, 3],
      ['E_CONFIG_UNKNOWN_KEY', 'intake.stableMS', 4, 3],
      ['E_CONFIG_UNKNOWN_KEY', 'queue.worker', 6, 3],
    ]);
    expect(issues[0].message).toContain('did you mean "port"?');
    expect(issues[1].message).toContain('did you mean "stableMs"?');
    expect(issues[2].message).toContain('did you mean "workers"?');
  });

  it('the error message names file:line:col and the code', () => {
    const file = configFile(TYPOS);
    expect(() => loadConfig({ configPath: file, env: {} })).toThrow(/config\.yaml:2:3: error E_CONFIG_UNKNOWN_KEY: sftp\.prot: unknown key "prot"; did you mean "port"\?/);
  });

  it('checks types and ranges, and unknown top-level sections', () => {
    const issues = issuesOf('sftp: { port: 70000 }\nqueue: { workers: two }\nredis: { url: localhost:6379 }\nreadines: {}\n');
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['sftp.port', 1],
      ['queue.workers', 2],
      ['redis.url', 3],
      ['readines', 4],
    ]);
    expect(issues[3].message).toContain('did you mean "readiness"?');
  });

  it('reports readiness rule typos with their place', () => {
    const issues = issuesOf('readiness:\n  default:\n    minShelfLifeDay: 3\n');
    expect(issues).toEqual([expect.objectContaining({ code: 'E_CONFIG_UNKNOWN_KEY', path: 'readiness.default.minShelfLifeDay', line: 3, col: 5 })]);
    expect(issues[0].message).toContain("did you mean 'minShelfLifeDays'");
  });

  it('with the whole schema: job keys, cron expressions, time zones and connectors, each at its place', () => {
    const text = [
      'jobs:',
      '  timezone: Mars/Olympus',
      '  push: { schedule: "61 * * * *", batchSize: 10 }',
      '  pusher: {}',
      '  digest: { sendEmpti: true }',
      'connectors:',
      '  - { name: a, type: file, dir: x, format: csv, topics: ["erp.*"], colour: red }',
      'notifications: { channel: [] }',
      '',
    ].join('\n');
    const issues = issuesOf(text, true);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['jobs.timezone', 2],
      ['jobs.push.schedule', 3],
      ['jobs.pusher', 4],
      ['jobs.digest.sendEmpti', 5],
      ['connectors[0].colour', 7],
      ['notifications.channel', 8],
    ]);
    expect(issues.find((i) => i.path === 'jobs.push.schedule')).toMatchObject({ code: 'E_CONFIG_INVALID', col: 21, message: expect.stringContaining('not a valid cron expression "61 * * * *"') });
    expect(issues.find((i) => i.path === 'jobs.pusher')?.message).toContain('did you mean "push"?');
    expect(issues.find((i) => i.path === 'jobs.digest.sendEmpti')?.message).toContain('did you mean "sendEmpty"?');
    expect(issues.find((i) => i.path === 'notifications.channel')?.message).toContain('did you mean "channels"?');
  });

  it('accepts the repository config.yaml, the embedded defaults and an empty file', () => {
    expect(() => loadConfig({ configPath: path.join(root, 'config.yaml'), env: {}, check: FULL_CONFIG_CHECK })).not.toThrow();
    expect(issuesOf('', true)).toEqual([]);
    expect(issuesOf('# nothing but a comment\n', true)).toEqual([]);
  });

  it('YAML syntax errors and a missing file are coded and located', () => {
    expect(issuesOf('sftp:\n  port: [2222\n')).toEqual([expect.objectContaining({ code: 'E_CONFIG_SYNTAX', line: expect.any(Number) })]);
    expect(issuesOf('sftp: {}\nsftp: {}\n')).toEqual([expect.objectContaining({ code: 'E_DUPLICATE_KEY', line: 2 })]);
    expect(() => loadConfig({ configPath: '/nonexistent/config.yaml', env: {} })).toThrow(/E_CONFIG_NOT_FOUND/);
  });
});

describe('config.schema.json (the editor schema)', () => {
  const published = readFileSync(path.join(root, 'config.schema.json'), 'utf8');

  it('is the schema the loader uses (regenerate: npm run build && npx lotgate config schema > config.schema.json)', () => {
    expect(published).toBe(configSchemaFileText(FULL_CONFIG_CHECK));
  });

  it('accepts the repository config.yaml and underlines typos', () => {
    const validate = new Ajv({ allErrors: true, strict: false, discriminator: true }).compile(JSON.parse(published));
    expect(validate(parse(readFileSync(path.join(root, 'config.yaml'), 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(parse(TYPOS))).toBe(false);
    expect(validate.errors?.map((e) => e.params)).toEqual(expect.arrayContaining([{ additionalProperty: 'prot' }, { additionalProperty: 'stableMS' }, { additionalProperty: 'worker' }]));
  });
});

describe('lotgate config check / start', () => {
  function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '', LOTGATE_CONFIG: '', ...env } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  it('config check prints every problem as file:line:col and exits 1; --json gives them as data', () => {
    const file = configFile(TYPOS + 'jobs:\n  push: { schedule: "61 * * * *" }\n');
    const dir = path.dirname(file);
    const human = cli(['config', 'check'], dir);
    expect(human.code).toBe(1);
    expect(human.out).toContain('config.yaml:2:3: error E_CONFIG_UNKNOWN_KEY: sftp.prot: unknown key "prot"; did you mean "port"?');
    expect(human.out).toContain('config.yaml:9:21: error E_CONFIG_INVALID: jobs.push.schedule: not a valid cron expression');
    const json = cli(['config', 'check', '--json'], dir);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p: { path: string }) => p.path)).toEqual(['sftp.prot', 'intake.stableMS', 'queue.worker', 'jobs.push.schedule']);
  });

  it('config check passes the repository configuration and its partner files', () => {
    const r = cli(['config', 'check', '--json'], root);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, problems: [], partnerProblems: [] });
  });

  it('start refuses a bad cron expression before it opens the SFTP port or touches Redis', () => {
    const file = configFile('dataDir: ./data\njobs:\n  push: { schedule: "61 * * * *" }\n');
    const dir = path.dirname(file);
    // A Redis nobody listens on: the old order (Redis, SFTP, then the scheduler's check) fails there first.
    const r = cli(['start'], dir, { REDIS_URL: 'redis://127.0.0.1:1', LOTGATE_SFTP_PORT: '0' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('config.yaml:3:21: error E_CONFIG_INVALID: jobs.push.schedule: not a valid cron expression "61 * * * *"');
    expect(existsSync(path.join(dir, 'data'))).toBe(false);
  }, 60_000);
});
