// Which encoding an XML file is in, from its first bytes: a BOM, the UTF-16 pattern of "<?",
// or the encoding named in the XML declaration (default UTF-8), as XML 1.0 appendix F says.

import { FileError } from '../model/types.js';
import type { TextEncoding } from './decode.js';

export interface XmlEncoding {
  encoding: TextEncoding;
  /** For messages, "read as X (<declaredBy>)": where the encoding came from. */
  declaredBy: string;
}

const DECLARED: Record<string, TextEncoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'us-ascii': 'utf-8', // ASCII is a subset; a non-ASCII byte still has to be valid UTF-8
  ascii: 'utf-8',
  'iso-8859-1': 'latin1',
  'iso8859-1': 'latin1',
  latin1: 'latin1',
  'latin-1': 'latin1',
  'windows-1252': 'windows-1252',
  cp1252: 'windows-1252',
  'utf-16': 'utf-16',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
};

const DECL = /^<\?xml[\s][^>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/;

function declaredName(text: string): string | undefined {
  const m = DECL.exec(text);
  return m ? m[2] : undefined;
}

function unsupported(name: string): FileError {
  return new FileError(
    'E_ENCODING',
    `The XML declaration names encoding "${name}", which lotgate does not read. Re-export the file as UTF-8 (or ISO-8859-1/windows-1252/UTF-16).`,
    1,
  );
}

function conflict(bom: string, name: string): FileError {
  return new FileError(
    'E_ENCODING',
    `The file starts with a ${bom} byte order mark but its XML declaration says encoding="${name}". Re-export the file so the two agree.`,
    1,
  );
}

function utf16Text(head: Buffer, le: boolean, skip: number): string {
  const body = head.subarray(skip, head.length - ((head.length - skip) % 2));
  if (le) return body.toString('utf16le');
  const swapped = Buffer.from(body);
  swapped.swap16();
  return swapped.toString('utf16le');
}

/** Encoding of an XML file from its first bytes (1 KB is plenty). Throws E_ENCODING on contradictions. */
export function detectXmlEncoding(head: Buffer): XmlEncoding {
  const b0 = head[0];
  const b1 = head[1];
  let utf16: 'utf-16le' | 'utf-16be' | undefined;
  let bomName: string | undefined;
  if (b0 === 0xff && b1 === 0xfe) {
    utf16 = 'utf-16le';
    bomName = 'UTF-16LE';
  } else if (b0 === 0xfe && b1 === 0xff) {
    utf16 = 'utf-16be';
    bomName = 'UTF-16BE';
  } else if (b0 === 0x3c && b1 === 0x00 && head[2] === 0x3f && head[3] === 0x00) utf16 = 'utf-16le';
  else if (b0 === 0x00 && b1 === 0x3c && head[2] === 0x00 && head[3] === 0x3f) utf16 = 'utf-16be';

  if (utf16 !== undefined) {
    const name = declaredName(utf16Text(head, utf16 === 'utf-16le', bomName ? 2 : 0));
    if (name !== undefined && !name.toLowerCase().startsWith('utf-16')) {
      if (bomName) throw conflict(bomName, name);
      throw unsupported(name);
    }
    return { encoding: utf16, declaredBy: bomName ? 'as its byte order mark says' : 'as the UTF-16 pattern of its first bytes shows' };
  }

  const hasUtf8Bom = b0 === 0xef && b1 === 0xbb && head[2] === 0xbf;
  const name = declaredName(head.subarray(hasUtf8Bom ? 3 : 0, 1024).toString('latin1'));
  if (name === undefined) return { encoding: 'utf-8', declaredBy: hasUtf8Bom ? 'as its byte order mark says' : 'the XML default: no encoding is declared' };
  const enc = DECLARED[name.toLowerCase()];
  if (enc === undefined) throw unsupported(name);
  if (hasUtf8Bom && enc !== 'utf-8') throw conflict('UTF-8', name);
  if (enc === 'utf-16' || enc === 'utf-16le' || enc === 'utf-16be') {
    throw new FileError(
      'E_ENCODING',
      `The XML declaration says encoding="${name}" but the file is not UTF-16 (its first bytes are single-byte text). Re-export the file so the declaration matches.`,
      1,
    );
  }
  return { encoding: enc, declaredBy: 'as its XML declaration says' };
}
