// Which byte ranges of an upload the client actually wrote. A file whose ranges do not cover
// [0, size) has holes (a client "resuming" onto a fresh file, or a buggy one); delivering it
// would hand intake zeros as if they were data, so such an upload is refused at CLOSE. Pure.

export class RangeSet {
  /** Disjoint, sorted, non-adjacent [start, end) pairs. */
  private readonly r: [number, number][] = [];

  /** Most uploads arrive in order: one range that keeps growing. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const last = r[r.length - 1];
    if (last && start >= last[0] && start <= last[1]) {
      if (end > last[1]) last[1] = end;
      return;
    }
    // Binary search for the first range whose end >= start.
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid][1] < start) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    let s = start;
    let e = end;
    while (i < r.length && r[i][0] <= e) {
      s = Math.min(s, r[i][0]);
      e = Math.max(e, r[i][1]);
      i++;
    }
    r.splice(lo, i - lo, [s, e]);
  }

  get count(): number {
    return this.r.length;
  }

  /** Does the set cover exactly [0, size)? (size 0: nothing written, or only empty writes) */
  covers(size: number): boolean {
    if (size === 0) return this.r.length === 0;
    return this.r.length === 1 && this.r[0][0] === 0 && this.r[0][1] === size;
  }

  /** The first missing range below `size`, for error messages. */
  firstGap(size: number): [number, number] | null {
    let at = 0;
    for (const [s, e] of this.r) {
      if (s > at) return [at, Math.min(s, size)];
      at = Math.max(at, e);
      if (at >= size) return null;
    }
    return at < size ? [at, size] : null;
  }
}
