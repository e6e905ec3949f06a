import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ignoredReason, inboundFileOf, parseStagedName, stagedName } from '../../pipeline/intake/names.js';
import { watchedPath } from '../../pipeline/intake/watcher.js';

describe('ignoredReason', () => {
  it.each([
    ['.hidden.csv', /hidden/],
    ['.batch.csv.swp', /hidden/],
    ['batch.csv.part', /temporary/],
    ['batch.csv.filepart', /temporary/],
    ['batch.CSV.TMP', /temporary/],
    ['~$report.xlsx', /lock/],
    ['batch.csv.ack.json', /acknowledgment/],
    ['batch.csv.ack.csv', /acknowledgment/],
    ['', /plain/],
    ['a/b.csv', /plain/],
  ])('%s is not taken', (name, why) => {
    expect(ignoredReason(name)).toMatch(why);
  });

  it.each(['batch_status_20260301.csv', 'LIMS export (1).CSV', 'coa_L2026-0001_v2.pdf', 'part.csv', 'tmp', 'file.json', '~report.csv'])('%s is taken', (name) => {
    expect(ignoredReason(name)).toBeNull();
  });
});

describe('staged names', () => {
  it('round-trips the original name and receivedAt, whatever the name contains', () => {
    for (const name of ['a.csv', 'with~tilde.csv', 'x-1-2~3.csv', 'Ümlaut ß.csv']) {
      const ms = Date.UTC(2026, 2, 1, 12, 30, 15, 123);
      expect(parseStagedName(stagedName(name, ms, 'a1b2c3'))).toEqual({ originalName: name, receivedAtMs: ms });
    }
  });

  it('does not parse names it did not make', () => {
    expect(parseStagedName('plain.csv')).toBeNull();
    expect(parseStagedName('ZZ-x~a.csv')).toBeNull();
  });
});

describe('inboundFileOf / watchedPath', () => {
  const drop = path.join('/srv', 'drop');
  it('recognises exactly <partner>/inbound/<file>', () => {
    expect(inboundFileOf(drop, path.join(drop, 'acme-cmo', 'inbound', 'a.csv'))).toEqual({ partner: 'acme-cmo', name: 'a.csv' });
    expect(inboundFileOf(drop, path.join(drop, 'acme-cmo', 'outbound', 'a.csv'))).toBeNull();
    expect(inboundFileOf(drop, path.join(drop, 'acme-cmo', 'inbound', 'sub', 'a.csv'))).toBeNull();
    expect(inboundFileOf(drop, path.join(drop, 'acme-cmo', '.intake', 'a.csv'))).toBeNull();
    expect(inboundFileOf(drop, path.join('/srv', 'elsewhere', 'acme-cmo', 'inbound', 'a.csv'))).toBeNull();
    expect(inboundFileOf(drop, path.join(drop, '.hidden', 'inbound', 'a.csv'))).toBeNull();
  });

  it('descends only into partner folders and their inbound/', () => {
    expect(watchedPath(drop, drop)).toBe(true);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo'))).toBe(true);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo', 'inbound'))).toBe(true);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo', 'inbound', 'a.csv'))).toBe(true);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo', 'outbound'))).toBe(false);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo', '.quarantine'))).toBe(false);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo', '.intake'))).toBe(false);
    expect(watchedPath(drop, path.join(drop, 'acme-cmo', 'inbound', 'sub', 'x'))).toBe(false);
    expect(watchedPath(drop, '/etc')).toBe(false);
  });
});
