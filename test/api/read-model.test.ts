// The shared read model (pipeline/read) and the scope predicates (pipeline/store/scope.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../pipeline/read/csv.js';
import { lotView } from '../../pipeline/read/lot.js';
import { listAllLots, listLotPage } from '../../pipeline/read/lots.js';
import { lotsCsv } from '../../pipeline/read/lots-csv.js';
import { factProvenance } from '../../pipeline/read/provenance.js';
import { listSubmissionPage } from '../../pipeline/read/submissions.js';
import type { Scope } from '../../pipeline/store/scope.js';
import { installation, type Installation } from './helpers.js';

let inst: Installation;
beforeAll(async () => {
  inst = await installation();
}, 120_000);
afterAll(() => inst?.cleanup());

const site1000: Scope[] = [{ sites: ['1000'], materials: '*', partners: '*' }];

describe('lot list', () => {
  it('pages with a cursor through every lot exactly once', async () => {
    const all = await listAllLots(inst.lg.store, 'all', {});
    expect(all.length).toBeGreaterThan(3);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const p = await listLotPage(inst.lg.store, 'all', {}, { limit: 2, cursor });
      expect(p.total).toBe(all.length);
      seen.push(...p.items.map((l) => `${l.materialId}/${l.lotNumber}`));
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(all.map((l) => `${l.materialId}/${l.lotNumber}`));
  });

  it('rejects a cursor it did not hand out', async () => {
    await expect(listLotPage(inst.lg.store, 'all', {}, { limit: 2, cursor: 'garbage' })).rejects.toThrow(/cursor/);
  });

  it('filters by state, site, prefix, free text, OOS, missing document, open deviation', async () => {
    const s = inst.lg.store;
    const numbers = async (f: Parameters<typeof listAllLots>[2]) => (await listAllLots(s, 'all', f)).map((l) => l.lotNumber).sort();
    expect(await numbers({ readiness: ['BLOCKED'] })).toEqual(['NW26-0415', 'NW26-0421']);
    expect(await numbers({ site: '2000' })).toEqual(['NW26-0421']);
    expect(await numbers({ lotPrefix: 'NW26-041' })).toEqual((await numbers({})).filter((n) => n.startsWith('NW26-041')));
    expect(await numbers({ q: 'atorvastatin' })).toContain('NW26-0421');
    const all = await listAllLots(s, 'all', {});
    const oos = all.filter((l) => l.readiness?.reasons.some((r) => r.code.startsWith('R_TEST_OOS'))).map((l) => l.lotNumber).sort();
    expect(await numbers({ oos: true })).toEqual(oos);
    expect((await numbers({ oos: false })).length + oos.length).toBe(all.length);
    const coaMissing = all.filter((l) => l.readiness?.reasons.some((r) => r.code === 'R_COA_MISSING')).map((l) => l.lotNumber).sort();
    expect(await numbers({ missingDocType: 'coa' })).toEqual(coaMissing);
    expect((await numbers({ openDeviation: true })).length + (await numbers({ openDeviation: false })).length).toBe(all.length);
  });
});

describe('scope', () => {
  it('a site-scoped list, count and detail only reach that site', async () => {
    const s = inst.lg.store;
    const p = await listLotPage(s, site1000, {}, { limit: 100 });
    expect(p.items.map((l) => l.site)).not.toContain('2000');
    expect(p.items.map((l) => l.lotNumber)).not.toContain('NW26-0421');
    expect(p.total).toBe((await listAllLots(s, 'all', {})).length - 1);
    const other = (await s.reads.lotIdsByNumberInScope('all', 'NW26-0421'))[0];
    expect(await lotView(s, inst.lg.config, site1000, other)).toBeUndefined();
    expect((await lotView(s, inst.lg.config, 'all', other))?.lotNumber).toBe('NW26-0421');
    expect((await listLotPage(s, site1000, { site: '2000' }, { limit: 10 })).total).toBe(0);
  });

  it('material (family) and partner dimensions, and the union of bindings', async () => {
    const s = inst.lg.store;
    const all = await listAllLots(s, 'all', {});
    const mat = all[0].materialId;
    expect((await listAllLots(s, [{ sites: '*', materials: [mat], partners: '*' }], {})).every((l) => l.materialId === mat)).toBe(true);
    expect((await listAllLots(s, [{ sites: '*', materials: ['oral-solid'], partners: '*' }], {})).length).toBeGreaterThan(0);
    expect(await listAllLots(s, [{ sites: '*', materials: ['NO-SUCH-FAMILY'], partners: '*' }], {})).toEqual([]);
    const delta = (await listAllLots(s, [{ sites: '*', materials: '*', partners: ['delta-cmo'] }], {})).map((l) => l.lotNumber);
    expect(delta).toContain('NW26-0421');
    expect(delta).not.toContain('NW26-0411');
    const union = await listAllLots(s, [...site1000, { sites: ['2000'], materials: '*', partners: '*' }], {});
    expect(union.length).toBe(all.length);
    expect(await listAllLots(s, [], {})).toEqual([]);
  });

  it('submissions that wrote about another site are out of a site scope', async () => {
    const s = inst.lg.store;
    const all = (await listSubmissionPage(s, 'all', {}, { limit: 100 })).items;
    const scoped = (await listSubmissionPage(s, site1000, {}, { limit: 100 })).items;
    const other = (await s.reads.lotIdsByNumberInScope('all', 'NW26-0421'))[0];
    for (const sub of all) {
      const touches = await s.reads.submissionTouchedLot(other, sub.id);
      expect(scoped.some((x) => x.id === sub.id)).toBe(touches ? false : scoped.some((x) => x.id === sub.id));
      if (touches) expect(await s.reads.getSubmissionScoped(site1000, sub.id)).toBeUndefined();
    }
    expect(scoped.length).toBeLessThan(all.length);
  });
});

describe('provenance', () => {
  it('names the file, its hash, the mapping and the raw line of a fact', async () => {
    const s = inst.lg.store;
    const lotId = (await s.reads.lotIdsByNumberInScope('all', 'NW26-0411'))[0];
    const v = (await lotView(s, inst.lg.config, 'all', lotId))!;
    const t = v.tests.find((x) => x.submissionId && x.line)!;
    const p = (await factProvenance(s, 'all', lotId, t.submissionId!, t.line!))!;
    const sub = (await s.ledger.getSubmission(t.submissionId!))!;
    expect(p).toMatchObject({ partner: sub.partner, originalName: sub.originalName, sha256: sub.sha256, mappingHash: sub.mappingHash, line: t.line });
    expect(p.mappingName).toBeTruthy();
    expect(p.rawRow).toContain(t.testCode === undefined ? '' : 'NW26-0411'.slice(0, 0));
    expect(p.rawRow!.length).toBeGreaterThan(0);
    // Another lot's fact, or the right file at a line that said nothing about this lot: nothing.
    const other = (await s.reads.lotIdsByNumberInScope('all', 'NW26-0421'))[0];
    expect(await factProvenance(s, 'all', other, t.submissionId!, t.line!)).toBeUndefined();
    expect(await factProvenance(s, site1000, other, t.submissionId!)).toBeUndefined();
  });
});

describe('CSV export', () => {
  it('neutralises cells that spreadsheets would run as formulas', async () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+1')).toBe(`"'+1"`);
    expect(csvCell('-2')).toBe(`"'-2"`);
    expect(csvCell('@SUM(A1)')).toBe(`"'@SUM(A1)"`);
    expect(csvCell('NW26-0411')).toBe('NW26-0411');
    const csv = lotsCsv(await listAllLots(inst.lg.store, 'all', {}));
    expect(csv.split('\r\n')[0]).toMatch(/^lot_number,material_id,/);
  });
});
