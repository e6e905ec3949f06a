// `lotgate readiness recompute [--all]` (compiled CLI in a child process): a lot whose facts
// changed but whose readiness was not recomputed yet (a dirty marker, as a crash between a file's
// commit and its readiness step leaves it) shows as recomputing in `lot` and `lots`; the command
// recomputes it; --all recomputes every open lot and changes nothing that did not change.

import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../pipeline/store/store.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/lotgate.js');
let work: string;

function lotgate(args: string[]) {
  const r = spawnSync(process.execPath, [bin, '--config', path.join(work, 'config.yaml'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, LOTGATE_LOG_LEVEL: 'warn', LOTGATE_DATA_DIR: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function json(args: string[]) {
  const r = lotgate([...args, '--json']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'lotgate-recompute-'));
  for (const d of ['partners', 'mappings', 'fixtures']) cpSync(path.join(root, d), path.join(work, d), { recursive: true });
  copyFileSync(path.join(root, 'config.yaml'), path.join(work, 'config.yaml'));
  const dir = path.join(work, 'fixtures', 'erp');
  const erp = readdirSync(dir).filter((f) => !f.endsWith('.expected.json'));
  const order = ['MATERIALS', 'PO', 'BATCHES'].map((k) => path.join(dir, erp.find((f) => f.includes(`_${k}_`))!));
  expect(lotgate(['ingest', '--partner', 'erp', ...order]).code).toBe(0);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lotgate readiness recompute', () => {
  it('recomputes a lot left dirty, shown as recomputing until then; --all changes nothing unchanged', async () => {
    const lots = json(['lots']) as { lotId: number; lotNumber: string; recomputing: boolean }[];
    expect(lots.length).toBeGreaterThan(1);
    expect(lots.every((l) => l.recomputing === false)).toBe(true);
    const target = lots[0];

    // As a crash between a file's commit and its readiness step leaves it.
    const store = await openStore(path.join(work, 'data', 'lotgate.db'));
    await store.db.run(`INSERT INTO dirty_lots (lot_id, submission_id, partner, marked_at) VALUES (?, NULL, NULL, '2026-01-01T00:00:00.000Z')`, [target.lotId]);
    await store.close();
    expect(json(['lot', target.lotNumber]).recomputing).toBe(true);
    expect((json(['lots']) as typeof lots).find((l) => l.lotId === target.lotId)!.recomputing).toBe(true);
    expect(lotgate(['lot', target.lotNumber]).out).toMatch(/RECOMPUTING/);

    const r = lotgate(['readiness', 'recompute']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/1 awaiting recomputation after new facts/);
    expect((json(['lots']) as typeof lots).every((l) => l.recomputing === false)).toBe(true);

    const all = json(['readiness', 'recompute', '--all']);
    expect(all).toMatchObject({ status: 'ok', counts: { recomputed: all.counts.lots, changed: 0, dirtyLots: 0 } });
    expect(all.counts.lots).toBeGreaterThan(0);
  });
});
