// The detectors behind `lotgate mapping suggest`, one by one.

import { describe, expect, it } from 'vitest';
import { detectBlocks, detectColumnType, detectDelimiter, detectHeader, detectQuote, numberFormat } from '../../pipeline/mapping/draft/detect.js';
import { guessRecord, type ColumnInfo } from '../../pipeline/mapping/draft/fields.js';
import { detectEncoding } from '../../pipeline/mapping/draft/sample.js';
import { feedName, matchPattern } from '../../pipeline/mapping/draft/suggest-mapping.js';

const rows = (lines: string[], d = ';') => lines.map((l, i) => ({ line: i + 1, cells: l.split(d) }));

describe('encoding', () => {
  it('BOM, valid UTF-8, else Windows-1252', () => {
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x41]), false).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.from([0xff, 0xfe, 0x41, 0]), false).encoding).toBe('utf-16le');
    expect(detectEncoding(Buffer.from('Prüfung;Wert\n', 'utf8'), false).encoding).toBe('utf-8');
    expect(detectEncoding(Buffer.from('Pr\xfcfung;Wert\n', 'latin1'), false).encoding).toBe('windows-1252');
    // A head cut inside a UTF-8 character is still UTF-8.
    expect(detectEncoding(Buffer.from('aä', 'utf8').subarray(0, 2), true).encoding).toBe('utf-8');
  });
});

describe('delimiter and quote', () => {
  it('picks the delimiter that splits most lines alike, quoted delimiters not counted', () => {
    expect(detectDelimiter(['a;b;c', '1;2,5;3', '4;5,5;6']).value).toBe(';');
    expect(detectDelimiter(['a,b,c', '"x, y",2,3', 'z,5,6']).value).toBe(',');
    expect(detectDelimiter(['a\tb', '1\t2']).value).toBe('\t');
    expect(detectDelimiter(['a|b|c', '1|2|3']).value).toBe('|');
    expect(detectDelimiter(['just text']).confidence).toBe('low');
    expect(detectQuote(['a,b', '"x, y",2'], ',').value).toBe('"');
  });
});

describe('header row', () => {
  it('skips titles, blank lines and key/value lines', () => {
    const r = rows(['Report;;;', ';;;', 'Sample ID:;S-1;Run:;04.02.2026', 'Analyte;Result;Unit', 'Pb;0,1;mg/kg', 'Cd;0,2;mg/kg']);
    expect(detectHeader(r)?.value).toBe(4);
  });
  it('a header on the first line', () => {
    expect(detectHeader(rows(['Lot,Qty', 'L-1,5', 'L-2,6'], ','))).toMatchObject({ value: 1, confidence: 'high' });
  });
  it('a title merged across the columns is not the header', () => {
    expect(detectHeader(rows(['T;T;T', 'Lot;Qty;Exp', 'L-1;5;2029-01-01', 'L-2;6;2029-01-01']))?.value).toBe(2);
  });
  it('none', () => expect(detectHeader(rows(['hello', 'world']))).toBeUndefined());
});

describe('key/value blocks', () => {
  it('"Label:" then a value, and "Label: value" in one cell; times are not labels', () => {
    expect(detectBlocks([{ line: 1, cells: ['Sample ID:', 'S-1', 'Run:', '04.02.2026 09:15'] }, { line: 2, cells: ['Lot: L-77', '09:15'] }])).toEqual([
      { label: 'Sample ID', value: 'S-1', line: 1 },
      { label: 'Run', value: '04.02.2026 09:15', line: 1 },
      { label: 'Lot', value: 'L-77', line: 2 },
    ]);
  });
});

describe('column types', () => {
  it('numbers with their separators', () => {
    expect(numberFormat(['1,5', '2'])).toMatchObject({ decimal: ',', thousands: '' });
    expect(numberFormat(['1.234,5'])).toMatchObject({ decimal: ',', thousands: '.' });
    expect(numberFormat(['120,000.000'])).toMatchObject({ decimal: '.', thousands: ',' });
    expect(detectColumnType(['1,5', '2,25']).value).toEqual({ type: 'number', decimal: ',', thousands: '' });
  });
  it('lab results: numbers and qualified values', () => {
    expect(detectColumnType(['0.12', '<0.05', 'ND']).value).toEqual({ type: 'result', decimal: '.' });
  });
  it('dates and datetimes with their pattern; day/month order from a day above 12, else flagged', () => {
    expect(detectColumnType(['24.12.2026', '01.02.2027']).value).toEqual({ type: 'date', format: 'dd.MM.yyyy' });
    expect(detectColumnType(['12/24/2026', '01/02/2027']).value).toEqual({ type: 'date', format: 'MM/dd/yyyy' });
    expect(detectColumnType(['01/02/2027']).value).toMatchObject({ type: 'date', ambiguous: expect.any(String) });
    expect(detectColumnType(['04.02.2026 09:15']).value).toEqual({ type: 'datetime', format: 'dd.MM.yyyy HH:mm' });
    expect(detectColumnType(['2026-10-15T16:45:00', '2029-09-30']).value).toEqual({ type: 'datetime', format: ["yyyy-MM-dd'T'HH:mm:ss", 'yyyy-MM-dd'] });
    expect(detectColumnType(['10/20/26 9:42 AM', '2026-11-03 14:20']).value).toEqual({ type: 'datetime', format: ['yyyy-MM-dd HH:mm', 'M/d/yy h:mm a'] });
    expect(detectColumnType(['09:20', '10:05']).value).toEqual({ type: 'time', format: 'HH:mm' });
    expect(detectColumnType(['20261120']).value).toMatchObject({ type: 'date', format: 'yyyyMMdd' });
  });
  it('text and empty', () => {
    expect(detectColumnType(['AC-1']).value).toEqual({ type: 'text' });
    expect(detectColumnType(['', ' ']).value).toEqual({ type: 'empty' });
  });
});

describe('fields and record kind', () => {
  const col = (index: number, header: string, values: string[], occurrence = 1): ColumnInfo => ({ index, header, occurrence, values, type: detectColumnType(values) });
  it('test results from header words (English and German), status values mapped', () => {
    const g = guessRecord([col(0, 'Charge', ['AC-1']), col(1, 'Prüfparameter', ['Assay']), col(2, 'Ergebnis', ['99.1']), col(3, 'Einheit', ['%']), col(4, 'Status', ['Final', 'Odd'])], []);
    expect(g.kind).toBe('test_result');
    expect(g.fields.map((f) => f.name)).toEqual(['batch', 'testCode', 'result', 'unit', 'resultStatus']);
    expect(g.fields.find((f) => f.name === 'resultStatus')).toMatchObject({ map: { Final: 'final' }, unplaced: ['Odd'] });
  });
  it('lots when nothing else fits; a date field only from a date column', () => {
    const g = guessRecord([col(0, 'Lot', ['L-1']), col(1, 'Expiry', ['soon']), col(2, 'Qty', ['5'])], []);
    expect(g.kind).toBe('lot');
    expect(g.fields.map((f) => f.name)).toEqual(['lotNumber', 'quantity']);
    expect(g.unclaimed.map((c) => c.header)).toEqual(['Expiry']);
  });
  it('element-symbol columns as allExcept', () => {
    const g = guessRecord([col(0, 'Sample', ['S-1']), col(1, 'Pb', ['0.1']), col(2, 'Cd', ['<0.01', '0.02']), col(3, 'Hg', ['0.2'])], []);
    expect(g.each?.allExcept).toEqual(['Sample']);
  });
  it('file names: match pattern and feed name', () => {
    expect(matchPattern('LIMS_EXPORT_20261118_0200.csv')).toBe('LIMS_EXPORT_*.csv');
    expect(matchPattern('Chargenstatus_20261119.xlsx')).toBe('Chargenstatus_*.xlsx');
    expect(feedName('LIMS_EXPORT_20261118_0200.csv')).toBe('lims-export');
    expect(feedName('2026.csv')).toBe('feed');
  });
});

describe('ambiguous thousands', () => {
  it('"239.850" alone follows the file convention; with decimal commas it groups thousands', () => {
    expect(numberFormat(['239.850'], ',')).toMatchObject({ decimal: ',', thousands: '.' });
    expect(numberFormat(['239.850'], '.')).toMatchObject({ decimal: '.', thousands: '' });
    expect(numberFormat(['239.850', '1,5'])).toMatchObject({ decimal: ',', thousands: '.' });
    expect(numberFormat(['239.850', '1.25'])).toMatchObject({ decimal: '.', thousands: '' });
    expect(numberFormat(['1.239.850'])).toMatchObject({ decimal: ',', thousands: '.' });
  });
});
