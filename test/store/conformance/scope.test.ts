// The one place where a principal's scope becomes SQL (pipeline/store/scope.ts) must mean the
// same on both databases: the same lots and submissions for every kind of scope, including the
// empty lists ("nothing") and the wildcard ("everything").

import { expect, it } from 'vitest';
import { scopeWhere, submissionScopeWhere, type Access } from '../../../pipeline/store/scope.js';
import { describeStore } from './harness.js';

const T = '2026-01-01T00:00:00.000Z';

describeStore('scope predicates', (h) => {
  const setup = async () => {
    const s = await h.fresh();
    const run = (sql: string, args: unknown[]) => s.db.run(sql, args);
    await run(`INSERT INTO submissions (id, partner, original_name, size, sha256, received_at, source, archive_path) VALUES (1, 'lab-a', 'a.csv', 1, 'x', ?, 'cli', '/a'), (2, 'lab-b', 'b.csv', 1, 'y', ?, 'cli', '/b')`, [T, T]);
    await run(`INSERT INTO materials (material_id, product_family, updated_at) VALUES ('M1', 'fam-1', ?), ('M2', NULL, ?)`, [T, T]);
    await run(
      `INSERT INTO lots (id, material_id, lot_number, site, vendor, created_at, updated_at, partner) VALUES
        (1, 'M1', 'L1', 'site-1', 'cmo-a', ?, ?, 'erp'), (2, 'M2', 'L2', 'site-2', 'cmo-b', ?, ?, 'erp'), (3, 'M2', 'L3', 'site-1', NULL, ?, ?, 'erp')`,
      [T, T, T, T, T, T],
    );
    await run(`INSERT INTO test_results (lot_id, test_code, recorded_at, submission_id, partner) VALUES (1, 'ASSAY', ?, 1, 'lab-a'), (2, 'ASSAY', ?, 2, 'lab-b')`, [T, T]);
    const lots = async (access: Access) => {
      const w = scopeWhere(access, 'l');
      return (await s.db.all<{ id: number }>(`SELECT l.id FROM lots l WHERE ${w.sql} ORDER BY l.id`, w.args)).map((r) => r.id);
    };
    const subs = async (access: Access) => {
      const w = submissionScopeWhere(access, 's');
      return (await s.db.all<{ id: number }>(`SELECT s.id FROM submissions s WHERE ${w.sql} ORDER BY s.id`, w.args)).map((r) => r.id);
    };
    return { lots, subs };
  };

  it('selects the same lots for every kind of scope', async () => {
    const { lots } = await setup();
    expect(await lots('all')).toEqual([1, 2, 3]);
    expect(await lots([])).toEqual([]);
    expect(await lots([{ sites: '*', materials: '*', partners: '*' }])).toEqual([1, 2, 3]);
    expect(await lots([{ sites: ['site-1'], materials: '*', partners: '*' }])).toEqual([1, 3]);
    expect(await lots([{ sites: [], materials: '*', partners: '*' }])).toEqual([]);
    expect(await lots([{ sites: '*', materials: ['fam-1'], partners: '*' }])).toEqual([1]);
    expect(await lots([{ sites: '*', materials: '*', partners: ['lab-b'] }])).toEqual([2]);
    expect(await lots([{ sites: '*', materials: '*', partners: ['cmo-a'] }])).toEqual([1]);
    expect(await lots([{ sites: '*', materials: '*', partners: [] }])).toEqual([]);
    expect(await lots([{ sites: ['site-2'], materials: '*', partners: '*' }, { sites: '*', materials: ['M1'], partners: '*' }])).toEqual([1, 2]);
  });

  it('selects the same submissions for every kind of scope', async () => {
    const { subs } = await setup();
    expect(await subs('all')).toEqual([1, 2]);
    expect(await subs([])).toEqual([]);
    expect(await subs([{ sites: '*', materials: '*', partners: ['lab-a'] }])).toEqual([1]);
    expect(await subs([{ sites: ['site-2'], materials: '*', partners: '*' }])).toEqual([2]);
    expect(await subs([{ sites: '*', materials: '*', partners: [] }])).toEqual([]);
  });
});
