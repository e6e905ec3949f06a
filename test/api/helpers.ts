// A lotgate installation in a temp dir with the fixture story ingested (in-process), for the
// read-model and API tests. Lot NW26-0421 is at site 2000; every other lot at site 1000.

import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';

export const root = path.resolve(import.meta.dirname, '../..');

export function fixtureFiles(work: string, partner: string): string[] {
  const dir = path.join(work, 'fixtures', partner);
  return readdirSync(dir)
    .filter((f) => !f.endsWith('.expected.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface Installation {
  work: string;
  lg: Lotgate;
  cleanup(): Promise<void>;
}

/** A fresh installation; `story` ingests the ERP and partner fixtures. */
export async function installation(opts: { story?: boolean; now?: () => Date } = {}): Promise<Installation> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lotgate-api-'));
  for (const d of ['partners', 'mappings', 'fixtures']) cpSync(path.join(root, d), path.join(work, d), { recursive: true });
  copyFileSync(path.join(root, 'config.yaml'), path.join(work, 'config.yaml'));
  const config = loadConfig({ configPath: path.join(work, 'config.yaml'), dataDir: path.join(work, 'data'), env: {} });
  const lg = await createLotgate(config, { log: pino({ level: 'silent' }), now: opts.now });
  if (opts.story !== false) {
    const erp = fixtureFiles(work, 'erp');
    const order = ['MATERIALS', 'PO', 'BATCHES'].map((k) => erp.find((f) => path.basename(f).includes(`_${k}_`))!);
    await ingestFiles(lg, 'erp', order);
    for (const p of ['acme-cmo', 'bravo-lab', 'delta-cmo']) await ingestFiles(lg, p, fixtureFiles(work, p));
    // The ERP mapping leaves plants unmapped: give the lots sites by hand.
    for (const id of await lg.store.readiness.listAllLotIds()) {
      const lot = (await lg.store.masterdata.getLotRow(id))!;
      await lg.store.masterdata.upsertLot(lot.materialId, lot.lotNumber, { site: lot.lotNumber === 'NW26-0421' ? '2000' : '1000' }, { submissionId: null, partner: 'erp' });
    }
  }
  return {
    work,
    lg,
    cleanup: async () => {
      await lg.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
