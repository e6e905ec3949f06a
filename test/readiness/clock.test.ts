// nextClockDay: the first day on which the clock alone can change a lot's readiness. Property:
// on every day from today up to (not including) that day, computeReadiness gives exactly the
// same readiness as today — so a sweep that skips the lot until then misses nothing; and with
// no such day, it stays the same for years.

import { describe, expect, it } from 'vitest';
import type { LotFacts } from '../../pipeline/model/types.js';
import { nextClockDay } from '../../pipeline/readiness/clock.js';
import { computeReadiness } from '../../pipeline/readiness/compute.js';
import { todayOf } from '../../pipeline/readiness/time.js';
import { ALL_STAGES, addDays, defaultRules, emptyFacts, lot, NOW, plannedReceipt, stage } from './facts.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const base = NOW.toISOString().slice(0, 10);

function randomFacts(rand: () => number): LotFacts {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const done = ALL_STAGES.slice(0, Math.floor(rand() * (ALL_STAGES.length + 1)));
  const stageEvents = done.map((s, i) => stage(s, 'completed', `${addDays(base, -30 + i)}T08:00:00Z`));
  if (rand() < 0.3) stageEvents.push(stage(ALL_STAGES[done.length] ?? 'qa_review', 'started', `${addDays(base, -1)}T08:00:00Z`));
  const over: Partial<LotFacts> = {
    lot: lot({ expiryDate: pick([null, 'garbage', addDays(base, Math.floor(rand() * 900) - 100)]) }),
    stageEvents,
  };
  if (rand() < 0.8) {
    over.plannedReceipt = plannedReceipt({
      plannedDate: addDays(base, Math.floor(rand() * 80) - 20),
      ...(rand() < 0.3 ? { confirmedDate: addDays(base, Math.floor(rand() * 80) - 20) } : {}),
      ...(rand() < 0.1 ? { status: 'cancelled' as const } : {}),
    });
  }
  return emptyFacts(over);
}

describe('nextClockDay', () => {
  it('no readiness change before the day it names (random lots)', () => {
    const rules = defaultRules();
    const today = todayOf(NOW);
    for (let s = 1; s <= 300; s++) {
      const facts = randomFacts(mulberry32(s));
      const next = nextClockDay(facts, rules, today);
      const now = computeReadiness(facts, rules, NOW);
      const until = next ?? today + 1200;
      if (next !== null) expect(next, `seed ${s}`).toBeGreaterThan(today);
      for (let d = today + 1; d < until; d++) {
        expect(computeReadiness(facts, rules, new Date(d * DAY + 3_600_000)), `seed ${s}, day +${d - today}`).toEqual(now);
      }
    }
  });

  it('names the day shelf life runs short, then every day while it counts down, then expiry', () => {
    const rules = defaultRules();
    const today = todayOf(NOW);
    const expiry = addDays(base, rules.minShelfLifeDays + 5);
    const f = emptyFacts({ lot: lot({ expiryDate: expiry }) });
    expect(nextClockDay(f, rules, today)).toBe(today + 6);
    expect(nextClockDay(f, rules, today + 6)).toBe(today + 7);
    expect(nextClockDay(f, rules, today + 5 + rules.minShelfLifeDays)).toBe(today + 6 + rules.minShelfLifeDays);
    expect(nextClockDay(f, rules, today + 6 + rules.minShelfLifeDays)).toBeNull();
  });
});
