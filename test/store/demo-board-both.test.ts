// The demo data (README "Without servers": the four demo partners' files through `lotgate
// ingest`) moved to PostgreSQL with `lotgate store copy` reads the same through the async store
// on both databases: the board with every readiness state, each lot's page, the submissions,
// the rejected rows, the audit trail and the outbox.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyStore } from '../../pipeline/store/copy/copy-store.js';
import { readViews } from './helpers/read-views.js';
import { createPgDatabase } from './conformance/harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/lotgate.js');
const files = (dir: string, ext: string) => readdirSync(path.join(ROOT, 'fixtures', dir)).filter((f) => f.endsWith(ext)).map((f) => path.join('fixtures', dir, f));

let dataDir: string;
let target: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'lotgate-demo-both-'));
  const ingest = (partner: string, paths: string[]) => run(process.execPath, [BIN, '--data-dir', dataDir, 'ingest', '--partner', partner, ...paths], { cwd: ROOT, env: { ...process.env, LOTGATE_CONFIG: '' } });
  await ingest('erp', files('erp', '.csv'));
  await ingest('acme-cmo', [...files('acme-cmo', '.csv'), ...files('acme-cmo', '.pdf')]);
  await ingest('bravo-lab', files('bravo-lab', '.csv'));
  await ingest('delta-cmo', files('delta-cmo', '.xml'));
  target = await createPgDatabase('lotgate_demo');
  await copyStore(path.join(dataDir, 'lotgate.db'), target.url);
}, 120_000);

afterAll(async () => {
  await target?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('the demo board comes out identical on SQLite and PostgreSQL, every readiness state included', async () => {
  const lite = await readViews(path.join(dataDir, 'lotgate.db'));
  expect(new Set(lite.lots.map((l) => l.readiness))).toEqual(new Set(['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED']));
  expect(lite.submissions.length).toBeGreaterThan(5);
  const pg = await readViews(target.url);
  expect(pg).toEqual(lite);
});
