// The scheduler with the real jobs: push runs on its cron schedule and drains the outbox into a
// file drop; stop() ends a job that is running at its next safe point and waits for it.

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JOBS } from '../../jobs/index.js';
import { defineJob } from '../../pipeline/scheduler/job.js';
import type { RunOutcome } from '../../pipeline/scheduler/runner.js';
import { startScheduler } from '../../pipeline/scheduler/scheduler.js';
import { closeWorlds, makeWorld, silent } from '../jobs/helpers/world.js';

afterEach(() => closeWorlds());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler', () => {
  it('runs the enabled jobs on their schedules: push drains the outbox into the file drop', async () => {
    const w = await makeWorld({ jobs: { push: { schedule: '* * * * * *' } } });
    const drop = path.join(w.dir, 'outbound');
    w.config.connectors = [
      { name: 'erp-drop', type: 'file', dir: path.join(drop, 'erp'), format: 'csv', topics: ['erp.*'] },
      { name: 'qms-drop', type: 'file', dir: path.join(drop, 'qms'), format: 'json', topics: ['qms.*'] },
    ];
    await w.ingest('erp');
    const pending = (await w.lg.store.outbox.countOutbox()).pending;
    expect(pending).toBeGreaterThan(0);
    const outcomes: RunOutcome[] = [];
    const s = startScheduler({ config: w.config, log: silent, env: {} }, { jobs: JOBS, only: ['push'], onRun: (o) => outcomes.push(o) });
    expect(s.jobs.map((j) => j.name)).toEqual(['push']);
    expect(s.banner.join('\n')).toContain('push (* * * * * *)');
    try {
      while ((await w.lg.store.outbox.countOutbox()).pending > 0) await sleep(100);
    } finally {
      await s.stop();
    }
    expect(outcomes[0]).toMatchObject({ status: 'ok', counts: { sent: pending } });
    expect(readdirSync(path.join(drop, 'erp'))).toHaveLength(pending);
    expect(existsSync(path.join(drop, 'qms'))).toBe(false);
    expect((await w.lg.store.jobs.listJobRuns({ name: 'push' }))[0].details).toMatchObject({ trigger: 'schedule' });
  });

  it('stops a running job at its next safe point when the scheduler stops', async () => {
    const w = await makeWorld();
    let started = false;
    const job = defineJob({
      name: 'endless',
      description: '',
      defaultSchedule: '* * * * * *',
      optionsSchema: {},
      defaults: {},
      async run(ctx) {
        started = true;
        while (!ctx.signal.aborted) await sleep(10);
        throw ctx.signal.reason;
      },
    });
    const outcomes: RunOutcome[] = [];
    const s = startScheduler({ config: w.config, log: silent, openLotgate: w.open, env: {} }, { jobs: [job], onRun: (o) => outcomes.push(o) });
    while (!started) await sleep(20);
    await s.stop();
    expect(outcomes).toEqual([expect.objectContaining({ status: 'error', error: 'the scheduler is stopping' })]);
    expect(await w.lg.store.jobs.getLease('job:endless')).toBeUndefined();
  });

  it('refuses to start with a broken jobs section or an unknown job', async () => {
    const w = await makeWorld({ jobs: { push: { schedule: '* * *' } } });
    expect(() => startScheduler({ config: w.config, log: silent }, { jobs: JOBS })).toThrow(/jobs\.push\.schedule: not a valid cron expression/);
    const ok = await makeWorld();
    expect(() => startScheduler({ config: ok.config, log: silent }, { jobs: JOBS, only: ['nope'] })).toThrow(/unknown job\(s\): nope/);
  });
});
