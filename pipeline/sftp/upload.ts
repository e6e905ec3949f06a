// One upload in progress: a hidden temp file in the partner's inbound folder, written at the
// offsets the client sends (many writes in flight), hashed as the bytes arrive.

import { close, fdatasync, fstat, fsync, open, write, constants as C, createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { OrderedHasher, type OrderedHashStats } from './ordered-hash.js';
import type { HashSink } from './hash-pool.js';
import { RangeSet } from './ranges.js';
import { tempNameFor } from '../intake/names.js';

export interface UploadResult {
  size: number;
  sha256: string;
  /** 'streaming' when hashed as it arrived, 'reread' when the file had to be read back. */
  hashMode: 'streaming' | 'reread';
  stats: OrderedHashStats;
  /** Null when the client wrote every byte of [0, size); else the first range it never wrote. */
  gap: [number, number] | null;
}

// A client scattering more disjoint ranges than this is not uploading a file.
const MAX_RANGES = 100_000;

// Dirty bytes after which a background fdatasync starts. Without it, a large upload leaves
// hundreds of MB in the page cache and the fsync on CLOSE stalls the client for that long;
// flushing as we go overlaps the disk with the network and keeps CLOSE short.
const FLUSH_EVERY = 32 * 1024 * 1024;

export interface UploadLimits {
  /** Bytes an upload may hold out of order before hashing falls back to a re-read. */
  reorderWindowBytes: number;
  /** Largest offset+length a client may write (a write at 2^50 would make a huge sparse file). */
  maxFileBytes: number;
}

function p<T>(fn: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}


export class Upload {
  private inFlight = 0;
  private drained: (() => void)[] = [];
  private firstError: NodeJS.ErrnoException | null = null;
  private readonly hasher: OrderedHasher;
  private readonly written = new RangeSet();
  private fdClosed = false;
  private unflushed = 0;
  private flushing: Promise<void> | null = null;
  bytesReceived = 0;

  private constructor(
    readonly name: string,
    readonly tempPath: string,
    private readonly fd: number,
    private readonly limits: UploadLimits,
    readonly openedAt: number,
    sink: HashSink,
  ) {
    this.hasher = new OrderedHasher(limits.reorderWindowBytes, sink);
  }

  /**
   * Create the temp file next to where the upload will land; O_EXCL so nothing is reused. Its
   * name carries `hostId`, the machine writing it, when given (intake/host-id.ts).
   */
  static async create(dir: string, name: string, limits: UploadLimits, now: number, sink: () => HashSink, hostId?: string): Promise<Upload> {
    for (let attempt = 0; ; attempt++) {
      const tempPath = join(dir, tempNameFor(name, hostId));
      try {
        const fd = await p<number>((cb) => open(tempPath, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o640, cb));
        return new Upload(name, tempPath, fd, limits, now, sink());
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 5) throw err;
      }
    }
  }

  /** The error that made this upload unusable, if any write failed. */
  get error(): NodeJS.ErrnoException | null {
    return this.firstError;
  }

  /** Positional write; `cb` runs once the bytes are in the file (or failed). */
  write(offset: number, data: Buffer, cb: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.fdClosed) return cb(Object.assign(new Error('upload already closed'), { code: 'EBADF' }));
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > this.limits.maxFileBytes) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`write beyond the ${this.limits.maxFileBytes}-byte upload limit`), { code: 'EFBIG' });
      this.firstError ??= err;
      return cb(err);
    }
    this.written.add(offset, offset + data.length);
    if (this.written.count > MAX_RANGES) {
      const err: NodeJS.ErrnoException = Object.assign(new Error('too many disjoint writes'), { code: 'EFRAGMENTED' });
      this.firstError ??= err;
      return cb(err);
    }
    this.hasher.push(offset, data);
    this.bytesReceived += data.length;
    this.inFlight += 1;
    // One positional write per request, all in flight at once on the thread pool. (Merging
    // contiguous requests into fewer writev calls was measured: no CPU saved, and the bursty
    // replies slowed OpenSSH clients down.)
    const n = data.length;
    write(this.fd, data, 0, n, offset, (err, written) => {
      this.inFlight -= 1;
      // Regular files only write short when the disk is full; treat it as the error it is.
      const e: NodeJS.ErrnoException | null = err ?? (written !== n ? Object.assign(new Error(`short write (${written} of ${n} bytes)`), { code: 'ENOSPC' }) : null);
      if (e) this.firstError ??= e;
      else this.maybeFlush(n);
      if (this.inFlight === 0 && this.drained.length) for (const f of this.drained.splice(0)) f();
      cb(e);
    });
  }

  private maybeFlush(n: number): void {
    this.unflushed += n;
    if (this.unflushed < FLUSH_EVERY || this.flushing || this.fdClosed) return;
    this.unflushed = 0;
    this.flushing = new Promise<void>((resolve) =>
      fdatasync(this.fd, () => {
        // A failed early flush is not fatal: the fsync on CLOSE reports what matters.
        this.flushing = null;
        resolve();
      }),
    );
  }

  private async settle(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.flushing) await this.flushing;
  }


  /**
   * Wait for writes in flight, fsync, close, and report size and sha256. Used both for a clean
   * CLOSE and for a partial upload (then `durable` may be false: the bytes go to quarantine).
   */
  async finish(durable = true): Promise<UploadResult> {
    await this.settle();
    if (this.fdClosed) throw new Error('upload finished twice');
    this.fdClosed = true;
    let size: number;
    try {
      if (durable) await p<void>((cb) => fsync(this.fd, (e) => cb(e, undefined)));
      size = (await p<import('node:fs').Stats>((cb) => fstat(this.fd, cb))).size;
    } finally {
      await p<void>((cb) => close(this.fd, (e) => cb(e, undefined))).catch(() => undefined);
    }
    const streamed = await this.hasher.digestFor(size);
    const sha256 = streamed ?? (await hashFile(this.tempPath));
    return { size, sha256, hashMode: streamed ? 'streaming' : 'reread', stats: this.hasher.stats, gap: this.written.covers(size) ? null : this.written.firstGap(size) ?? [0, size] };
  }

  /** Current size on disk of the temp file (for FSTAT on an open upload handle). */
  async stat(): Promise<{ size: number; mtimeMs: number; atimeMs: number }> {
    return p<import('node:fs').Stats>((cb) => fstat(this.fd, cb));
  }
}
