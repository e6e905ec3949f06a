// The .ack.csv for spreadsheet users: the partner's dialect (delimiter, UTF-8 BOM), no formula
// injection, proper quoting — checked by parsing it back as a spreadsheet would.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { PartnerFileError, parsePartnerText } from '../../pipeline/config/partners.js';
import { ackCsvDialect, ackToCsv, buildAck } from '../../pipeline/ingest/ack.js';
import { closeWorlds, makeWorld } from '../jobs/helpers/world.js';

afterEach(() => closeWorlds());

const hostile = buildAck({
  submissionId: 7,
  partner: 'acme-cmo',
  file: '=HYPERLINK("http://evil.example","click");x.csv',
  sha256: 'ab'.repeat(32),
  receivedAt: '2026-11-19T07:15:02.123Z',
  state: 'applied_with_errors',
  counts: { rows: 3, applied: 1, rejected: 2, filtered: 0, superseded: 0 },
  errors: [
    { line: 2, column: 3, field: 'status', code: 'E_UNMAPPED_CODE', message: '+SUM(A1:A9) is not a status' },
    { line: 3, field: 'lot', code: 'E_UNKNOWN_LOT', message: '@cmd|"/c calc"!A1; -1+1\nnext line' },
    { line: 4, code: 'E_BAD_DATE', message: '\tTabbed' },
  ],
});

function cells(text: string, delimiter: string): string[][] {
  return parse(text.replace(/^\uFEFF/, ''), { delimiter, relax_column_count: true, skip_empty_lines: true }) as string[][];
}

describe('.ack.csv', () => {
  for (const delimiter of [',', ';', '\t', '|'] as const) {
    it(`neutralises formulas and quotes properly with delimiter ${JSON.stringify(delimiter)}`, () => {
      const text = ackToCsv(hostile, { delimiter, bom: false });
      const rows = cells(text, delimiter);
      expect(rows[0]).toEqual(['file', 'state', 'rows', 'applied', 'rejected', 'filtered', 'superseded', 'sha256', 'receivedAt', 'message']);
      expect(rows[1][0]).toBe(`'${hostile.file}`);
      expect(rows[1].slice(1, 5)).toEqual(['applied_with_errors', '3', '1', '2']);
      expect(rows[3].map((r) => r)).toEqual(['2', '3', 'status', 'E_UNMAPPED_CODE', "'+SUM(A1:A9) is not a status"]);
      expect(rows[4]).toEqual(['3', '', 'lot', 'E_UNKNOWN_LOT', '\'@cmd|"/c calc"!A1; -1+1\nnext line']);
      expect(rows[5][4]).toBe("'\tTabbed");
      // No cell a spreadsheet would evaluate.
      for (const r of rows) for (const c of r) expect(c).not.toMatch(/^[=+\-@\t\r]/);
      expect(text.startsWith('\uFEFF')).toBe(false);
      expect(text.endsWith('\r\n')).toBe(true);
    });
  }

  it('starts with a UTF-8 byte order mark when asked', () => {
    const text = ackToCsv(hostile, { delimiter: ';', bom: true });
    expect(Buffer.from(text, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(cells(text, ';')[0][0]).toBe('file');
  });

  it("takes the partner's setting, else its feed's delimiter, else a comma", () => {
    expect(ackCsvDialect({ csvDelimiter: ';', bom: true }, ',')).toEqual({ delimiter: ';', bom: true });
    expect(ackCsvDialect(undefined, ';')).toEqual({ delimiter: ';', bom: false });
    expect(ackCsvDialect({ bom: true }, '\t')).toEqual({ delimiter: '\t', bom: true });
    expect(ackCsvDialect(undefined, undefined)).toEqual({ delimiter: ',', bom: false });
    expect(ackCsvDialect(undefined, '#')).toEqual({ delimiter: ',', bom: false });
  });

  it('refuses an unknown ack option or delimiter in a partner file, with the line', () => {
    const base = 'id: acme-x\nname: X\nrole: cmo\n';
    expect(parsePartnerText(`${base}ack: { csvDelimiter: ";", bom: true }\n`, 'partners/acme-x.yaml').ack).toEqual({ csvDelimiter: ';', bom: true });
    expect(() => parsePartnerText(`${base}ack:\n  csvDelimiter: "#"\n`, 'partners/acme-x.yaml')).toThrow(PartnerFileError);
    expect(() => parsePartnerText(`${base}ack:\n  csvDelimiter: "#"\n`, 'partners/acme-x.yaml')).toThrow(/acme-x\.yaml:5:\d+: \/ack\/csvDelimiter/);
    expect(() => parsePartnerText(`${base}ack:\n  delimiter: ";"\n`, 'partners/acme-x.yaml')).toThrow(/\(delimiter\)/);
  });

  it("writes a partner's acks in its dialect: acme-cmo (';' + BOM configured), bravo-lab (its feed's ',')", async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const [status] = await w.ingest('acme-cmo', ['Chargenstatus_20261119.csv']);
    const acme = readFileSync(status.ackPath.replace(/\.json$/, '.csv'));
    expect(acme.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = cells(acme.toString('utf8'), ';');
    expect(rows[1].slice(0, 2)).toEqual(['Chargenstatus_20261119.csv', status.state]);
    // A partner without a setting gets its feed's delimiter and no BOM; a ';' feed gives ';'.
    const erpCsv = readFileSync(path.join(w.config.dropDir, 'erp', 'outbound', 'ZMM_BATCHES_20261120.csv.ack.csv'), 'utf8');
    expect(erpCsv.startsWith('\uFEFF')).toBe(false);
    expect(erpCsv.split('\r\n')[0]).toBe('file;state;rows;applied;rejected;filtered;superseded;sha256;receivedAt;message');
    const [lab] = await w.ingest('bravo-lab', ['LIMS_SUMMARY_20261118.csv']);
    expect(readFileSync(lab.ackPath.replace(/\.json$/, '.csv'), 'utf8').split('\r\n')[0]).toBe('file,state,rows,applied,rejected,filtered,superseded,sha256,receivedAt,message');
  });
});
