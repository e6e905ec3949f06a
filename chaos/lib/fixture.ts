// The lotgate installation every run starts from: five partners (the ERP, two CMOs sending
// stage events, two labs sending LIMS exports, each sender with an ssh-keygen key made in the
// scratch folder), their mappings (the repository's own for the ERP and the labs, the bench's
// stage feed for the CMOs), a store seeded with the ERP master data through `lotgate ingest`,
// and the generated files. Each run gets its own copy of the seeded data dir.

import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { cmoMappings } from '../../bench/gen/facts.js';
import { generateMasterData, writeErpFiles } from '../../bench/gen/erp.js';
import { freePort } from '../../bench/lib/net.js';
import { makeKey } from '../../bench/lib/ssh.js';
import { createWorkspace, repoMapping, type MappingDef, type PartnerDef, type Workspace } from '../../bench/lib/workspace.js';
import { checkApplied, ERP_MAPPINGS, lotgateIngest } from '../../bench/scenarios/ingest-fixture.js';
import { CMOS, LABS, writeFileSet, type FileSet, type Sizes } from './fileset.js';

export interface Fixture {
  dir: string;
  partners: PartnerDef[];
  mappings: MappingDef[];
  /** Private key file per sending partner. */
  keys: Map<string, string>;
  seededDataDir: string;
  files: FileSet;
}

/** Reconcile scan interval in the chaos config: recovery that relies on it is seen within the bounded wait. */
export const RECONCILE_SECONDS = 10;

export async function buildFixture(workDir: string, sizes: Sizes & { lots: number }, seed: number): Promise<Fixture> {
  const dir = path.join(workDir, 'fixture');
  const keys = new Map<string, string>();
  for (const p of [...CMOS, ...LABS]) keys.set(p, (await makeKey(path.join(dir, 'keys'), p)).privateKey);
  const pub = async (p: string) => (await makeKey(path.join(dir, 'keys'), p)).publicKeyLine;
  const partners: PartnerDef[] = [
    { id: 'erp', name: 'Northwind Pharma SAP S/4HANA (ERP)', role: 'erp', feeds: ['materials', 'purchase-orders', 'lots'] },
    { id: 'acme-cmo', name: 'ACME Lohnfertigung GmbH', role: 'cmo', feeds: ['stages'], publicKeys: [await pub('acme-cmo')] },
    { id: 'delta-cmo', name: 'Delta Contract Manufacturing, Inc.', role: 'cmo', feeds: ['stages'], publicKeys: [await pub('delta-cmo')] },
    { id: 'lab-a', name: 'Contract Lab A', role: 'lab', feeds: ['lims-results'], publicKeys: [await pub('lab-a')] },
    { id: 'lab-b', name: 'Contract Lab B', role: 'lab', feeds: ['lims-results'], publicKeys: [await pub('lab-b')] },
  ];
  const mappings: MappingDef[] = [
    ...ERP_MAPPINGS,
    ...CMOS.flatMap((c) => cmoMappings(c).filter((m) => m.feed === 'stages')),
    ...LABS.map((l) => repoMapping('bravo-lab', 'lims-results', l)),
  ];
  const md = generateMasterData(seed, sizes.lots);
  const input = path.join(dir, 'input');
  mkdirSync(input, { recursive: true });
  const seedWs = createWorkspace(path.join(dir, 'seed-ws'), { partners, mappings });
  const seededDataDir = path.join(dir, 'seeded-data');
  checkApplied('seeding the ERP master data', await lotgateIngest(seedWs, seededDataDir, 'erp', await writeErpFiles(input, md)));
  const files = await writeFileSet(path.join(dir, 'files'), md, sizes, seed + 1);
  return { dir, partners, mappings, keys, seededDataDir, files };
}

export interface RunWorkspace {
  ws: Workspace;
  sftpPort: number;
  redisPort: number;
}

/**
 * A fresh installation for one run in `dir`: config.yaml, partners, mappings, and the seeded
 * data dir copied into ws.dataDir. `beforeCopy` runs once the data dir exists and is empty
 * (fault 4 mounts its tmpfs there).
 */
export async function runWorkspace(fx: Fixture, dir: string, beforeCopy?: (dataDir: string) => void): Promise<RunWorkspace> {
  const sftpPort = await freePort();
  const redisPort = await freePort();
  const ws = createWorkspace(dir, { partners: fx.partners, mappings: fx.mappings, sftpPort, config: { intake: { reconcileSeconds: RECONCILE_SECONDS } } });
  mkdirSync(ws.dataDir, { recursive: true });
  beforeCopy?.(ws.dataDir);
  cpSync(fx.seededDataDir, ws.dataDir, { recursive: true });
  return { ws, sftpPort, redisPort };
}
