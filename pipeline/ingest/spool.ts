// A bounded buffer for a file's mapped rows between mapping (no lock) and applying (under the
// write lock): the items stay in memory as they are up to about `memoryBytes`, then everything
// goes to a temp file in the data dir, one item per line. Reading back happens under the lock,
// so the format is chosen for fast reading: JSON (native parse), with v8 serialization only for
// an item holding a value JSON cannot carry (a Date, NaN, a bigint, …), so every item comes back
// exactly as it was pushed.

import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { deserialize, serialize } from 'node:v8';

const CHUNK = 1 << 20;
const SPOOL_NAME = /^spool-(\d+)-[0-9a-f]+\.bin$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes spool files of processes that are gone (killed while reading a file). Returns how many. */
export function removeStaleSpools(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = SPOOL_NAME.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(path.join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

/**
 * Rough heap size of a plain value, and whether JSON carries it unchanged (plain objects and
 * arrays of strings, finite numbers, booleans and null; undefined only as an object property).
 */
function measure(v: unknown): { bytes: number; json: boolean } {
  let bytes = 0;
  let json = true;
  const walk = (x: unknown, inArray: boolean): void => {
    if (x === null) {
      bytes += 8;
      return;
    }
    switch (typeof x) {
      case 'string':
        bytes += 16 + x.length * 2;
        return;
      case 'number':
        bytes += 8;
        if (!Number.isFinite(x)) json = false;
        return;
      case 'boolean':
        bytes += 8;
        return;
      case 'undefined':
        if (inArray) json = false;
        return;
      case 'object': {
        if (Array.isArray(x)) {
          bytes += 32 + x.length * 8;
          for (const e of x) walk(e, true);
          return;
        }
        const proto = Object.getPrototypeOf(x);
        if (proto !== Object.prototype && proto !== null) {
          json = false;
          bytes += 64;
          return;
        }
        bytes += 32;
        for (const k in x as Record<string, unknown>) {
          bytes += 16 + k.length * 2;
          walk((x as Record<string, unknown>)[k], false);
        }
        return;
      }
      default:
        json = false;
        bytes += 16;
    }
  };
  walk(v, false);
  return { bytes, json };
}

/** One item as one line of a spool file: JSON when it carries the item unchanged, else v8 serialization. */
export function encodeSpoolLine(item: unknown): string {
  return measure(item).json ? `J${JSON.stringify(item)}\n` : `V${serialize(item).toString('base64')}\n`;
}

/** The item of the line text[start, end) (without its newline). */
export function decodeSpoolLine(text: string, start: number, end: number): unknown {
  const body = text.slice(start + 1, end);
  return text.charCodeAt(start) === 74 /* J */ ? JSON.parse(body) : deserialize(Buffer.from(body, 'base64'));
}

/** A spool in transit between threads: its temp file (or null) and the items held in memory. */
export interface SpoolHandoff<T> {
  file: string | null;
  count: number;
  memory: T[];
}

export class Spool<T> {
  private memory: T[] = [];
  private memoryUsed = 0;
  private fd: number | null = null;
  private file: string | null = null;
  private pending: string[] = [];
  private pendingBytes = 0;
  count = 0;

  constructor(
    private readonly dir: string,
    private readonly memoryBytes: number,
  ) {}

  /** True once the spool went to disk. */
  get spilled(): boolean {
    return this.file !== null;
  }

  push(item: T): void {
    this.count++;
    if (this.fd === null) {
      const m = measure(item);
      if (this.memoryUsed + m.bytes <= this.memoryBytes) {
        this.memory.push(item);
        this.memoryUsed += m.bytes;
        return;
      }
      this.spill();
    }
    this.append(item);
  }

  private line(item: T): string {
    return encodeSpoolLine(item);
  }

  private append(item: T): void {
    const line = this.line(item);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= CHUNK) this.flush();
  }

  private spill(): void {
    mkdirSync(this.dir, { recursive: true });
    this.file = path.join(this.dir, `spool-${process.pid}-${randomBytes(6).toString('hex')}.bin`);
    this.fd = openSync(this.file, 'w+', 0o600);
    const held = this.memory;
    this.memory = [];
    this.memoryUsed = 0;
    for (const item of held) this.append(item);
    this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes what is still buffered, so that a full disk shows before the items are used. */
  finish(): void {
    this.flush();
  }

  /** The items in the order they were pushed. */
  *items(): Generator<T> {
    if (this.fd === null) {
      yield* this.memory;
      return;
    }
    this.flush();
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.allocUnsafe(CHUNK);
    let rest = '';
    let pos = 0;
    for (;;) {
      const n = readSync(this.fd, chunk, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
      const text = rest + decoder.write(chunk.subarray(0, n));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        yield this.parse(text, start, nl);
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    if (rest + decoder.end()) throw new Error(`spool ${this.file} is truncated`);
  }

  private parse(text: string, start: number, end: number): T {
    return decodeSpoolLine(text, start, end) as T;
  }

  /**
   * Hands the spool to another thread (the file is closed, not removed): the mapping thread
   * writes a file's batches, the writer adopts them with `Spool.adopt`. Items still in memory
   * travel in the handoff (structured clone).
   */
  detach(): SpoolHandoff<T> {
    this.flush();
    const handoff: SpoolHandoff<T> = { file: this.file, count: this.count, memory: this.fd === null ? this.memory : [] };
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.file = null;
    this.memory = [];
    return handoff;
  }

  /** Takes over a spool another thread detached; `dispose()` removes its file. */
  static adopt<T>(dir: string, h: SpoolHandoff<T>): Spool<T> {
    const s = new Spool<T>(dir, 0);
    s.count = h.count;
    if (h.file === null) {
      s.memory = h.memory;
      return s;
    }
    s.file = h.file;
    s.fd = openSync(h.file, 'r');
    return s;
  }

  /** Frees the memory and removes the temp file. */
  dispose(): void {
    this.memory = [];
    this.pending = [];
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = null;
    }
    if (this.file) rmSync(this.file, { force: true });
    this.file = null;
  }
}
