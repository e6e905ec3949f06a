// Inflates every entry of a workbook's ZIP once, before the workbook parser sees it, counting
// the bytes that actually come out: an entry that inflates beyond the size its directory
// declares, or a workbook beyond the total limit, is refused (a lying directory cannot hide a
// zip bomb). Nothing is kept but counts and a few small facts read on the way: a DOCTYPE in any
// XML part (refused: entities are never resolved), the merged-cell ranges near the top of each
// sheet, and the small workbook.xml / its relations (which sheet is which part).

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInflateRaw } from 'node:zlib';
import { FileError } from '../model/types.js';
import { checkZip, DEFAULT_ZIP_LIMITS, zipBomb, type ZipEntry, type ZipLimits } from './zip-guard.js';

/** An entry with where its (compressed) data starts, after its local header. */
interface DataEntry extends ZipEntry {
  dataOffset: number;
}

/** A merged range, 1-based and inclusive. */
export interface MergeRange {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export interface ZipScan {
  /** Merged ranges whose top row is at most `mergeRowsUpTo`, by part name (xl/worksheets/sheet1.xml). */
  merges: Map<string, MergeRange[]>;
  /** Sheet name → part name, from xl/workbook.xml and its relations. */
  sheetParts: Map<string, string>;
}

const SMALL_PARTS = new Set(['xl/workbook.xml', 'xl/_rels/workbook.xml.rels']);
const MAX_SMALL_PART = 4 * 1024 * 1024;
const MAX_MERGES = 100_000;

/** "AB12" → [row 12, column 28]. */
export function cellRef(ref: string): [number, number] | undefined {
  const m = /^\$?([A-Z]{1,3})\$?(\d{1,7})$/.exec(ref);
  if (m === null) return undefined;
  let col = 0;
  for (const ch of m[1]) col = col * 26 + (ch.charCodeAt(0) - 64);
  return [Number(m[2]), col];
}

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:]+)\s*=\s*"([^"]*)"/g)) out[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
  return out;
}

/** Sheet name → part name from workbook.xml and workbook.xml.rels. */
export function sheetPartsOf(workbookXml: string, relsXml: string): Map<string, string> {
  const targets = new Map<string, string>();
  for (const m of relsXml.matchAll(/<(?:\w+:)?Relationship\b[^>]*>/g)) {
    const a = attrs(m[0]);
    if (a.Id === undefined || a.Target === undefined) continue;
    const t = a.Target.startsWith('/') ? a.Target.slice(1) : `xl/${a.Target}`;
    targets.set(a.Id, t);
  }
  const out = new Map<string, string>();
  for (const m of workbookXml.matchAll(/<(?:\w+:)?sheet\b[^>]*>/g)) {
    const a = attrs(m[0]);
    const rid = Object.entries(a).find(([k]) => k === 'r:id' || k.endsWith(':id'))?.[1];
    if (a.name !== undefined && rid !== undefined && targets.has(rid)) out.set(a.name, targets.get(rid)!);
  }
  return out;
}

/** The directory's entries (checked by zip-guard) with where each one's data starts. */
async function dataEntries(path: string, limits: ZipLimits): Promise<DataEntry[]> {
  const entries = await checkZip(path, limits);
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const out: DataEntry[] = [];
    const h = Buffer.alloc(30);
    for (const e of entries) {
      const { bytesRead } = await fh.read(h, 0, 30, e.headerOffset);
      if (bytesRead < 30 || h.readUInt32LE(0) !== 0x04034b50) throw new FileError('E_XLSX_INVALID', `The workbook is damaged (the entry ${e.name} cannot be found). Save it again as .xlsx.`);
      // The local header's name and extra field may differ in length from the directory's.
      const dataOffset = e.headerOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
      if (dataOffset + e.compressed > size) throw new FileError('E_XLSX_INVALID', `The workbook is damaged (the entry ${e.name} is cut off). Save it again as .xlsx.`);
      out.push({ ...e, dataOffset });
    }
    return out;
  } finally {
    await fh.close();
  }
}

/**
 * Checks the ZIP directory (zip-guard), then inflates every entry, counting actual bytes against the declared sizes and the limits, and
 * reads the few facts above on the way. Memory: one inflate window and a small carry per entry.
 */
export async function scanZip(path: string, opts: { limits?: ZipLimits; mergeRowsUpTo?: number } = {}): Promise<ZipScan> {
  const limits = opts.limits ?? DEFAULT_ZIP_LIMITS;
  const mergeRowsUpTo = opts.mergeRowsUpTo ?? 0;
  const entries = await dataEntries(path, limits);
  const merges = new Map<string, MergeRange[]>();
  const small = new Map<string, string>();
  let total = 0;
  let mergeCount = 0;
  for (const e of entries) {
    if ((e.flags & 1) !== 0) throw new FileError('E_XLSX_ENCRYPTED', `The workbook is encrypted (the entry ${e.name} has a password). Remove the password (File > Info > Protect Workbook), save it as .xlsx and send it again.`);
    if (e.method !== 0 && e.method !== 8) throw new FileError('E_XLSX_INVALID', `The workbook's entry ${e.name} uses ZIP compression method ${e.method}, which Excel does not write. Save it again as .xlsx in Excel.`);
    if (e.name.endsWith('/') || e.compressed === 0) continue;
    const raw = createReadStream(path, { start: e.dataOffset, end: e.dataOffset + e.compressed - 1, highWaterMark: 64 * 1024 });
    const stream = e.method === 8 ? raw.pipe(createInflateRaw()) : raw;
    const isXml = /\.(xml|rels|vml)$/i.test(e.name);
    const isSheet = /^xl\/worksheets\/[^/]+\.xml$/i.test(e.name);
    const keep = SMALL_PARTS.has(e.name);
    let actual = 0;
    let head = '';
    let carry = '';
    let kept = '';
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        actual += chunk.length;
        total += chunk.length;
        if (actual > e.uncompressed) throw zipBomb(`The entry ${e.name} inflates beyond the ${e.uncompressed} bytes its ZIP directory declares.`);
        if (total > limits.maxUncompressedBytes) throw zipBomb(`The workbook's entries inflate to more than ${limits.maxUncompressedBytes} bytes.`);
        if (!isXml) continue;
        const text = chunk.toString('latin1');
        if (head.length < 65_536) {
          head += text.slice(0, 65_536 - head.length);
          if (/<!DOCTYPE|<!ENTITY/i.test(head)) {
            throw new FileError('E_XLSX_DOCTYPE', `The workbook's part ${e.name} declares a DOCTYPE or entities, which Excel never writes; it was not read (entities are never resolved). Open the file in Excel, save it as .xlsx and send it again.`);
          }
        }
        if (keep) {
          if (kept.length + text.length > MAX_SMALL_PART) throw zipBomb(`The part ${e.name} is larger than ${MAX_SMALL_PART} bytes.`);
          kept += chunk.toString('utf8');
        }
        if (isSheet && mergeRowsUpTo > 0) {
          const window = carry + text;
          for (const m of window.matchAll(/<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z$]+\d+):([A-Z$]+\d+)"/g)) {
            // A match that ends inside the carried-over tail was read with the previous chunk.
            if ((m.index ?? 0) + m[0].length <= carry.length) continue;
            const a = cellRef(m[1]);
            const b = cellRef(m[2]);
            if (a === undefined || b === undefined || a[0] > mergeRowsUpTo) continue;
            // Merged cells change values: never drop some silently.
            if (++mergeCount > MAX_MERGES) throw zipBomb(`The workbook has more than ${MAX_MERGES} merged cell ranges.`);
            const list = merges.get(e.name) ?? [];
            list.push({ top: a[0], left: a[1], bottom: b[0], right: b[1] });
            merges.set(e.name, list);
          }
          carry = window.slice(-200);
        }
      }
    } catch (err) {
      raw.destroy();
      if (err instanceof FileError) throw err;
      throw new FileError('E_XLSX_INVALID', `The workbook is damaged (the entry ${e.name} cannot be inflated: ${(err as Error).message}). Open it in Excel, save it as .xlsx and send it again.`);
    }
    if (actual !== e.uncompressed) throw new FileError('E_XLSX_INVALID', `The workbook is damaged (the entry ${e.name} holds ${actual} bytes, its ZIP directory says ${e.uncompressed}). Save it again as .xlsx.`);
    if (keep) small.set(e.name, kept);
  }
  const sheetParts = sheetPartsOf(small.get('xl/workbook.xml') ?? '', small.get('xl/_rels/workbook.xml.rels') ?? '');
  return { merges, sheetParts };
}
