// One run of a job at a time across processes: the lease in SQLite, renewed while the job runs,
// lost when another holder takes it over; every run recorded and audited; two schedulers on one
// store never run a job at the same time.

import { afterEach, describe, expect, it } from 'vitest';
import type { JobSettings } from '../../pipeline/scheduler/config.js';
import { defineJob, type AnyJob } from '../../pipeline/scheduler/job.js';
import { leaseName, runJob, type RunOutcome } from '../../pipeline/scheduler/runner.js';
import { startScheduler } from '../../pipeline/scheduler/scheduler.js';
import { closeWorlds, makeWorld, silent, type World } from '../jobs/helpers/world.js';

afterEach(() => closeWorlds());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Gate {
  open(): void;
  wait: Promise<void>;
}
function gate(): Gate {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { open, wait };
}

function settings(name: string, leaseSeconds = 60): JobSettings {
  return { name, enabled: true, schedule: '* * * * *', timezone: 'UTC', leaseSeconds, options: {} };
}

const deps = (w: World) => ({ config: w.config, log: silent, now: w.clock.now, openLotgate: w.open, env: {} });

describe('job lease', () => {
  it('lets one run hold a job; a second one, on its own connection, is turned away until the first ends', async () => {
    const w = await makeWorld();
    const g = gate();
    let entered = 0;
    const job = defineJob({
      name: 'hold',
      description: 'waits for the test',
      defaultSchedule: '* * * * *',
      optionsSchema: {},
      defaults: {},
      async run(ctx) {
        entered++;
        await g.wait;
        return { counts: { lots: (await ctx.lg.store.readiness.listOpenLotIds()).length } };
      },
    });
    const first = runJob(job, settings('hold'), deps(w), { holder: 'proc-a' });
    await sleep(20);
    const second = await runJob(job, settings('hold'), deps(w), { holder: 'proc-b' });
    expect(second).toMatchObject({ status: 'busy', holder: expect.stringMatching(/^proc-a#/) });
    expect(entered).toBe(1);
    g.open();
    expect(await first).toMatchObject({ status: 'ok', counts: { lots: 0 } });
    expect(await w.lg.store.jobs.getLease(leaseName('hold'))).toBeUndefined();
    expect(await runJob(job, settings('hold'), deps(w), { holder: 'proc-b' })).toMatchObject({ status: 'ok' });
    // Both runs recorded (start, end, counts) and audited.
    const runs = await w.lg.store.jobs.listJobRuns({ name: 'hold' });
    expect(runs.map((r) => [r.status, r.holder?.split('#')[0], r.error])).toEqual([
      ['ok', 'proc-b', null],
      ['ok', 'proc-a', null],
    ]);
    expect(runs[1].details).toEqual({ trigger: 'manual', counts: { lots: 0 } });
    expect(Date.parse(runs[1].finishedAt!)).toBeGreaterThanOrEqual(Date.parse(runs[1].startedAt));
    const audit = await w.lg.store.audit.listAudit({ action: 'job.run' });
    expect(audit).toHaveLength(2);
    expect(audit[1]).toMatchObject({ actor: 'job:hold', subject: 'job:hold', details: { status: 'ok', counts: { lots: 0 }, runId: runs[1].id } });
  });

  it('renews the lease while the job runs, past the lease’s own length', async () => {
    const w = await makeWorld();
    const g = gate();
    const job = defineJob({ name: 'long', description: '', defaultSchedule: '* * * * *', optionsSchema: {}, defaults: {}, run: async () => (await g.wait, { counts: {} }) });
    const started = Date.now();
    const first = runJob(job, settings('long', 0.3), deps(w), { holder: 'a', renewMs: 30 });
    // Three lease lengths later the lease is still held (renewed), so nobody else gets in.
    while (Date.now() - started < 1000) await sleep(50);
    expect(Date.parse((await w.lg.store.jobs.getLease(leaseName('long')))!.expiresAt)).toBeGreaterThan(started + 900);
    expect(await runJob(job, settings('long', 0.3), deps(w), { holder: 'b' })).toMatchObject({ status: 'busy' });
    g.open();
    expect(await first).toMatchObject({ status: 'ok' });
  });

  it('takes over a job whose holder died once the lease expired, and stops a run whose lease was taken', async () => {
    const w = await makeWorld();
    // A holder that died 10 minutes ago with a 60 s lease: free.
    await w.lg.store.jobs.tryAcquireLease(leaseName('t'), 'dead-process', 60_000, Date.now() - 600_000);
    let ticks = 0;
    const job = defineJob({
      name: 't',
      description: '',
      defaultSchedule: '* * * * *',
      optionsSchema: {},
      defaults: {},
      async run(ctx) {
        for (;;) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          ticks++;
          await sleep(10);
        }
      },
    });
    const run = runJob(job, settings('t', 60), deps(w), { holder: 'mine', renewMs: 20 });
    while (ticks < 3) await sleep(10);
    // Someone whose clock says the lease is long gone takes it.
    expect(await w.lg.store.jobs.tryAcquireLease(leaseName('t'), 'intruder', 60_000, Date.now() + 3_600_000)).toBe(true);
    const outcome = await run;
    expect(outcome).toMatchObject({ status: 'error', error: 'lease lost: another process took job t over' });
    expect((await w.lg.store.jobs.getLease(leaseName('t')))?.holder).toBe('intruder');
    expect((await w.lg.store.jobs.listJobRuns({ name: 't' }))[0]).toMatchObject({ status: 'error', error: 'lease lost: another process took job t over' });
  });
});

describe('two schedulers on one store', () => {
  it('never run the same job at the same time', async () => {
    const w = await makeWorld();
    const intervals: { from: number; to: number }[] = [];
    let active = 0;
    let overlapped = false;
    const job: AnyJob = defineJob({
      name: 'tick',
      description: 'a job slower than its schedule',
      defaultSchedule: '* * * * * *', // every second
      optionsSchema: {},
      defaults: {},
      async run() {
        active++;
        if (active > 1) overlapped = true;
        const from = Date.now();
        await sleep(1300);
        active--;
        intervals.push({ from, to: Date.now() });
        return { counts: {} };
      },
    });
    const outcomes: RunOutcome[] = [];
    const a = startScheduler({ config: w.config, log: silent, openLotgate: w.open, env: {} }, { jobs: [job], holder: 'scheduler-a', onRun: (o) => outcomes.push(o) });
    const b = startScheduler({ config: w.config, log: silent, openLotgate: w.open, env: {} }, { jobs: [job], holder: 'scheduler-b', onRun: (o) => outcomes.push(o) });
    expect(a.jobs).toEqual([expect.objectContaining({ name: 'tick', schedule: '* * * * * *' })]);
    try {
      while (outcomes.length < 3) await sleep(100);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(overlapped).toBe(false);
    const sorted = [...intervals].sort((x, y) => x.from - y.from);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].from).toBeGreaterThanOrEqual(sorted[i - 1].to);
    expect(outcomes.every((o) => o.status === 'ok')).toBe(true);
    const runs = await w.lg.store.jobs.listJobRuns({ name: 'tick' });
    expect(runs.length).toBe(outcomes.length);
    expect(runs.every((r) => (r.details as { trigger: string }).trigger === 'schedule')).toBe(true);
  });
});
