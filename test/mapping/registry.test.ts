import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MappingCatalog, type InvalidFeed, type SelectedFeed } from '../../pipeline/mapping/catalog.js';
import { loadMappings, selectFeed } from '../../pipeline/mapping/registry.js';
import type { PartnerConfig } from '../../pipeline/model/types.js';
import { yaml } from './helpers.js';

const feed = (partner: string, name: string, match: string[]) => yaml`
  partner: ${partner}
  feed: ${name}
  match: ${JSON.stringify(match)}
  records:
    - emit: lot
      fields:
        lotNumber: { from: Lot }
`;

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lotgate-maps-'));
  mkdirSync(join(dir, 'acme'));
  mkdirSync(join(dir, 'bravo'));
  writeFileSync(join(dir, 'acme', 'batch-status.yaml'), feed('acme', 'batch-status', ['Chargenstatus_*.csv', 'batch_status_*.csv']));
  writeFileSync(join(dir, 'acme', 'all-csv.yaml'), feed('acme', 'all-csv', ['*.csv']));
  writeFileSync(join(dir, 'acme', 'broken.yaml'), feed('acme', 'broken', ['BROKEN_*.csv']).replace('{ from: Lot }', '{ from: Lot, requird: true }'));
  writeFileSync(join(dir, 'bravo', 'lims.yaml'), feed('bravo', 'lims', ['LIMS_*.csv']));
  writeFileSync(join(dir, 'schema.json'), '{}');
  return dir;
}

const partner = (id: string, feeds: string[] = []): PartnerConfig => ({ id, name: id, role: 'cmo', mode: 'live', sites: [], products: [], feeds });

describe('loadMappings', () => {
  it('loads mappings/<partner>/*.yaml, invalid ones without a spec but with diagnostics and globs', () => {
    const dir = tree();
    const all = loadMappings(dir);
    expect(all.mappings.map((m) => [m.name, m.partner, m.feed, m.spec !== undefined])).toEqual([
      ['acme/all-csv', 'acme', 'all-csv', true],
      ['acme/batch-status', 'acme', 'batch-status', true],
      ['acme/broken', 'acme', 'broken', false],
      ['bravo/lims', 'bravo', 'lims', true],
    ]);
    expect(all.diagnostics).toEqual([expect.objectContaining({ code: 'E_UNKNOWN_KEY', file: join(dir, 'acme', 'broken.yaml') })]);
    expect(all.mappings[2].match).toEqual(['BROKEN_*.csv']);
    expect(loadMappings(dir, 'bravo').mappings.map((m) => m.name)).toEqual(['bravo/lims']);
    expect(loadMappings(dir, 'nobody')).toEqual({ mappings: [], diagnostics: [] });
  });
});

describe('selectFeed', () => {
  const { mappings } = loadMappings(tree(), 'acme');

  it('picks the first mapping whose glob matches, case-insensitively, by base name', () => {
    expect(selectFeed(mappings, 'chargenstatus_20261119.CSV')?.feed).toBe('all-csv'); // file order: all-csv sorts first
    expect(selectFeed(mappings, 'Chargenstatus_1.csv', ['batch-status', 'all-csv'])?.feed).toBe('batch-status');
    expect(selectFeed(mappings, '/inbound/sub/Chargenstatus_1.csv', ['batch-status'])?.feed).toBe('batch-status');
    expect(selectFeed(mappings, 'report.pdf')).toBeUndefined();
    expect(selectFeed(mappings, 'Chargenstatus_1.csv', ['unknown-feed'])).toBeUndefined();
  });

  it('returns a broken mapping when its globs match, so the caller can say so', () => {
    const hit = selectFeed(mappings, 'BROKEN_1.csv', ['broken']);
    expect(hit?.feed).toBe('broken');
    expect(hit?.spec).toBeUndefined();
  });
});

describe('MappingCatalog', () => {
  it('selects and compiles a feed once, reports broken mappings, describes accepted names', () => {
    const dir = tree();
    const catalog = new MappingCatalog(dir);
    const acme = partner('acme', ['batch-status', 'broken']);
    const sel = catalog.select(acme, 'batch_status_7.csv') as SelectedFeed;
    expect(sel.name).toBe('acme/batch-status');
    expect(sel.compiled.hash).toBe(sel.hash);
    expect(catalog.select(acme, 'batch_status_8.csv')).toMatchObject({ compiled: sel.compiled });
    const broken = catalog.select(acme, 'BROKEN_1.csv') as InvalidFeed;
    expect('diagnostics' in broken).toBe(true);
    expect(broken.diagnostics[0]).toMatch(/broken\.yaml:7:\d+: error E_UNKNOWN_KEY: unknown key 'requird'/);
    expect(catalog.select(acme, 'other.csv')).toBeUndefined(); // all-csv is not among the partner's feeds
    expect(catalog.describe(acme)).toBe('batch-status: Chargenstatus_*.csv, batch_status_*.csv; broken: BROKEN_*.csv (mapping has errors)');
    expect(catalog.describe(partner('acme', ['gone']))).toContain('no mapping file');
  });

  it('reloads a mapping when its file changes on disk', () => {
    const dir = tree();
    const catalog = new MappingCatalog(dir);
    const acme = partner('acme', ['batch-status']);
    const before = catalog.select(acme, 'batch_status_1.csv') as SelectedFeed;
    const path = join(dir, 'acme', 'batch-status.yaml');
    writeFileSync(path, feed('acme', 'batch-status', ['Chargenstatus_*.csv', 'batch_status_*.csv', 'status_*.csv']));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const after = catalog.select(acme, 'status_1.csv') as SelectedFeed;
    expect(after.hash).not.toBe(before.hash);
    rmSync(path);
    expect(catalog.select(acme, 'status_1.csv')).toBeUndefined();
  });
});
