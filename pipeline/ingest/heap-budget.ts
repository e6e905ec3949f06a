// Keeps the writer's V8 heap within a budget during long synchronous loops (applying a big
// file, recomputing its lots' readiness). The writer's live set is small (≈ 40 MB), but the
// objects of every batch it reads outlive a young-generation collection and are promoted, and V8
// lets the old generation grow to several times the live set before it collects it: measured on
// a 1M-row file, the writer's heap swung between 90 and 200 MB (the saw-tooth of peak RSS,
// 230–336 MB). A loop that calls `check()` every few hundred rows collects the old generation as
// soon as the heap in use exceeds the budget, so the peak no longer depends on V8's heuristics
// or on the file's size.
//
// The collection needs V8's `gc` function: taken from `globalThis.gc` when node runs with
// --expose-gc, else exposed once through v8.setFlagsFromString (the documented way of setting a
// V8 flag at run time) and read from a fresh context. A full collection of the writer's live set
// takes 10–40 ms; at the default budget it runs every few seconds of applying.

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Default heap in use (MiB) above which the writer collects its old generation. */
export const DEFAULT_WRITER_HEAP_BUDGET_MB = 96;

let gcFn: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return (gcFn = exposed);
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    gcFn = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

export class HeapBudget {
  private readonly budgetBytes: number;
  /** The budget, or above it when the live set itself outgrew it (then collecting again at once would not help). */
  private limitBytes: number;
  private calls = 0;
  /** Collections this budget forced (for logs and tests). */
  collections = 0;

  /** `budgetMb` ≤ 0 turns the guard off (V8's own heuristics alone). */
  constructor(
    budgetMb: number = DEFAULT_WRITER_HEAP_BUDGET_MB,
    private readonly every = 256,
  ) {
    this.budgetBytes = budgetMb > 0 ? budgetMb * 1024 * 1024 : Infinity;
    this.limitBytes = this.budgetBytes;
  }

  /** Call once per unit of work; every `every` calls the heap in use is compared with the budget. */
  check(): void {
    if (this.limitBytes === Infinity || ++this.calls % this.every !== 0) return;
    this.now();
  }

  /** Compares the heap in use with the budget now, and collects when it is over. */
  now(): void {
    if (this.limitBytes === Infinity) return;
    if (v8.getHeapStatistics().used_heap_size <= this.limitBytes) return;
    const gc = collector();
    if (!gc) return;
    gc();
    this.collections++;
    // A live set above the budget (a hostile file's bookkeeping, a huge record) must not make
    // every check collect again: the next collection waits until the heap grew by half.
    const live = v8.getHeapStatistics().used_heap_size;
    this.limitBytes = Math.max(this.budgetBytes, live * 1.5);
  }
}
