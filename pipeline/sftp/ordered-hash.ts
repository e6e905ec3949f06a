// sha256 of an upload while it streams in. SFTP writes carry their own offsets and clients keep
// many in flight; they normally arrive in order, but nothing guarantees it (ssh2's fastPut
// issues writes as its local reads complete). Chunks that arrive early wait in a bounded
// reorder window; anything the window cannot explain (overlaps, rewrites, holes, a window
// overflow) switches the upload to "hash the file on CLOSE", which is always correct.

import { localSha256, type HashSink } from './hash-pool.js';

export interface OrderedHashStats {
  writes: number;
  /** Writes whose offset was not the next expected byte when they arrived. */
  outOfOrder: number;
  /** Largest number of bytes held in the reorder window at once. */
  maxWindowBytes: number;
  /** Why streaming hashing was given up, if it was. */
  fallbackReason: string | null;
}

export class OrderedHasher {
  private hash: HashSink | null;
  private next = 0;
  private readonly pending = new Map<number, Buffer>();
  private pendingBytes = 0;
  readonly stats: OrderedHashStats = { writes: 0, outOfOrder: 0, maxWindowBytes: 0, fallbackReason: null };

  constructor(
    private readonly windowLimit: number,
    sink: HashSink = localSha256(),
  ) {
    this.hash = sink;
  }

  /** Feed the bytes of one WRITE request (the same buffer that is written to disk). */
  push(offset: number, data: Buffer): void {
    this.stats.writes += 1;
    if (offset !== this.next) this.stats.outOfOrder += 1;
    if (!this.hash) return;
    if (data.length === 0) return;
    if (offset === this.next) {
      this.hash.update(data);
      this.next += data.length;
      this.drain();
      return;
    }
    if (offset < this.next) return this.giveUp('write overlaps bytes already hashed');
    if (this.pending.has(offset)) return this.giveUp('two writes at the same offset');
    this.pending.set(offset, data);
    this.pendingBytes += data.length;
    if (this.pendingBytes > this.stats.maxWindowBytes) this.stats.maxWindowBytes = this.pendingBytes;
    if (this.pendingBytes > this.windowLimit) this.giveUp(`more than ${this.windowLimit} bytes out of order`);
  }

  private drain(): void {
    let chunk = this.pending.get(this.next);
    while (chunk && this.hash) {
      this.pending.delete(this.next);
      this.pendingBytes -= chunk.length;
      this.hash.update(chunk);
      this.next += chunk.length;
      chunk = this.pending.get(this.next);
    }
  }

  private giveUp(reason: string): void {
    this.hash?.abort();
    this.hash = null;
    this.pending.clear();
    this.pendingBytes = 0;
    this.stats.fallbackReason = reason;
  }

  /**
   * The hex digest if the streamed bytes are exactly the file's `size` bytes, in order, with
   * nothing left over; otherwise null (the caller hashes the file instead). Call once.
   */
  async digestFor(size: number): Promise<string | null> {
    if (!this.hash) return null;
    if (this.pending.size > 0 || this.next !== size) {
      this.giveUp(this.pending.size > 0 ? 'gaps in the written ranges' : 'file size differs from the bytes streamed');
      return null;
    }
    const h = this.hash;
    this.hash = null;
    try {
      return await h.digest();
    } catch (err) {
      this.stats.fallbackReason = (err as Error).message;
      return null;
    }
  }
}
