// The writer's heap budget (pipeline/ingest/heap-budget.ts): over the budget, one check collects
// the garbage at once; under it, nothing happens; a live set above the budget does not make every
// check collect again.

import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { HeapBudget } from '../../pipeline/ingest/heap-budget.js';

const usedMb = () => v8.getHeapStatistics().used_heap_size / 1048576;
const garbage = (n: number) => Array.from({ length: n }, (_, i) => ({ i, s: `row ${i}` }));

describe('HeapBudget', () => {
  it('collects as soon as the heap in use is over the budget', () => {
    const budget = Math.ceil(usedMb()) + 16;
    const h = new HeapBudget(budget, 1);
    let keep: unknown[] | null = garbage(600_000);
    const before = usedMb();
    expect(before).toBeGreaterThan(budget);
    keep = null;
    h.check();
    expect(keep).toBeNull();
    expect(h.collections).toBe(1);
    expect(usedMb()).toBeLessThan(before - 16);
  });

  it('does nothing under the budget, or when turned off', () => {
    const h = new HeapBudget(Math.ceil(usedMb()) + 512, 1);
    h.check();
    expect(h.collections).toBe(0);
    const off = new HeapBudget(0, 1);
    const keep = garbage(300_000);
    off.check();
    expect(off.collections).toBe(0);
    expect(keep).toHaveLength(300_000);
  });

  it('a live set above the budget raises the next threshold instead of collecting on every check', () => {
    const h = new HeapBudget(1, 1);
    const live = garbage(300_000);
    h.check();
    h.check();
    h.check();
    expect(h.collections).toBe(1);
    expect(live).toHaveLength(300_000);
  });

  it('checks only every n-th call', () => {
    const h = new HeapBudget(1, 4);
    const live = garbage(100_000);
    for (let i = 0; i < 3; i++) h.check();
    expect(h.collections).toBe(0);
    h.check();
    expect(h.collections).toBe(1);
    expect(live).toHaveLength(100_000);
  });
});
