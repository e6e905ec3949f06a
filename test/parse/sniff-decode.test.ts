import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { decodeText, resolveEncoding } from '../../pipeline/parse/decode.js';
import { describeBinary, sniffFormat } from '../../pipeline/parse/sniff.js';
import { firstInvalidUtf8, incompleteTailLength } from '../../pipeline/parse/utf8.js';
import { chunked, collect, fileErrorOf } from './helpers.js';

describe('sniffFormat', () => {
  const b = (...xs: (number | string)[]) => Buffer.concat(xs.map((x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : Buffer.from([x]))));

  it('empty: no bytes, only whitespace, only a BOM', () => {
    expect(sniffFormat(Buffer.alloc(0))).toBe('empty');
    expect(sniffFormat(b(' \r\n\t'))).toBe('empty');
    expect(sniffFormat(b(0xef, 0xbb, 0xbf))).toBe('empty');
    expect(sniffFormat(b(0xff, 0xfe, 0x20, 0))).toBe('empty');
  });

  it('pdf', () => {
    expect(sniffFormat(b('%PDF-1.7\n%', 0xe2, 0xe3, 0xcf, 0xd3, '\n'))).toBe('pdf');
    expect(sniffFormat(b('\n %PDF-1.4'))).toBe('pdf');
  });

  it('xml, also in UTF-16 with or without BOM', () => {
    expect(sniffFormat(b('<?xml version="1.0"?><a/>'))).toBe('xml');
    expect(sniffFormat(b(0xef, 0xbb, 0xbf, '\n<root/>'))).toBe('xml');
    expect(sniffFormat(b('<!-- c --><a/>'))).toBe('xml');
    expect(sniffFormat(Buffer.concat([b(0xff, 0xfe), iconv.encode('<?xml version="1.0"?>', 'utf16le')]))).toBe('xml');
    expect(sniffFormat(iconv.encode('<?xml version="1.0"?>', 'utf16be'))).toBe('xml');
  });

  it('text: CSV in UTF-8, windows-1252 or UTF-16', () => {
    expect(sniffFormat(b('lot;qty\nA1;5\n'))).toBe('text');
    expect(sniffFormat(iconv.encode('Größe;Menge\n', 'windows-1252'))).toBe('text');
    expect(sniffFormat(Buffer.concat([b(0xff, 0xfe), iconv.encode('a,b\n1,2\n', 'utf16le')]))).toBe('text');
    expect(sniffFormat(b('< 5 mg,ok\n'))).toBe('text'); // "<" followed by a blank is not markup
  });

  it('binary: known signatures, NUL bytes, mostly control characters', () => {
    expect(sniffFormat(b(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00))).toBe('binary');
    expect(sniffFormat(b(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1))).toBe('binary');
    expect(sniffFormat(b(0x1f, 0x8b, 0x08))).toBe('binary');
    expect(sniffFormat(b(0x89, 'PNG\r\n', 0x1a, '\n'))).toBe('binary');
    expect(sniffFormat(b('a,b\n', 0, '1,2'))).toBe('binary');
    expect(sniffFormat(b(1, 2, 3, 4, 5, 6, 7, 'ab'))).toBe('binary');
  });

  it('describeBinary names what partners send by mistake', () => {
    expect(describeBinary(b('%PDF-1.5'))).toBe('a PDF document');
    expect(describeBinary(b(0x50, 0x4b, 0x03, 0x04))).toMatch(/xlsx/);
    expect(describeBinary(b(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1))).toMatch(/\.xls/);
    expect(describeBinary(b('GIF89a'))).toBe('a GIF image');
    expect(describeBinary(b('GIF8 is not an image'))).toBeUndefined();
    expect(describeBinary(b('lot,qty'))).toBeUndefined();
  });
});

describe('utf8 helpers agree with the native validator', () => {
  const cases: [string, number[]][] = [
    ['ascii', [0x61, 0x62]],
    ['2-byte', [0xc3, 0xa4]],
    ['overlong 2-byte', [0xc0, 0x80]],
    ['overlong 3-byte', [0xe0, 0x80, 0x80]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['max', [0xf4, 0x8f, 0xbf, 0xbf]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['lone continuation', [0x61, 0x80]],
    ['truncated', [0x61, 0xe2, 0x82]],
    ['bad second byte', [0xe2, 0x28, 0xa1]],
    ['F5', [0xf5, 0x80, 0x80, 0x80]],
    ['emoji', [0xf0, 0x9f, 0x98, 0x80]],
  ];
  for (const [name, bytes] of cases) {
    it(name, () => {
      const buf = Buffer.from(bytes);
      expect(firstInvalidUtf8(buf) === -1).toBe(isUtf8(buf));
    });
  }

  it('firstInvalidUtf8 points at the first bad byte', () => {
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xc3, 0x28]))).toBe(2);
    expect(firstInvalidUtf8(Buffer.from([0xe2, 0x82, 0xac, 0xff]))).toBe(3);
  });

  it('incompleteTailLength holds back only an unfinished sequence', () => {
    expect(incompleteTailLength(Buffer.from([0x61, 0xe2]))).toBe(1);
    expect(incompleteTailLength(Buffer.from([0x61, 0xe2, 0x82]))).toBe(2);
    expect(incompleteTailLength(Buffer.from([0xe2, 0x82, 0xac]))).toBe(0);
    expect(incompleteTailLength(Buffer.from([0xf0, 0x9f, 0x98]))).toBe(3);
    expect(incompleteTailLength(Buffer.from([0xf0, 0x9f, 0x98, 0x80]))).toBe(0);
    expect(incompleteTailLength(Buffer.from([0x61]))).toBe(0);
  });
});

describe('decodeText', () => {
  const text = async (bytes: Buffer, enc?: string, size = 0) => (await collect(decodeText(chunked(bytes, size), enc))).join('');

  it('resolves encoding names and aliases, default utf-8', () => {
    expect(resolveEncoding(undefined)).toBe('utf-8');
    expect(resolveEncoding(' UTF8 ')).toBe('utf-8');
    expect(resolveEncoding('CP1252')).toBe('windows-1252');
    expect(resolveEncoding('ISO-8859-1')).toBe('latin1');
    expect(resolveEncoding('UTF-16')).toBe('utf-16');
    expect(() => resolveEncoding('shift_jis')).toThrow(/not supported/);
  });

  it('UTF-16 surrogate pairs split across chunks stay intact', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('x😀y\n', 'utf16le')]);
    for (const size of [1, 2, 3, 4, 5]) expect(await text(bytes, 'utf-16', size)).toBe('x😀y\n');
  });

  it('an unpaired UTF-16 surrogate → E_ENCODING with its line', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('a\nb', 'utf16le'), Buffer.from([0x3d, 0xd8]), iconv.encode('c', 'utf16le')]);
    const err = await fileErrorOf(decodeText(chunked(bytes, 3), 'utf-16'), 'E_ENCODING');
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/surrogate/);
  });

  it('an odd number of bytes in UTF-16 → E_ENCODING', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('ab', 'utf16le'), Buffer.from([0x41])]);
    await fileErrorOf(decodeText(chunked(bytes), 'utf-16le'), 'E_ENCODING');
  });

  it('U+0000 in UTF-16 text → E_BINARY', async () => {
    const bytes = Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode('a\u0000b', 'utf16be')]);
    await fileErrorOf(decodeText(chunked(bytes), 'utf-16'), 'E_BINARY');
  });

  it('keeps leading blank lines of a file that has content (line numbers depend on them)', async () => {
    expect(await text(Buffer.from('\n\n  a,b\n'), undefined, 1)).toBe('\n\n  a,b\n');
  });

  it('windows-1252 maps 0x80–0x9F to their characters (€, „, ‰ …)', async () => {
    expect(await text(Buffer.from([0x80, 0x84, 0x89, 0x96, 0x9f]), 'windows-1252')).toBe('€„‰–Ÿ');
  });
});
