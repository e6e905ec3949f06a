// The store scenarios 1 and 2 ingest into: 25k lots with their cross-references, seeded by
// ingesting generated ERP exports through `lotgate ingest` itself (untimed), plus the LIMS
// files to ingest. Each timed run gets a fresh copy of the seeded data dir.

import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { generateMasterData, writeErpFiles, type MasterData } from '../gen/erp.js';
import { writeLimsFile } from '../gen/lims.js';
import { LOTGATE_BIN, REPO_ROOT } from '../lib/paths.js';
import { describeFailure, runMeasured, type RunResult } from '../lib/proc.js';
import { createWorkspace, repoMapping, type MappingDef, type Workspace } from '../lib/workspace.js';

export const SEED_LOTS = 25_000;

export interface IngestFixture {
  ws: Workspace;
  md: MasterData;
  /** The seeded data dir; never ingested into by a timed run. */
  seededDataDir: string;
  dir: string;
}

export const STANDARD_PARTNERS = [
  { id: 'erp', name: 'Northwind Pharma SAP S/4HANA (ERP)', role: 'erp' as const, feeds: ['materials', 'purchase-orders', 'lots'] },
  { id: 'bravo-lab', name: 'Bravo Analytical Laboratories', role: 'lab' as const, feeds: ['lims-results'] },
  // The CMOs the lots are made by; their feeds are added by the scenarios that use them.
  { id: 'acme-cmo', name: 'ACME Lohnfertigung GmbH', role: 'cmo' as const, feeds: [] as string[] },
  { id: 'delta-cmo', name: 'Delta Contract Manufacturing, Inc.', role: 'cmo' as const, feeds: [] as string[] },
];

/**
 * The ERP lots mapping as shipped, except that manufactureDate may lie in the future: the
 * generated batches are dated around a fixed anchor (gen/dates.ts), planned ones with future
 * manufacture dates, and the default plausibility limit (7 days after "now") would reject them
 * as the real clock moves away from the anchor.
 */
function benchLotsMapping(): MappingDef {
  const m = repoMapping('erp', 'lots');
  const text = m.text.replace(/^(\s*manufactureDate: \{[^}\n]*)\}/m, '$1, plausible: { maxFutureDays: null } }');
  if (text === m.text) throw new Error('bench: manufactureDate not found in mappings/erp/lots.yaml');
  return { ...m, text };
}

export const ERP_MAPPINGS = [repoMapping('erp', 'materials'), repoMapping('erp', 'purchase-orders'), benchLotsMapping()];

/** `node bin/lotgate.js --config … --data-dir … ingest --partner … --json files…`, measured. */
export function lotgateIngest(ws: Workspace, dataDir: string, partner: string, files: string[], nodeFlags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runMeasured(process.execPath, [...nodeFlags, LOTGATE_BIN, '--config', ws.configPath, '--data-dir', dataDir, 'ingest', '--partner', partner, '--json', ...files], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOTGATE_LOG_LEVEL: process.env.LOTGATE_LOG_LEVEL ?? 'warn', ...env },
  });
}

interface AckLike {
  state: string;
  file: string;
  counts: { rows: number; applied: number; rejected: number };
  errors?: { code: string; message: string; line?: number }[];
}

/** Parses `ingest --json` output and insists every file was applied without rejected rows. */
export function checkApplied(what: string, r: RunResult, expectRows?: number): AckLike[] {
  if (r.code !== 0) throw describeFailure(what, r);
  let acks: AckLike[];
  try {
    acks = JSON.parse(r.stdout) as AckLike[];
  } catch {
    throw new Error(`${what}: could not read the acknowledgments: ${r.stdout.slice(0, 500)}`);
  }
  for (const a of acks) {
    if (a.state !== 'applied' || a.counts.rejected > 0) {
      const errs = (a.errors ?? []).slice(0, 5).map((e) => `  ${e.code} line ${e.line}: ${e.message}`).join('\n');
      throw new Error(`${what}: ${a.file} was ${a.state} (rows ${a.counts.rows}, applied ${a.counts.applied}, rejected ${a.counts.rejected})\n${errs}`);
    }
  }
  if (expectRows !== undefined) {
    const rows = acks.reduce((n, a) => n + a.counts.rows, 0);
    if (rows !== expectRows) throw new Error(`${what}: expected ${expectRows} rows, the acknowledgment says ${rows}`);
  }
  return acks;
}

/** Where scenarios 1, 2 and 9 keep their input files (the LIMS exports are shared). */
export const ingestDir = (ctx: BenchContext): string => path.join(ctx.workDir, 'ingest');

export async function ingestFixture(ctx: BenchContext): Promise<IngestFixture> {
  const cached = ctx.shared.get('ingest-fixture') as IngestFixture | undefined;
  if (cached) return cached;
  const dir = ingestDir(ctx);
  const ws = createWorkspace(path.join(dir, 'ws'), { partners: STANDARD_PARTNERS, mappings: [...ERP_MAPPINGS, repoMapping('bravo-lab', 'lims-results')] });
  const md = generateMasterData(ctx.seed, SEED_LOTS);
  const input = path.join(dir, 'input');
  mkdirSync(input, { recursive: true });
  const erpFiles = await writeErpFiles(input, md);
  ctx.log(`  seeding ${SEED_LOTS.toLocaleString('en-US')} lots (materials, PO lines, batches with CMO batch cross-references) through lotgate ingest`);
  const seeded = path.join(dir, 'seeded-data');
  const r = await lotgateIngest(ws, seeded, 'erp', erpFiles);
  checkApplied('seeding the ERP master data', r);
  ctx.log(`  seeded in ${r.seconds.toFixed(1)} s`);
  const fx = { ws, md, seededDataDir: seeded, dir };
  ctx.shared.set('ingest-fixture', fx);
  return fx;
}

/** A LIMS export of `rows` rows against the fixture's lots, generated once per bench run. */
export async function limsFile(ctx: BenchContext, fx: Pick<IngestFixture, 'dir' | 'md'>, rows: number): Promise<{ file: string; bytes: number }> {
  const file = path.join(fx.dir, 'input', `LIMS_EXPORT_${rows}_0200.csv`);
  if (!existsSync(file)) {
    ctx.log(`  generating ${rows.toLocaleString('en-US')}-row LIMS export`);
    await writeLimsFile(file, rows, fx.md.lots, ctx.seed + rows);
  }
  return { file, bytes: statSync(file).size };
}

/** A fresh copy of the seeded data dir for one timed run (copying is not timed). */
export function freshDataDir(fx: IngestFixture, name: string): string {
  const dest = path.join(fx.dir, name);
  rmSync(dest, { recursive: true, force: true });
  cpSync(fx.seededDataDir, dest, { recursive: true });
  return dest;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
