// A throw-away lotgate installation for one scenario: config.yaml, partners/, mappings/ and a
// data dir, in a temp folder. Readiness rules are the repository's own (config.yaml), and the
// real mappings are copied from mappings/, so the bench measures what users run.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { REPO_ROOT } from './paths.js';

export interface PartnerDef {
  id: string;
  name: string;
  role: 'erp' | 'cmo' | 'lab' | 'qms';
  feeds: string[];
  products?: string[];
  publicKeys?: string[];
  mode?: 'live' | 'shadow' | 'review';
}

export interface MappingDef {
  partner: string;
  feed: string;
  text: string;
}

export interface WorkspaceOptions {
  partners: PartnerDef[];
  mappings: MappingDef[];
  sftpPort?: number;
  /** Merged over the generated config (intake, queue, …). */
  config?: Record<string, unknown>;
}

export interface Workspace {
  dir: string;
  configPath: string;
  dataDir: string;
  /** <dataDir>/drop: partners' inbound/ and outbound/ folders. */
  dropDir: string;
}

/** The text of a mapping shipped in mappings/, without its `tests:` (they name repo fixtures). */
export function repoMapping(partner: string, feed: string, as?: string): MappingDef {
  const text = readFileSync(path.join(REPO_ROOT, 'mappings', partner, `${feed}.yaml`), 'utf8').replace(/^tests:[\s\S]*$/m, '');
  return { partner: as ?? partner, feed, text: as ? text.replace(/^partner: .*$/m, `partner: ${as}`) : text };
}

export function repoReadiness(): unknown {
  const doc = YAML.parse(readFileSync(path.join(REPO_ROOT, 'config.yaml'), 'utf8')) as { readiness?: unknown };
  return doc.readiness;
}

export function writePartner(dir: string, p: PartnerDef): void {
  const doc: Record<string, unknown> = { id: p.id, name: p.name, role: p.role, mode: p.mode ?? 'live', products: p.products ?? [], feeds: p.feeds };
  if (p.publicKeys?.length) doc.sftp = { publicKeys: p.publicKeys };
  writeFileSync(path.join(dir, 'partners', `${p.id}.yaml`), YAML.stringify(doc));
}

export function createWorkspace(dir: string, opts: WorkspaceOptions): Workspace {
  mkdirSync(path.join(dir, 'partners'), { recursive: true });
  mkdirSync(path.join(dir, 'mappings'), { recursive: true });
  for (const p of opts.partners) writePartner(dir, p);
  for (const m of opts.mappings) {
    mkdirSync(path.join(dir, 'mappings', m.partner), { recursive: true });
    writeFileSync(path.join(dir, 'mappings', m.partner, `${m.feed}.yaml`), m.text);
  }
  const config = {
    dataDir: './data',
    partnersDir: './partners',
    mappingsDir: './mappings',
    sftp: { host: '127.0.0.1', port: opts.sftpPort ?? 2222, loginGraceSeconds: 30, defender: { maxFailures: 1000, windowSeconds: 300, banSeconds: 1 } },
    ...opts.config,
    readiness: repoReadiness(),
  };
  const configPath = path.join(dir, 'config.yaml');
  writeFileSync(configPath, YAML.stringify(config));
  return { dir, configPath, dataDir: path.join(dir, 'data'), dropDir: path.join(dir, 'data', 'drop') };
}
