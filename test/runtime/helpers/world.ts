// A complete, minimal lotgate installation in a temp dir: config.yaml, an ERP partner that
// creates lots, two labs that send test results, their mappings, and generators for their files.

import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type LotgateConfig } from '../../../pipeline/config/config.js';

export const MATERIAL = '000000000010012345';

export interface WorldOptions {
  queue?: { attempts?: number; backoffMs?: number; workers?: number; perPartnerConcurrency?: number };
  intake?: { reconcileSeconds?: number; stableMs?: number };
  /** Lab partner ids (default lab-a, lab-b). */
  labs?: string[];
  /** OpenSSH public key line per partner, for SFTP logins. */
  sftpKeys?: Record<string, string>;
}

export interface World {
  dir: string;
  configPath: string;
  dataDir: string;
  dropDir: string;
  config: LotgateConfig;
  inbound(partner: string): string;
  outbound(partner: string): string;
  /** Puts a file into a partner's inbound/ whole (written under a dot name, then renamed), as an SFTP client's rename does; returns its path. */
  drop(partner: string, name: string, content: string): string;
  /** Environment for a child `lotgate` process of this world. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  cleanup(): void;
}

export function makeWorld(opts: WorldOptions = {}): World {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-world-'));
  const labs = opts.labs ?? ['lab-a', 'lab-b'];
  const q = { attempts: 3, backoffMs: 200, workers: 2, perPartnerConcurrency: 1, ...opts.queue };
  const intake = { reconcileSeconds: 1, stableMs: 300, ...opts.intake };
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    [
      'dataDir: ./data',
      'partnersDir: ./partners',
      'mappingsDir: ./mappings',
      'sftp: { host: 127.0.0.1, port: 0 }',
      'redis: { url: "redis://127.0.0.1:1" }',
      `intake: { reconcileSeconds: ${intake.reconcileSeconds}, stableMs: ${intake.stableMs}, ackCsv: false }`,
      `queue: { attempts: ${q.attempts}, backoffMs: ${q.backoffMs}, perPartnerConcurrency: ${q.perPartnerConcurrency}, workers: ${q.workers} }`,
      '',
    ].join('\n'),
  );
  mkdirSync(path.join(dir, 'partners'));
  writeFileSync(
    path.join(dir, 'partners', 'erp.yaml'),
    ['id: erp', 'name: Test ERP', 'role: erp', 'feeds: [lots]', ''].join('\n'),
  );
  mkdirSync(path.join(dir, 'mappings', 'erp'), { recursive: true });
  writeFileSync(
    path.join(dir, 'mappings', 'erp', 'lots.yaml'),
    [
      'partner: erp',
      'feed: lots',
      'format: csv',
      'match: ["LOTS_*.csv"]',
      'dialect: { delimiter: ",", headerRow: 1 }',
      'records:',
      '  - emit: lot',
      '    fields:',
      '      materialId: { from: Material, required: true }',
      '      lotNumber: { from: Lot, required: true }',
      '',
    ].join('\n'),
  );
  for (const lab of labs) {
    const key = opts.sftpKeys?.[lab];
    writeFileSync(
      path.join(dir, 'partners', `${lab}.yaml`),
      [`id: ${lab}`, `name: Test lab ${lab}`, 'role: lab', 'feeds: [results]', ...(key ? ['sftp:', '  publicKeys:', `    - ${JSON.stringify(key.trim())}`] : []), ''].join('\n'),
    );
    mkdirSync(path.join(dir, 'mappings', lab), { recursive: true });
    writeFileSync(
      path.join(dir, 'mappings', lab, 'results.yaml'),
      [
        `partner: ${lab}`,
        'feed: results',
        'format: csv',
        'match: ["RESULTS_*.csv"]',
        'dialect: { delimiter: ",", headerRow: 1 }',
        'records:',
        '  - emit: test_result',
        '    fields:',
        '      lotNumber: { from: Lot, required: true }',
        '      materialId: { from: Material }',
        '      sampleId: { from: Sample, required: true }',
        '      testCode: { from: Test, required: true }',
        '      resultValue: { from: Value, type: decimal }',
        '      resultStatus: { const: final }',
        '',
      ].join('\n'),
    );
  }
  const config = loadConfig({ configPath, env: {} });
  return {
    dir,
    configPath,
    dataDir: config.dataDir,
    dropDir: config.dropDir,
    config,
    inbound: (p) => path.join(config.dropDir, p, 'inbound'),
    outbound: (p) => path.join(config.dropDir, p, 'outbound'),
    drop: (p, name, content) => {
      const inbound = path.join(config.dropDir, p, 'inbound');
      mkdirSync(inbound, { recursive: true });
      const tmp = path.join(inbound, `.${name}.part`);
      writeFileSync(tmp, content);
      const file = path.join(inbound, name);
      renameSync(tmp, file);
      return file;
    },
    env: (extra = {}) => ({ ...process.env, LOTGATE_CONFIG: configPath, LOTGATE_LOG_LEVEL: process.env.LOTGATE_TEST_LOG ?? 'warn', ...extra }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function lotsCsv(lots: string[]): string {
  return ['Material,Lot', ...lots.map((l) => `${MATERIAL},${l}`)].join('\n') + '\n';
}

/** `rows` test results for one lot; sample ids from `first` so several files never collide. */
export function resultsCsv(lot: string, rows: number, first = 1, test = 'ASSAY'): string {
  const out: string[] = ['Lot,Material,Sample,Test,Value'];
  for (let i = first; i < first + rows; i++) out.push(`${lot},${MATERIAL},S-${i},${test},${(90 + (i % 20) / 2).toFixed(1)}`);
  return out.join('\n') + '\n';
}
