// Looks at the first bytes of a file to say what kind of file it is, so a PDF or an Excel
// workbook dropped on a CSV feed gets "this is a PDF document" instead of a parse error on line 1.
// Pure: no I/O. Callers pass what they have already read (a few KB is plenty).

export type SniffedFormat = 'xml' | 'pdf' | 'text' | 'binary' | 'empty';

const SAMPLE = 4096;

interface Magic {
  bytes: number[];
  what: string;
}

// Formats partners realistically send by mistake. PDF is reported separately (its own format).
const MAGICS: Magic[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (for example an Excel .xlsx or Word .docx file)' },
  { bytes: [0x50, 0x4b, 0x05, 0x06], what: 'an empty ZIP archive' },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], what: 'an old Microsoft Office file (for example an Excel .xls workbook)' },
  { bytes: [0x1f, 0x8b], what: 'a gzip-compressed file' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: 'a 7-Zip archive' },
  { bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], what: 'a RAR archive' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38, 0x37, 0x61], what: 'a GIF image' },
  { bytes: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61], what: 'a GIF image' },
  { bytes: [0x49, 0x49, 0x2a, 0x00], what: 'a TIFF image' },
  { bytes: [0x4d, 0x4d, 0x00, 0x2a], what: 'a TIFF image' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an executable (ELF)' },
];

const PDF = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-

function startsWithBytes(buf: Buffer, at: number, magic: number[]): boolean {
  if (buf.length - at < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[at + i] !== magic[i]) return false;
  return true;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b;
}

type Utf16 = 'utf16le' | 'utf16be';

/** UTF-16 by BOM, or by the `<?` / `<` + NUL pattern of an XML file without BOM. */
function utf16Of(buf: Buffer): { enc: Utf16; skip: number } | undefined {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return { enc: 'utf16le', skip: 2 };
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) return { enc: 'utf16be', skip: 2 };
  if (buf.length >= 4 && buf[0] === 0x3c && buf[1] === 0 && buf[2] !== 0 && buf[3] === 0) return { enc: 'utf16le', skip: 0 };
  if (buf.length >= 4 && buf[0] === 0 && buf[1] === 0x3c && buf[2] === 0 && buf[3] !== 0) return { enc: 'utf16be', skip: 0 };
  return undefined;
}

function decodeUtf16(buf: Buffer, enc: Utf16): string {
  const even = buf.subarray(0, buf.length - (buf.length % 2));
  if (enc === 'utf16le') return even.toString('utf16le');
  const swapped = Buffer.from(even);
  swapped.swap16();
  return swapped.toString('utf16le');
}

/** Classifies decoded text (used for UTF-16 samples). */
function classifyText(text: string): SniffedFormat {
  let i = 0;
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  if (i === text.length) return 'empty';
  let controls = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0) return 'binary';
    if (c < 0x20 && !isWs(c) && c !== 0x1b) controls++;
  }
  if (controls * 10 > text.length - i) return 'binary';
  return looksLikeXmlStart(text.charCodeAt(i), text.charCodeAt(i + 1)) ? 'xml' : 'text';
}

function looksLikeXmlStart(c0: number, c1: number): boolean {
  if (c0 !== 0x3c) return false; // '<'
  // '<?xml', '<!--', '<!DOCTYPE' or '<name'
  return c1 === 0x3f || c1 === 0x21 || c1 === 0x5f || c1 === 0x3a || (c1 >= 0x41 && c1 <= 0x5a) || (c1 >= 0x61 && c1 <= 0x7a);
}

/**
 * What the first bytes of a file look like.
 * 'empty': no bytes, or only a BOM and whitespace. 'pdf': starts with %PDF-. 'binary': a known
 * binary signature, NUL bytes (outside UTF-16) or mostly control characters. 'xml': starts
 * (after BOM/whitespace) with `<?`, `<!` or `<name`. Otherwise 'text'.
 */
export function sniffFormat(firstBytes: Buffer): SniffedFormat {
  const buf = firstBytes.length > SAMPLE ? firstBytes.subarray(0, SAMPLE) : firstBytes;
  if (buf.length === 0) return 'empty';
  const u16 = utf16Of(buf);
  if (u16) return classifyText(decodeUtf16(buf.subarray(u16.skip), u16.enc));

  let i = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  if (startsWithBytes(buf, i, PDF)) return 'pdf';
  if (describeBinary(buf) !== undefined) return 'binary';
  while (i < buf.length && isWs(buf[i])) i++;
  if (i === buf.length) return 'empty';
  if (startsWithBytes(buf, i, PDF)) return 'pdf';

  let controls = 0;
  for (let j = i; j < buf.length; j++) {
    const c = buf[j];
    if (c === 0) return 'binary';
    if (c < 0x20 && !isWs(c) && c !== 0x1b) controls++;
  }
  if (controls * 10 > buf.length - i) return 'binary';
  return looksLikeXmlStart(buf[i], buf[i + 1]) ? 'xml' : 'text';
}

/** A human description of a recognised binary format ("a PDF document", "a ZIP archive ..."), or undefined. */
export function describeBinary(firstBytes: Buffer): string | undefined {
  const at = firstBytes.length >= 3 && firstBytes[0] === 0xef && firstBytes[1] === 0xbb && firstBytes[2] === 0xbf ? 3 : 0;
  if (startsWithBytes(firstBytes, at, PDF)) return 'a PDF document';
  for (const m of MAGICS) if (startsWithBytes(firstBytes, 0, m.bytes)) return m.what;
  return undefined;
}
