// `lotgate job list` and `lotgate job run` as an operator uses them.

import { afterEach, describe, expect, it } from 'vitest';
import { leaseName } from '../../pipeline/scheduler/runner.js';
import { cli } from '../jobs/helpers/cli.js';
import { closeWorlds, ingestDemo, makeWorld } from '../jobs/helpers/world.js';

afterEach(() => closeWorlds());

describe('lotgate job', () => {
  it('lists every job with schedule, last run, outcome and next run; runs one on demand', async () => {
    const w = await makeWorld({ jobs: { timezone: 'UTC', digest: { schedule: '30 6 * * 1-5' }, pull: { enabled: false } } });
    await ingestDemo(w, ['erp']);
    const run = await cli(w.configPath, ['job', 'run', 'readiness-sweep', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'ok', job: 'readiness-sweep', counts: { lots: 6 } });

    const list = await cli(w.configPath, ['job', 'list', '--json']);
    expect(list.exitCode).toBe(0);
    const jobs = JSON.parse(list.stdout) as { name: string; schedule: string; timezone: string; enabled: boolean; nextRun: string | null; lastRun: { outcome: string; counts: Record<string, number> } | null }[];
    expect(jobs.map((j) => j.name)).toEqual(['readiness-sweep', 'push', 'pull', 'notify', 'digest', 'audit-anchor']);
    const sweep = jobs[0];
    expect(sweep).toMatchObject({ schedule: '5 * * * *', timezone: 'UTC', lastRun: { outcome: 'ok', counts: { lots: 6 } } });
    expect(Date.parse(sweep.nextRun!)).toBeGreaterThan(Date.now());
    expect(new Date(sweep.nextRun!).getUTCMinutes()).toBe(5);
    expect(jobs.find((j) => j.name === 'digest')).toMatchObject({ schedule: '30 6 * * 1-5', lastRun: null });
    expect(jobs.find((j) => j.name === 'pull')).toMatchObject({ enabled: false, nextRun: null });

    const table = await cli(w.configPath, ['job', 'list']);
    expect(table.stdout).toMatch(/readiness-sweep\s+5 \* \* \* \* \(UTC\)\s+\S+\s+\S+\s+ok\s+lots 6/);
    expect(table.stdout).toMatch(/pull\s+disabled/);
  });

  it('says who is running a job instead of running it twice (exit 5), and refuses unknown jobs', async () => {
    const w = await makeWorld();
    expect(await w.lg.store.jobs.tryAcquireLease(leaseName('push'), 'host-b:4242:abc#1', 60_000, Date.now())).toBe(true);
    const busy = await cli(w.configPath, ['job', 'run', 'push']);
    expect(busy.exitCode).toBe(5);
    expect(busy.stderr).toContain('job push is running in host-b:4242:abc#1');
    expect(await w.lg.store.jobs.listJobRuns({ name: 'push' })).toEqual([]);
    const unknown = await cli(w.configPath, ['job', 'run', 'pushh']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('unknown job "pushh"');
  });

  it('stops with the config problems when the jobs section is wrong', async () => {
    const w = await makeWorld({ jobs: { push: { schedule: 'every minute' } } });
    const r = await cli(w.configPath, ['job', 'list']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('jobs.push.schedule: not a valid cron expression "every minute"');
  });
});
