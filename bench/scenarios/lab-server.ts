// The set-up scenarios 4 and 5 share: N lab partners (each with an ssh-keygen key and its own
// copy of Bravo's real LIMS mapping), an ERP that has created the lots (ingested with
// `lotgate ingest` before the servers start), and LIMS files for the labs to send.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { generateMasterData, writeErpFiles, type MasterData } from '../gen/erp.js';
import { writeLimsFile } from '../gen/lims.js';
import { makeKey, type KeyPair } from '../lib/ssh.js';
import { freePort } from '../lib/net.js';
import { createWorkspace, repoMapping, type PartnerDef, type Workspace } from '../lib/workspace.js';
import { checkApplied, ERP_MAPPINGS, lotgateIngest } from './ingest-fixture.js';

export interface LabServerFixture {
  dir: string;
  ws: Workspace;
  md: MasterData;
  sftpPort: number;
  labs: { id: string; key: KeyPair }[];
}

export const LAB_LOTS = 2_000;

export async function labServerFixture(ctx: BenchContext, name: string, labCount: number, seed: number): Promise<LabServerFixture> {
  const dir = path.join(ctx.workDir, name);
  const keysDir = path.join(dir, 'keys');
  const labs: { id: string; key: KeyPair }[] = [];
  const ids = Array.from({ length: labCount }, (_, i) => `lab-${String(i + 1).padStart(3, '0')}`);
  // ssh-keygen a few at a time: 200 keys take a couple of seconds.
  for (let i = 0; i < ids.length; i += 8) {
    const batch = await Promise.all(ids.slice(i, i + 8).map(async (id) => ({ id, key: await makeKey(keysDir, id) })));
    labs.push(...batch);
  }
  const partners: PartnerDef[] = [
    { id: 'erp', name: 'Northwind Pharma SAP S/4HANA (ERP)', role: 'erp', feeds: ['materials', 'purchase-orders', 'lots'] },
    { id: 'acme-cmo', name: 'ACME Lohnfertigung GmbH', role: 'cmo', feeds: [] },
    { id: 'delta-cmo', name: 'Delta Contract Manufacturing, Inc.', role: 'cmo', feeds: [] },
    ...labs.map((l, i) => ({ id: l.id, name: `Contract Lab ${i + 1}`, role: 'lab' as const, feeds: ['lims-results'], publicKeys: [l.key.publicKeyLine] })),
  ];
  const sftpPort = await freePort();
  const ws = createWorkspace(path.join(dir, 'ws'), {
    partners,
    mappings: [...ERP_MAPPINGS, ...labs.map((l) => repoMapping('bravo-lab', 'lims-results', l.id))],
    sftpPort,
  });
  const md = generateMasterData(seed, LAB_LOTS);
  const input = path.join(dir, 'input');
  mkdirSync(input, { recursive: true });
  checkApplied('seeding the ERP master data', await lotgateIngest(ws, ws.dataDir, 'erp', await writeErpFiles(input, md)));
  return { dir, ws, md, sftpPort, labs };
}

export interface LabFile {
  partner: string;
  name: string;
  path: string;
}

/** File `k` of a lab: LIMS_EXPORT_<lab>_<k>.csv with `rows` rows and sample ids of its own. */
export async function writeLabFile(fx: LabServerFixture, partner: string, k: number, rows: number, seed: number): Promise<LabFile> {
  const dir = path.join(fx.dir, 'input', partner);
  mkdirSync(dir, { recursive: true });
  const name = `LIMS_EXPORT_${partner}_${String(k).padStart(4, '0')}.csv`;
  const file = path.join(dir, name);
  await writeLimsFile(file, rows, fx.md.lots, seed, `${partner.toUpperCase()}-${k}-`);
  return { partner, name, path: file };
}
