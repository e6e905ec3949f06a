// A whole lotgate in a temp dir for the job tests: its own config.yaml (the demo's readiness
// rules, the test's connectors/notifications/jobs), its own copy of the partner files (modes and
// pull sections changed per test), a clock the test can move, and the demo fixtures to ingest.

import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import YAML from 'yaml';
import { ingestFiles } from '../../../pipeline/cli/ingest-commands.js';
import { loadConfig, type LotgateConfig } from '../../../pipeline/config/config.js';
import type { ProcessResult } from '../../../pipeline/ingest/process-submission.js';
import { createLotgate, type Lotgate } from '../../../pipeline/lotgate.js';
import type { OnboardingMode } from '../../../pipeline/model/types.js';
import type { JobServices } from '../../../pipeline/scheduler/job.js';
import { findJob, JOBS } from '../../../jobs/index.js';
import { runJob, type RunOptions, type RunOutcome } from '../../../pipeline/scheduler/runner.js';
import { loadJobsConfig } from '../../../pipeline/scheduler/scheduler.js';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const FIXTURES = path.join(ROOT, 'fixtures');
export const ERP_FILES = ['ZMM_MATERIALS_20261120.csv', 'ZMM_PO_20261120.csv', 'ZMM_BATCHES_20261120.csv'];
export const silent = pino({ level: 'silent' });

export interface Clock {
  now: () => Date;
  advance(ms: number): void;
}

/** Real time plus an offset the test moves forward (the store's own timestamps stay real). */
export function movableClock(): Clock {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => (offset += ms) };
}

export interface WorldOptions {
  connectors?: unknown[];
  notifications?: unknown;
  jobs?: Record<string, unknown>;
  publicUrl?: string;
  /** The environment jobs see (secrets named by *Env keys). */
  env?: Record<string, string>;
  /** Changes to partner files: mode, pull section, expectedCadenceHours, … */
  partners?: Record<string, { mode?: OnboardingMode } & Record<string, unknown>>;
}

export interface World {
  dir: string;
  configPath: string;
  config: LotgateConfig;
  clock: Clock;
  /** The test's own instance (reads, ingest). */
  lg: Lotgate;
  open(): Promise<Lotgate>;
  run(job: string, services?: JobServices, opts?: RunOptions & { enqueue?: (p: string, id: number) => Promise<void> }): Promise<RunOutcome>;
  ingest(partner: string, names?: string[]): Promise<ProcessResult[]>;
  /** Ingests one file from anywhere (e.g. fixtures/bad/) as the partner's. */
  ingestFile(partner: string, file: string): Promise<ProcessResult>;
  /** Rewrites one partner file (the running instances re-read partner files). */
  setPartner(id: string, change: Record<string, unknown>): void;
  close(): Promise<void>;
}

const worlds: World[] = [];

export async function closeWorlds(): Promise<void> {
  for (const w of worlds.splice(0)) await w.close();
}

export async function makeWorld(opts: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-jobs-'));
  const partnersDir = path.join(dir, 'partners');
  mkdirSync(partnersDir);
  for (const name of readdirSync(path.join(ROOT, 'partners'))) {
    if (!name.endsWith('.yaml')) continue;
    const id = name.replace(/\.yaml$/, '');
    const data = YAML.parse(readFileSync(path.join(ROOT, 'partners', name), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(partnersDir, name), YAML.stringify({ ...data, ...(opts.partners?.[id] ?? {}) }));
  }
  const raw = YAML.parse(readFileSync(path.join(ROOT, 'config.yaml'), 'utf8')) as Record<string, unknown>;
  const cfg = {
    ...raw,
    dataDir: path.join(dir, 'data'),
    dropDir: path.join(dir, 'drop'),
    partnersDir,
    mappingsDir: path.join(ROOT, 'mappings'),
    jobs: opts.jobs ?? {},
    connectors: opts.connectors ?? [],
    notifications: opts.notifications ?? {},
    publicUrl: opts.publicUrl ?? 'https://lotgate.test',
  };
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(configPath, YAML.stringify(cfg));
  const config = loadConfig({ configPath, env: {} });
  const clock = movableClock();
  const open = () => createLotgate(config, { now: clock.now, log: silent });
  const lg = await open();
  const w: World = {
    dir,
    configPath,
    config,
    clock,
    lg,
    open,
    run: (job, services = {}, runOpts = {}) => {
      const def = findJob(job);
      if (!def) throw new Error(`no job ${job}`);
      const settings = loadJobsConfig(config, JOBS).jobs.get(job)!;
      return runJob(def, settings, { config, log: silent, now: clock.now, openLotgate: open, services, env: opts.env ?? {}, enqueue: runOpts.enqueue }, { trigger: 'manual', ...runOpts });
    },
    ingest: async (partner, names) => {
      const from = path.join(FIXTURES, partner);
      const p = lg.partners().get(partner)!;
      const chosen = names ?? (partner === 'erp' ? ERP_FILES : readdirSync(from).filter((n) => lg.mappings.select(p, n) !== undefined).sort());
      // Copies: the archive may hard-link what it ingests; the fixtures must stay as they are.
      const up = path.join(dir, 'uploads', partner);
      mkdirSync(up, { recursive: true });
      const files = chosen.map((n) => {
        copyFileSync(path.join(from, n), path.join(up, n));
        return path.join(up, n);
      });
      return ingestFiles(lg, partner, files);
    },
    ingestFile: async (partner, file) => {
      const up = path.join(dir, 'uploads', partner);
      mkdirSync(up, { recursive: true });
      copyFileSync(file, path.join(up, path.basename(file)));
      return (await ingestFiles(lg, partner, [path.join(up, path.basename(file))]))[0];
    },
    setPartner: (id, change) => {
      const file = path.join(partnersDir, `${id}.yaml`);
      const data = YAML.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, YAML.stringify({ ...data, ...change }));
    },
    close: async () => {
      await lg.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  worlds.push(w);
  return w;
}

/** The demo story's partners, ERP first. */
export async function ingestDemo(w: World, partners = ['erp', 'acme-cmo', 'bravo-lab', 'delta-cmo']): Promise<void> {
  for (const p of partners) await w.ingest(p);
}
