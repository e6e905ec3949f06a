// The demo data (README "Without servers": the four demo partners' files through `lotgate
// ingest`) moved to PostgreSQL with `lotgate store copy` reads the same through the async store
// on both databases: the board with every readiness state, each lot's page, the submissions,
// the rejected rows, the audit trail and the outbox. And the same files ingested by a lotgate
// running on PostgreSQL (LOTGATE_DATABASE_URL) give the same board as on SQLite.

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
let direct: { url: string; drop: () => Promise<void> } | undefined;

const ingestAll = async (dir: string, env: NodeJS.ProcessEnv) => {
  const ingest = (partner: string, paths: string[]) => run(process.execPath, [BIN, '--data-dir', dir, 'ingest', '--partner', partner, ...paths], { cwd: ROOT, env: { ...process.env, LOTGATE_CONFIG: '', ...env } });
  await ingest('erp', files('erp', '.csv'));
  await ingest('acme-cmo', [...files('acme-cmo', '.csv'), ...files('acme-cmo', '.pdf')]);
  await ingest('bravo-lab', files('bravo-lab', '.csv'));
  await ingest('delta-cmo', files('delta-cmo', '.xml'));
};

/** What two separate runs of the same files must agree on: everything but instants, hashes and paths. */
const comparable = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(comparable)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).filter(([k]) => !/(At|_at|Time|Hash|hash|Path|path|sha256|^at$)$/.test(k)).map(([k, x]) => [k, comparable(x)]))
      : v;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'lotgate-demo-both-'));
  await ingestAll(dataDir, {});
  target = await createPgDatabase('lotgate_demo');
  await copyStore(path.join(dataDir, 'lotgate.db'), target.url);
}, 120_000);

afterAll(async () => {
  await target?.drop();
  await direct?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('the demo board comes out identical on SQLite and PostgreSQL, every readiness state included', async () => {
  const lite = await readViews(path.join(dataDir, 'lotgate.db'));
  expect(new Set(lite.lots.map((l) => l.readiness))).toEqual(new Set(['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED']));
  expect(lite.submissions.length).toBeGreaterThan(5);
  const pg = await readViews(target.url);
  expect(pg).toEqual(lite);
});

it('the same files ingested by a lotgate running on PostgreSQL give the same board, lots, submissions and rejected rows', async () => {
  direct = await createPgDatabase('lotgate_demo_direct');
  const pgDataDir = path.join(dataDir, 'on-postgres');
  await ingestAll(pgDataDir, { LOTGATE_DATABASE_URL: direct.url });
  const lite = await readViews(path.join(dataDir, 'lotgate.db'));
  const pg = await readViews(direct.url);
  expect(new Set(pg.lots.map((l) => l.readiness))).toEqual(new Set(['READY', 'CONDITIONAL', 'NOT_READY', 'BLOCKED']));
  for (const k of ['lots', 'details', 'board', 'submissions', 'rejected'] as const) expect(comparable(pg[k]), k).toEqual(comparable(lite[k]));
  expect(pg.audit.map((e) => e.action)).toEqual(lite.audit.map((e) => e.action));
}, 120_000);
