// LISTEN/NOTIFY wakes the push job (PostgreSQL): a message stored in the outbox is delivered by
// the scheduler although push's schedule would not fire during the test, through the same runJob
// as a tick (lease, run record with trigger `schedule`). The coalescing trigger behind it runs
// once for a burst of pokes and never twice at a time; the listener comes back after its
// connection was killed. On a PostgreSQL database of this file's own (createPgDatabase).

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../jobs/index.js';
import { coalescingTrigger } from '../../pipeline/scheduler/outbox-wake.js';
import type { RunOutcome } from '../../pipeline/scheduler/runner.js';
import { startScheduler, type RunningScheduler } from '../../pipeline/scheduler/scheduler.js';
import { openStore, type OpenStore } from '../../pipeline/store/store.js';
import { closeWorlds, makeWorld, silent, type World } from '../jobs/helpers/world.js';
import { createPgDatabase } from '../store/conformance/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('coalescing trigger', () => {
  it('runs once after a burst of pokes', async () => {
    let runs = 0;
    const t = coalescingTrigger(async () => void runs++, { delayMs: 20 });
    for (let i = 0; i < 10; i++) t.poke();
    await until('the run', () => runs > 0);
    await sleep(100);
    expect(runs).toBe(1);
    await t.stop();
  });

  it('turns N pokes during a run into exactly one follow-up run, never two at a time', async () => {
    let runs = 0;
    let active = 0;
    let most = 0;
    let release: () => void = () => {};
    const t = coalescingTrigger(
      async () => {
        runs++;
        most = Math.max(most, ++active);
        if (runs === 1) await new Promise<void>((r) => (release = r));
        active--;
      },
      { delayMs: 0 },
    );
    t.poke();
    await until('the first run', () => runs === 1);
    for (let i = 0; i < 25; i++) t.poke();
    await sleep(50);
    expect(runs).toBe(1); // still in the first run
    release();
    await until('the follow-up run', () => runs === 2);
    await sleep(100);
    expect([runs, most]).toEqual([2, 1]);
    // Quiet again: the next poke runs again.
    t.poke();
    await until('a later run', () => runs === 3);
    await t.stop();
  });

  it('runs nothing after stop, and stop waits for the run under way', async () => {
    let runs = 0;
    let done = false;
    const t = coalescingTrigger(
      async () => {
        runs++;
        await sleep(50);
        done = true;
      },
      { delayMs: 0 },
    );
    t.poke();
    await until('the run', () => runs === 1);
    t.poke();
    await t.stop();
    expect(done).toBe(true);
    t.poke();
    await sleep(50);
    expect(runs).toBe(1);
  });
});

describe('outbox wake [postgres]', () => {
  let db: { url: string; drop: () => Promise<void> };
  let s: RunningScheduler | undefined;
  let store: OpenStore | undefined;
  beforeAll(async () => {
    db = await createPgDatabase('lotgate_wake');
  }, 60_000);
  afterEach(async () => {
    await s?.stop();
    await store?.close();
    s = store = undefined;
    await closeWorlds();
  });
  afterAll(() => db?.drop(), 60_000);

  /** A world on the test database, push scheduled yearly (never during the test), a file drop for `qms.*`. */
  async function world(): Promise<{ w: World; drop: string }> {
    const w = await makeWorld({ jobs: { push: { schedule: '0 0 1 1 *' } } });
    const drop = path.join(w.dir, 'outbound', 'qms');
    w.config.connectors = [{ name: 'qms-drop', type: 'file', dir: drop, format: 'json', topics: ['qms.*'] }];
    w.config.store = { ...w.config.store, url: db.url };
    return { w, drop };
  }

  const message = (id: string) => ({ id, topic: 'qms.lot.status', key: `LOT-${id}`, payload: { lot: `LOT-${id}`, status: 'released' } });
  const delivered = (drop: string) => (existsSync(drop) ? readdirSync(drop).length : 0);

  it('runs push soon after a message is stored, as a scheduled run under the lease', async () => {
    const { w, drop } = await world();
    store = await openStore(db.url);
    const outcomes: RunOutcome[] = [];
    s = startScheduler({ config: w.config, log: silent, env: {} }, { jobs: JOBS, only: ['push'], onRun: (o) => outcomes.push(o) });
    // A notification sent before LISTEN is in place is lost (the schedule would deliver it).
    await until('the listener', () => listening(db.url).then((p) => p.length === 1));
    await store.transaction(async (tx) => {
      await tx.outbox.enqueueOutbox(message('m1'));
      await tx.outbox.enqueueOutbox(message('m2'));
    });
    await until('the woken run', () => outcomes.length > 0);
    expect(delivered(drop)).toBe(2);
    expect((await store.outbox.countOutbox()).pending).toBe(0);
    expect(outcomes[0]).toMatchObject({ status: 'ok', job: 'push' });
    const runs = await store.jobs.listJobRuns({ name: 'push' });
    expect(runs[0]).toMatchObject({ status: 'ok' });
    expect(runs[0].details).toMatchObject({ trigger: 'schedule' });
    expect(await store.jobs.getLease('job:push')).toBeUndefined();
  });

  it('listens again after its connection was killed', async () => {
    const { w, drop } = await world();
    store = await openStore(db.url);
    s = startScheduler({ config: w.config, log: silent, env: {} }, { jobs: JOBS, only: ['push'], outboxWake: { backoffMs: 50 } });
    await until('the listener', () => listening(db.url).then((p) => p.length === 1));
    const [before] = await listening(db.url);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
      await until('the listener to come back', () => listening(db.url).then((p) => p.length === 1 && p[0] !== before));
    } finally {
      await admin.end();
    }
    await store.outbox.enqueueOutbox(message('m3'));
    await until('the delivery', () => delivered(drop) === 1);
  });

  it('stops listening when the scheduler stops', async () => {
    const { w } = await world();
    s = startScheduler({ config: w.config, log: silent, env: {} }, { jobs: JOBS, only: ['push'] });
    await until('the listener', () => listening(db.url).then((p) => p.length === 1));
    await s.stop();
    s = undefined;
    await until('no listener', () => listening(db.url).then((p) => p.length === 0));
  });
});

/** The connections (pids) of the test database whose last statement was LISTEN. */
async function listening(url: string): Promise<number[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`);
    return r.rows.map((row) => row.pid);
  } finally {
    await c.end();
  }
}

