// A bounded buffer for a file's mapped rows between mapping (no lock) and applying (under the
// write lock): kept in memory up to `memoryBytes`, then spilled to a temp file in the data dir.
// Items are structured-cloned (v8 serialization), so dates and nested values survive as they are.

import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
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

export class Spool<T> {
  private readonly memory: Buffer[] = [];
  private memoryUsed = 0;
  private fd: number | null = null;
  private file: string | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  count = 0;
  bytes = 0;

  constructor(
    private readonly dir: string,
    private readonly memoryBytes: number,
  ) {}

  /** True once the spool went to disk. */
  get spilled(): boolean {
    return this.file !== null;
  }

  push(item: T): void {
    const body = serialize(item);
    const frame = Buffer.allocUnsafe(4 + body.length);
    frame.writeUInt32LE(body.length, 0);
    body.copy(frame, 4);
    this.count++;
    this.bytes += frame.length;
    if (this.fd === null && this.memoryUsed + frame.length <= this.memoryBytes) {
      this.memory.push(frame);
      this.memoryUsed += frame.length;
      return;
    }
    if (this.fd === null) this.spill();
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (this.pendingBytes >= CHUNK) this.flush();
  }

  private spill(): void {
    mkdirSync(this.dir, { recursive: true });
    this.file = path.join(this.dir, `spool-${process.pid}-${randomBytes(6).toString('hex')}.bin`);
    this.fd = openSync(this.file, 'w+', 0o600);
    this.pending = this.memory.splice(0);
    this.pendingBytes = this.memoryUsed;
    this.memoryUsed = 0;
    this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
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
      for (const frame of this.memory) yield deserialize(frame.subarray(4)) as T;
      return;
    }
    this.flush();
    let buf = Buffer.alloc(0);
    let pos = 0;
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(this.fd, chunk, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
      buf = buf.length ? Buffer.concat([buf, chunk.subarray(0, n)]) : Buffer.from(chunk.subarray(0, n));
      let off = 0;
      while (buf.length - off >= 4) {
        const len = buf.readUInt32LE(off);
        if (buf.length - off - 4 < len) break;
        yield deserialize(buf.subarray(off + 4, off + 4 + len)) as T;
        off += 4 + len;
      }
      buf = buf.subarray(off);
    }
    if (buf.length) throw new Error(`spool ${this.file} is truncated`);
  }

  /** Frees the memory and removes the temp file. */
  dispose(): void {
    this.memory.length = 0;
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
