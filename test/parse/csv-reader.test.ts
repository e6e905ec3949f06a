import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import type { CsvDialect } from '../../pipeline/mapping/spec.js';
import { readCsv, type CsvItem } from '../../pipeline/parse/csv-reader.js';
import { chunked, collect, countingSource, fileErrorOf, gcFunction, liveHeap } from './helpers.js';

async function items(text: string | Buffer, dialect: CsvDialect = {}, chunk = 0, opts = {}): Promise<CsvItem[]> {
  return collect(readCsv(chunked(text, chunk), dialect, opts));
}

/** Items must not depend on where the chunk boundaries fall. */
async function itemsAnyChunking(text: string | Buffer, dialect: CsvDialect = {}): Promise<CsvItem[]> {
  const whole = await items(text, dialect);
  for (const size of [1, 2, 3, 5, 7, 64]) expect(await items(text, dialect, size), `chunk size ${size}`).toEqual(whole);
  return whole;
}

const rowsOf = (xs: CsvItem[]) => xs.filter((x) => x.kind === 'row').map((x) => (x as { values: string[] }).values);

describe('readCsv: structure and line numbers', () => {
  it('yields the header, then rows with the physical line they start on', async () => {
    const text = 'lot,qty,note\n' + 'A1,5,"two\nlines"\n' + '\n' + 'A2,6,x\r\n' + 'A3,7,"a\r\nb"\r\n' + 'A4,8,y';
    expect(await itemsAnyChunking(text)).toEqual([
      { kind: 'header', line: 1, values: ['lot', 'qty', 'note'] },
      { kind: 'row', line: 2, values: ['A1', '5', 'two\nlines'] },
      { kind: 'row', line: 5, values: ['A2', '6', 'x'] },
      { kind: 'row', line: 6, values: ['A3', '7', 'a\r\nb'] },
      { kind: 'row', line: 8, values: ['A4', '8', 'y'] },
    ]);
  });

  it('accepts LF, CRLF and lone-CR line ends, mixed in one file', async () => {
    expect(await itemsAnyChunking('a,b\r1,2\r\n3,4\n5,6\r')).toEqual([
      { kind: 'header', line: 1, values: ['a', 'b'] },
      { kind: 'row', line: 2, values: ['1', '2'] },
      { kind: 'row', line: 3, values: ['3', '4'] },
      { kind: 'row', line: 4, values: ['5', '6'] },
    ]);
  });

  it('skips preamble lines above headerRow without parsing them (a stray quote there is harmless)', async () => {
    const text = 'Batch report "Q1\nExported 2024-05-01;by "system\nCharge;Menge\nB-1;12,5\n';
    expect(await itemsAnyChunking(text, { delimiter: ';', headerRow: 3 })).toEqual([
      { kind: 'header', line: 3, values: ['Charge', 'Menge'] },
      { kind: 'row', line: 4, values: ['B-1', '12,5'] },
    ]);
  });

  it('counts CRLF preamble lines once each', async () => {
    const out = await itemsAnyChunking('x\r\ny\r\nh1,h2\r\n1,2\r\n', { headerRow: 3 });
    expect(out[0]).toEqual({ kind: 'header', line: 3, values: ['h1', 'h2'] });
    expect(out[1]).toEqual({ kind: 'row', line: 4, values: ['1', '2'] });
  });

  it('skips comment lines (quotes in them are harmless), but a comment character inside a value is data', async () => {
    const text = '# exported by "LIMS\nlot,note\n#A1,ignored\nA2,Lot #5 ok\n  # indented\nA3,"x\n# not a comment: inside quotes"\nA4,y\n';
    const expected = [
      { kind: 'header', line: 2, values: ['lot', 'note'] },
      { kind: 'row', line: 4, values: ['A2', 'Lot #5 ok'] },
      { kind: 'row', line: 6, values: ['A3', 'x\n# not a comment: inside quotes'] },
      { kind: 'row', line: 8, values: ['A4', 'y'] },
    ];
    // csv-parse trims leading blanks before it looks for the comment prefix, so with trim on an indented "#" line is a comment too.
    expect(await itemsAnyChunking(text, { comment: '#' })).toEqual(expected);
    expect(await itemsAnyChunking(text, { comment: '#', trim: false })).toEqual([
      ...expected.slice(0, 2),
      { kind: 'error', line: 5, code: 'E_RAGGED_ROW', message: expect.stringContaining('Expected 2 columns') },
      ...expected.slice(2),
    ]);
  });

  it('multi-character comment prefixes and delimiters work across chunk boundaries', async () => {
    const text = '//c1\na||b\n//c2\n1||"x||y"\n';
    expect(await itemsAnyChunking(text, { comment: '//', delimiter: '||' })).toEqual([
      { kind: 'header', line: 2, values: ['a', 'b'] },
      { kind: 'row', line: 4, values: ['1', 'x||y'] },
    ]);
  });

  it('headerRow 0 synthesizes "1","2",… at line 0 and keeps the first line as a row', async () => {
    expect(await itemsAnyChunking('A1,5\nA2,6\n', { headerRow: 0 })).toEqual([
      { kind: 'header', line: 0, values: ['1', '2'] },
      { kind: 'row', line: 1, values: ['A1', '5'] },
      { kind: 'row', line: 2, values: ['A2', '6'] },
    ]);
  });

  it('a file with a header and no rows yields just the header', async () => {
    expect(await items('a,b\n')).toEqual([{ kind: 'header', line: 1, values: ['a', 'b'] }]);
  });
});

describe('readCsv: values', () => {
  it('trims blanks around values by default, never inside quotes', async () => {
    expect(rowsOf(await itemsAnyChunking('a,b,c\n  x  ,\t"  y  " , z\t\n'))).toEqual([['x', '  y  ', 'z']]);
  });

  it('trim: false keeps blanks; a quote after blanks is then an ordinary character', async () => {
    expect(rowsOf(await itemsAnyChunking('a,b\n  x  , "y"\n', { trim: false }))).toEqual([['  x  ', ' "y"']]);
  });

  it('a tab delimiter is not trimmed away', async () => {
    expect(rowsOf(await itemsAnyChunking('a\tb\tc\n1\t\t 3 \n', { delimiter: '\t' }))).toEqual([['1', '', '3']]);
  });

  it('doubled quotes, delimiters and line breaks inside quotes', async () => {
    expect(rowsOf(await itemsAnyChunking('a,b\n"say ""hi""","x,y\nz"\n'))).toEqual([['say "hi"', 'x,y\nz']]);
  });

  it('a quote inside an unquoted value is kept as data (12" pipe)', async () => {
    expect(rowsOf(await itemsAnyChunking('item,qty\n12" pipe,3\n'))).toEqual([['12" pipe', '3']]);
  });

  it('supports another quote character, no quoting, and a backslash escape', async () => {
    expect(rowsOf(await itemsAnyChunking("a;b\n'x;y';2\n", { delimiter: ';', quote: "'" }))).toEqual([['x;y', '2']]);
    expect(rowsOf(await itemsAnyChunking('a,b\n"x",2\n', { quote: '' }))).toEqual([['"x"', '2']]);
    expect(rowsOf(await itemsAnyChunking('a,b\n"x\\"y\\\\z",2\n', { escape: '\\' }))).toEqual([['x"y\\z', '2']]);
  });

  it('skips rows that are entirely empty by default, keeps them with skipEmptyRows: false', async () => {
    const text = 'a,b\n1,2\n,\n  ,  \n"",""\n3,4\n';
    expect(rowsOf(await itemsAnyChunking(text))).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(rowsOf(await itemsAnyChunking(text, { skipEmptyRows: false }))).toEqual([
      ['1', '2'],
      ['', ''],
      ['', ''],
      ['', ''],
      ['3', '4'],
    ]);
  });

  it('a trailing delimiter at end of file makes a last empty value', async () => {
    expect(rowsOf(await itemsAnyChunking('a,b\n1,'))).toEqual([['1', '']]);
  });
});

describe('readCsv: bad rows are reported and reading goes on', () => {
  it('ragged rows become E_RAGGED_ROW items with expected and found counts', async () => {
    const out = await itemsAnyChunking('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n');
    expect(out.map((x) => x.kind)).toEqual(['header', 'row', 'error', 'error', 'row']);
    expect(out[2]).toMatchObject({ kind: 'error', line: 3, code: 'E_RAGGED_ROW' });
    expect((out[2] as { message: string }).message).toMatch(/Expected 3 columns .*found 2/);
    expect(out[3]).toMatchObject({ kind: 'error', line: 4, code: 'E_RAGGED_ROW' });
    expect((out[3] as { message: string }).message).toMatch(/found 4/);
    expect(out[4]).toEqual({ kind: 'row', line: 5, values: ['10', '11', '12'] });
  });

  // csv-parse stops at text after a closing quote (with trim on) and has no option to drop just that record, so this is fatal now.
  it('text after a closing quote is a fatal E_CSV_QUOTE with line and column; rows before it are delivered', async () => {
    for (const size of [0, 1, 3]) {
      const seen: CsvItem[] = [];
      const err = await fileErrorOf(
        (async function* () {
          for await (const x of readCsv(chunked('a,b,c\n1,2,3\n"4\n4",5,6\n7,"x"y,9\n10,11,12\n', size))) {
            seen.push(x);
            yield x;
          }
        })(),
        'E_CSV_QUOTE',
      );
      expect(err.line).toBe(5);
      expect(err.column).toBe(2);
      expect(err.message).toMatch(/after a closing quote in column 2 of the record starting at line 5/);
      expect(seen.map((x) => x.line)).toEqual([1, 2, 3]);
    }
  });

  it('with trim off, text after a closing quote is kept as data (csv-parse relax_quotes)', async () => {
    expect(rowsOf(await itemsAnyChunking('a,b,c\n1,"x"y,3\n', { trim: false }))).toEqual([['1', '"x"y', '3']]);
  });

  it('the same problem in the header row names the header row', async () => {
    const err = await fileErrorOf(readCsv(chunked('"lot"x,qty\n1,2\n')), 'E_CSV_QUOTE');
    expect(err.line).toBe(1);
    expect(err.column).toBe(1);
    expect(err.message).toMatch(/header row starting at line 1/);
  });
});

describe('readCsv: fatal problems', () => {
  it('an unclosed quote throws E_CSV_QUOTE at the line and column where the quote opened', async () => {
    const text = 'a,b,c\n1,2,3\n4,5,"never closed\n7,8,9\n10,11,12\n';
    for (const size of [0, 1, 4]) {
      const err = await fileErrorOf(readCsv(chunked(text, size)), 'E_CSV_QUOTE');
      expect(err.line).toBe(3);
      expect(err.column).toBe(3);
      // csv-parse tells which value is open but not where its quote was, so the message names the record's first line.
      expect(err.message).toMatch(/column 3 of the record starting at line 3 is never closed/);
    }
  });

  it('an unclosed quote after a multi-line value is located at the record start', async () => {
    const err = await fileErrorOf(readCsv(chunked('a,b,c\r\n1,"x\r\ny",3\r\n4,"p\r\nq","open\r\n7,8,9\r\n')), 'E_CSV_QUOTE');
    expect(err.line).toBe(4);
    expect(err.column).toBe(3);
  });

  it('rows before the unclosed quote were already yielded', async () => {
    const seen: CsvItem[] = [];
    await fileErrorOf(
      (async function* () {
        for await (const x of readCsv(chunked('a,b\n1,2\n"3,4\n'))) {
          seen.push(x);
          yield x;
        }
      })(),
      'E_CSV_QUOTE',
    );
    expect(seen).toEqual([
      { kind: 'header', line: 1, values: ['a', 'b'] },
      { kind: 'row', line: 2, values: ['1', '2'] },
    ]);
  });

  it('rows in the same chunk before a fatal error are delivered first', async () => {
    const seen: CsvItem[] = [];
    await fileErrorOf(
      (async function* () {
        for await (const x of readCsv(chunked(`a,b\n1,2\n${'x'.repeat(5000)}\n3,4\n`), {}, { maxRecordBytes: 1000 })) {
          seen.push(x);
          yield x;
        }
      })(),
      'E_RECORD_TOO_LARGE',
    );
    expect(seen.map((x) => x.kind)).toEqual(['header', 'row']);
  });

  it('invalid dialects are E_DIALECT', async () => {
    await fileErrorOf(readCsv(chunked('a\n'), { delimiter: '' }), 'E_DIALECT');
    await fileErrorOf(readCsv(chunked('a\n'), { delimiter: '"' }), 'E_DIALECT');
    await fileErrorOf(readCsv(chunked('a\n'), { quote: '""' }), 'E_DIALECT');
    await fileErrorOf(readCsv(chunked('a\n'), { headerRow: -1 }), 'E_DIALECT');
    await fileErrorOf(readCsv(chunked('a\n'), { headerRow: 1.5 }), 'E_DIALECT');
  });

  it('only preamble, comments or blank lines → E_EMPTY_FILE naming the header row', async () => {
    const err = await fileErrorOf(readCsv(chunked('title\nsubtitle\n'), { headerRow: 3 }), 'E_EMPTY_FILE');
    expect(err.message).toMatch(/line 3/);
    await fileErrorOf(readCsv(chunked('# only a comment\n\n'), { comment: '#' }), 'E_EMPTY_FILE');
  });
});

describe('readCsv: encodings', () => {
  const germanText = 'Charge;Menge;Bemerkung\r\nL-Ä1;1.234,5;Größe geprüft\r\nL-Ö2;0,75;Maß ±2 °C\r\n';

  it('windows-1252 with umlauts, ";" delimiter and decimal-comma values', async () => {
    const bytes = iconv.encode(germanText, 'windows-1252');
    expect(bytes.length).toBe(germanText.length); // one byte per character: really single-byte
    expect(await itemsAnyChunking(bytes, { delimiter: ';', encoding: 'windows-1252', decimal: ',' })).toEqual([
      { kind: 'header', line: 1, values: ['Charge', 'Menge', 'Bemerkung'] },
      { kind: 'row', line: 2, values: ['L-Ä1', '1.234,5', 'Größe geprüft'] },
      { kind: 'row', line: 3, values: ['L-Ö2', '0,75', 'Maß ±2 °C'] },
    ]);
  });

  it('latin1 / iso-8859-1 decode every byte', async () => {
    const bytes = Buffer.concat([Buffer.from('a\n'), Buffer.from([0xe9, 0xff, 0x0a])]);
    expect(rowsOf(await items(bytes, { encoding: 'ISO-8859-1' }))).toEqual([['éÿ']]);
  });

  it('the same windows-1252 bytes declared as UTF-8 → E_ENCODING at the right line, telling what to fix', async () => {
    const bytes = iconv.encode(germanText, 'windows-1252');
    for (const size of [0, 1, 13]) {
      const err = await fileErrorOf(readCsv(chunked(bytes, size), { delimiter: ';' }), 'E_ENCODING');
      expect(err.line).toBe(2);
      expect(err.message).toMatch(/utf-8/);
      expect(err.message).toMatch(/dialect\.encoding/);
      expect(err.message).toMatch(/re-export/);
    }
  });

  it('UTF-8 declared as windows-1252 fails on a byte windows-1252 does not define', async () => {
    // "Á" is C3 81 in UTF-8; 0x81 has no windows-1252 character.
    const err = await fileErrorOf(readCsv(chunked('a\nx\nÁ\n'), { encoding: 'windows-1252' }), 'E_ENCODING');
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/0x81/);
  });

  it('UTF-16LE with BOM, declared utf-16 or utf-16le', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('lot,Größe\nA1,Ω 5\n', 'utf16le')]);
    for (const encoding of ['utf-16', 'utf-16le', 'UTF16LE']) {
      expect(await itemsAnyChunking(bytes, { encoding })).toEqual([
        { kind: 'header', line: 1, values: ['lot', 'Größe'] },
        { kind: 'row', line: 2, values: ['A1', 'Ω 5'] },
      ]);
    }
  });

  it('UTF-16BE with BOM, declared utf-16', async () => {
    const bytes = Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode('lot\n😀 A1\n', 'utf16be')]);
    expect(rowsOf(await itemsAnyChunking(bytes, { encoding: 'utf-16' }))).toEqual([['😀 A1']]);
  });

  it('a BOM that contradicts the declared encoding → E_ENCODING', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('a\n1\n', 'utf16le')]);
    const e1 = await fileErrorOf(readCsv(chunked(utf16), { encoding: 'windows-1252' }), 'E_ENCODING');
    expect(e1.message).toMatch(/UTF-16LE byte order mark.*windows-1252/);
    await fileErrorOf(readCsv(chunked(utf16)), 'E_ENCODING');
    await fileErrorOf(readCsv(chunked(utf16), { encoding: 'utf-16be' }), 'E_ENCODING');
    await fileErrorOf(readCsv(chunked(Buffer.from('\ufeffa\n1\n')), { encoding: 'latin1' }), 'E_ENCODING');
  });

  it('utf-16 without a BOM cannot be read (byte order would be a guess)', async () => {
    const err = await fileErrorOf(readCsv(chunked(iconv.encode('a\n1\n', 'utf16le')), { encoding: 'utf-16' }), 'E_ENCODING');
    expect(err.message).toMatch(/utf-16le or utf-16be/);
  });

  it('a UTF-8 BOM is stripped, also when it arrives byte by byte', async () => {
    const bytes = Buffer.from('\ufeffLot,Qty\nA1,5\n', 'utf8');
    expect(await itemsAnyChunking(bytes)).toEqual([
      { kind: 'header', line: 1, values: ['Lot', 'Qty'] },
      { kind: 'row', line: 2, values: ['A1', '5'] },
    ]);
  });

  it('multi-byte UTF-8 characters split across chunks decode intact', async () => {
    expect(rowsOf(await itemsAnyChunking('n\nµg/mL – 😀 ✓\n'))).toEqual([['µg/mL – 😀 ✓']]);
  });

  it('invalid UTF-8 → E_ENCODING with the line, however the bytes are chunked', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,2\n"x\ny",3\n4,'), Buffer.from([0xc3, 0x28]), Buffer.from(',5\n')]);
    for (const size of [0, 1, 2, 3, 9]) {
      const err = await fileErrorOf(readCsv(chunked(bytes, size)), 'E_ENCODING');
      expect(err.line).toBe(5); // line 3–4 is one record with a line break inside quotes
    }
  });

  it('a file cut off in the middle of a UTF-8 character → E_ENCODING', async () => {
    const bytes = Buffer.concat([Buffer.from('a\nb'), Buffer.from([0xe2, 0x82])]);
    const err = await fileErrorOf(readCsv(chunked(bytes, 1)), 'E_ENCODING');
    expect(err.line).toBe(2);
  });

  it('an unsupported encoding name → E_ENCODING listing the supported ones', async () => {
    const err = await fileErrorOf(readCsv(chunked('a\n'), { encoding: 'ebcdic' }), 'E_ENCODING');
    expect(err.message).toMatch(/windows-1252/);
  });
});

describe('readCsv: not a CSV at all', () => {
  it('NUL bytes → E_BINARY "does not look like a text file" with the line', async () => {
    const bytes = Buffer.concat([Buffer.from('a,b\n1,2\n'), Buffer.from([0x00, 0x01, 0x02])]);
    const err = await fileErrorOf(readCsv(chunked(bytes)), 'E_BINARY');
    expect(err.message).toMatch(/does not look like a text file/);
    expect(err.line).toBe(3);
    await fileErrorOf(readCsv(chunked(bytes), { encoding: 'windows-1252' }), 'E_BINARY');
  });

  it('a PDF or an Excel workbook on a CSV feed is named as such', async () => {
    const pdf = await fileErrorOf(readCsv(chunked('%PDF-1.7\n%âãÏÓ\n1 0 obj\n')), 'E_BINARY');
    expect(pdf.message).toMatch(/PDF document/);
    const xlsx = await fileErrorOf(readCsv(chunked(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0, 8, 0, 0, 0, 0x21, 0]))), 'E_BINARY');
    expect(xlsx.message).toMatch(/xlsx/);
  });

  it('empty: 0 bytes, no chunks at all, only a BOM, only blank lines → E_EMPTY_FILE', async () => {
    await fileErrorOf(readCsv(chunked(Buffer.alloc(0))), 'E_EMPTY_FILE');
    await fileErrorOf(
      readCsv((async function* () {})()),
      'E_EMPTY_FILE',
    );
    await fileErrorOf(readCsv(chunked(Buffer.from([0xef, 0xbb, 0xbf]))), 'E_EMPTY_FILE');
    await fileErrorOf(readCsv(chunked(' \r\n\t\n\n', 1)), 'E_EMPTY_FILE');
    await fileErrorOf(readCsv(chunked(Buffer.from([0xff, 0xfe, 0x20, 0x00, 0x0a, 0x00])), { encoding: 'utf-16' }), 'E_EMPTY_FILE');
  });
});

describe('readCsv: bounded memory', () => {
  it('a 20 MB single line with maxRecordBytes 1 MiB → E_RECORD_TOO_LARGE after reading little of it', async () => {
    const gc = gcFunction();
    const before = liveHeap(gc);
    let peak = 0;
    const total = 20 * 1024 * 1024;
    const { source, pulled } = countingSource(total + 4, 64 * 1024, (off, size) => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      return off === 0 ? Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(size - 4, 0x78)]) : Buffer.alloc(size, 0x78);
    });
    const err = await fileErrorOf(readCsv(source, {}, { maxRecordBytes: 1024 * 1024 }), 'E_RECORD_TOO_LARGE');
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/line 2 is larger than the limit of 1048576/);
    // Refused after about the limit, not after reading (let alone buffering) the whole line.
    expect(pulled()).toBeLessThan(3 * 1024 * 1024);
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('an unclosed quote that runs into the record limit says where the quote opened', async () => {
    const { source } = countingSource(8 * 1024 * 1024, 64 * 1024, (off, size) =>
      off === 0 ? Buffer.concat([Buffer.from('a,b\n1,"open\n'), Buffer.alloc(size - 12, 0x79)]) : Buffer.alloc(size, 0x79),
    );
    const err = await fileErrorOf(readCsv(source, {}, { maxRecordBytes: 256 * 1024 }), 'E_RECORD_TOO_LARGE');
    expect(err.line).toBe(2);
    // csv-parse does not say whether it is inside quotes; a record running over lines can only be.
    expect(err.message).toMatch(/record starting at line 2 is larger .* more than one line, .* quoted value: .* column 2/);
  });

  it('a single-line record over the limit points at the delimiter and line ends instead', async () => {
    const err = await fileErrorOf(readCsv(chunked(`a\n1\n${'z'.repeat(3000)}\n`), {}, { maxRecordBytes: 1000 }), 'E_RECORD_TOO_LARGE');
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/delimiter and line endings/);
  });

  // csv-parse's max_record_size counts the bytes of the values, without separators.
  it('a record of exactly the limit is read, one byte more is refused', async () => {
    const value = 'v'.repeat(1000);
    const out = await items(`a\n${value}\n`, {}, 0, { maxRecordBytes: 1000 });
    expect(rowsOf(out)).toEqual([[value]]);
    const two = `${'v'.repeat(600)},${'w'.repeat(400)}`;
    for (const size of [0, 7]) expect(rowsOf(await items(`a,b\n${two}\n`, {}, size, { maxRecordBytes: 1000 }))).toEqual([two.split(',')]);
    await fileErrorOf(readCsv(chunked(`a\n${value}x\n`), {}, { maxRecordBytes: 1000 }), 'E_RECORD_TOO_LARGE');
    await fileErrorOf(readCsv(chunked(`a\nä${value}\n`), {}, { maxRecordBytes: 1000 }), 'E_RECORD_TOO_LARGE'); // ä is 2 bytes
    await fileErrorOf(readCsv(chunked('a\n1\n'), {}, { maxRecordBytes: 1 }), 'E_DIALECT');
  });

  it('a line of 3 million delimiters cannot build an unbounded values array', async () => {
    await fileErrorOf(readCsv(chunked(`a\n${','.repeat(3_000_000)}\n`), {}, { maxRecordBytes: 1024 * 1024 }), 'E_RECORD_TOO_LARGE');
  });

  it('a streamed 20 MB line of delimiters is refused after reading about the limit', async () => {
    const { source, pulled } = countingSource(20 * 1024 * 1024, 64 * 1024, (off, size) =>
      off === 0 ? Buffer.concat([Buffer.from('a,b\n1,2\n'), Buffer.alloc(size - 8, 0x2c)]) : Buffer.alloc(size, 0x2c),
    );
    const err = await fileErrorOf(readCsv(source, {}, { maxRecordBytes: 1024 * 1024 }), 'E_RECORD_TOO_LARGE');
    expect(err.line).toBe(3);
    expect(pulled()).toBeLessThan(2 * 1024 * 1024);
  });

  it('streams 300k generated rows with flat live memory', async () => {
    const gc = gcFunction();
    const rows = 300_000;
    const header = 'lot,material,site,stage,status,date,qty,uom,vendor,test,result,note\n';
    async function* gen(): AsyncGenerator<Buffer> {
      yield Buffer.from(header);
      let buf = '';
      for (let i = 0; i < rows; i++) {
        buf += `L${100000 + i},MAT-${i % 500},SITE${i % 7},FILL,completed,2024-03-${String((i % 28) + 1).padStart(2, '0')},${i * 1.5},KG,ACME,ASSAY,${98 + (i % 3)}.5,"ok, fine"\n`;
        if (buf.length > 65536) {
          yield Buffer.from(buf);
          buf = '';
        }
      }
      yield Buffer.from(buf);
    }
    const samples: number[] = [];
    let n = 0;
    let linesInOrder = true;
    for await (const item of readCsv(gen())) {
      if (item.kind !== 'row') continue;
      n++;
      if (item.line !== n + 1 || item.values.length !== 12) linesInOrder = false;
      if (n % 50_000 === 0) samples.push(liveHeap(gc));
    }
    expect(n).toBe(rows);
    expect(linesInOrder).toBe(true);
    // ~30 MB of CSV went through; what stays alive must not grow with it.
    const growth = Math.max(...samples) - samples[0];
    expect(growth).toBeLessThan(8 * 1024 * 1024);
  });
});

describe('readCsv: stream handling', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lotgate-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file stream and closes it when the consumer stops early', async () => {
    const file = path.join(dir, 'x.csv');
    writeFileSync(file, 'a,b\n' + '1,2\n'.repeat(100_000));
    const stream = createReadStream(file, { highWaterMark: 1024 });
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    for await (const item of readCsv(stream)) {
      if (item.kind === 'row') break;
    }
    expect(stream.destroyed).toBe(true);
    await closed;
  });

  it('closes the file stream when the dialect is rejected before reading', async () => {
    const file = path.join(dir, 'y.csv');
    writeFileSync(file, 'a,b\n');
    const stream = createReadStream(file);
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    await fileErrorOf(readCsv(stream, { delimiter: '' }), 'E_DIALECT');
    expect(stream.destroyed).toBe(true);
    await closed;
  });
});
