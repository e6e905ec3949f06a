// Checks a ZIP container (an .xlsx) before any of it is inflated: the entry count and the
// declared uncompressed sizes from the central directory, so a zip bomb is refused with bounded
// memory and time instead of being expanded by the workbook parser.

import { open } from 'node:fs/promises';
import { FileError } from '../model/types.js';

export interface ZipLimits {
  /** Most entries (files) in the archive. */
  maxEntries: number;
  /** Most bytes all entries may declare uncompressed, together. */
  maxUncompressedBytes: number;
  /** Highest uncompressed/compressed ratio of one entry larger than 1 MiB. */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 10_000, maxUncompressedBytes: 1024 * 1024 * 1024, maxRatio: 200 };

const EOCD = 0x06054b50;
const CDH = 0x02014b50;

export function zipBomb(message: string): FileError {
  return new FileError('E_XLSX_TOO_LARGE', `${message} The workbook was not opened. Send the data in smaller workbooks, or as CSV.`);
}

/** One entry of the ZIP's central directory. */
export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressed: number;
  uncompressed: number;
  /** Where the entry's local header starts. */
  headerOffset: number;
}

/** Checks the directory against the limits and returns its entries (nothing is inflated). */
export async function checkZip(path: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipEntry[]> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const tailLen = Math.min(size, 65_557);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    let at = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === EOCD) { at = i; break; }
    if (at < 0) throw new FileError('E_XLSX_INVALID', 'The workbook is damaged (no ZIP central directory). Open it in Excel, save it as .xlsx and send it again.');
    const entries = tail.readUInt16LE(at + 10);
    const cdSize = tail.readUInt32LE(at + 12);
    const cdOffset = tail.readUInt32LE(at + 16);
    if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw zipBomb('The workbook is a ZIP64 archive (over 65535 entries or 4 GiB).');
    if (entries > limits.maxEntries) throw zipBomb(`The workbook holds ${entries} entries; at most ${limits.maxEntries} are accepted.`);
    if (cdOffset + cdSize > size || cdSize > 64 * 1024 * 1024) throw new FileError('E_XLSX_INVALID', 'The workbook is damaged (its ZIP directory lies outside the file). Save it again as .xlsx.');
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    let total = 0;
    let p = 0;
    const out: ZipEntry[] = [];
    for (let n = 0; n < entries; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH) throw new FileError('E_XLSX_INVALID', 'The workbook is damaged (a ZIP directory entry cannot be read). Save it again as .xlsx.');
      const compressed = cd.readUInt32LE(p + 20);
      const uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      if (compressed === 0xffffffff || uncompressed === 0xffffffff) throw zipBomb(`The entry ${name} is a ZIP64 entry (over 4 GiB).`);
      total += uncompressed;
      if (total > limits.maxUncompressedBytes) throw zipBomb(`The workbook's entries declare more than ${limits.maxUncompressedBytes} bytes uncompressed.`);
      if (uncompressed > 1024 * 1024 && uncompressed > limits.maxRatio * Math.max(1, compressed)) {
        throw zipBomb(`The entry ${name} would expand ${Math.round(uncompressed / Math.max(1, compressed))}-fold (${uncompressed} bytes from ${compressed}); at most ${limits.maxRatio}-fold is accepted.`);
      }
      out.push({ name, flags: cd.readUInt16LE(p + 8), method: cd.readUInt16LE(p + 10), compressed, uncompressed, headerOffset: cd.readUInt32LE(p + 42) });
      p += 46 + nameLen + cd.readUInt16LE(p + 30) + cd.readUInt16LE(p + 32);
    }
    return out;
  } finally {
    await fh.close();
  }
}
