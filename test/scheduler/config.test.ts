// The `jobs:` section and the partner `pull:` section: defaults, and every mistake reported at
// once with where it is.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { nextRuns, parseJobsConfig } from '../../pipeline/scheduler/config.js';
import { pullSource } from '../../jobs/pull-config.js';
import { JOBS } from '../../jobs/index.js';

describe('jobs config', () => {
  it('gives every job its default schedule, the default time zone and its default options', () => {
    const { config, problems } = parseJobsConfig(undefined, JOBS, 'jobs', 'Europe/Berlin');
    expect(problems).toEqual([]);
    expect([...config.jobs.keys()]).toEqual(['readiness-sweep', 'push', 'pull', 'notify', 'digest', 'audit-anchor']);
    expect(config.jobs.get('push')).toEqual({
      name: 'push',
      enabled: true,
      schedule: '* * * * *',
      timezone: 'Europe/Berlin',
      leaseSeconds: 120,
      options: { batchSize: 100, maxBatches: 50, visibilitySeconds: 300, unroutedRetryMinutes: 60 },
    });
    expect(config.jobs.get('digest')).toMatchObject({ schedule: '0 7 * * *', options: { sendEmpty: false } });
  });

  it('takes schedules, zones, leases and options per job', () => {
    const { config, problems } = parseJobsConfig(
      { timezone: 'UTC', leaseSeconds: 300, push: { schedule: '*/2 * * * *', batchSize: 10 }, digest: { timezone: 'America/New_York', enabled: false } },
      JOBS,
    );
    expect(problems).toEqual([]);
    expect(config.jobs.get('push')).toMatchObject({ schedule: '*/2 * * * *', timezone: 'UTC', leaseSeconds: 300, options: { batchSize: 10, visibilitySeconds: 300 } });
    expect(config.jobs.get('digest')).toMatchObject({ enabled: false, timezone: 'America/New_York' });
  });

  it('reports every mistake with its path', () => {
    const { problems } = parseJobsConfig(
      {
        timezone: 'Mars/Olympus',
        pusher: {},
        push: { schedule: '61 * * * *', batchSize: 'many' },
        pull: { schedule: '*/5 * * * *', color: 'red' },
        digest: { groups: [{ name: 'qa' }] },
        'readiness-sweep': { timezone: 'Europe/Nowhere' },
      },
      JOBS,
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['jobs.digest.groups[0]', 'jobs.pull', 'jobs.push.batchSize', 'jobs.pusher', 'jobs.readiness-sweep.timezone', 'jobs.timezone'].sort());
    expect(problems.find((p) => p.path === 'jobs.pusher')?.message).toContain('unknown job "pusher"; known jobs: readiness-sweep, push, pull, notify, digest');
    expect(problems.find((p) => p.path === 'jobs.pull')?.message).toBe('unknown key "color"');
    expect(problems.find((p) => p.path === 'jobs.timezone')?.message).toContain('unknown time zone "Mars/Olympus"');
    // The cron expression is checked once the rest of the entry is valid.
    const cron = parseJobsConfig({ push: { schedule: '61 * * * *' } }, JOBS).problems;
    expect(cron).toEqual([expect.objectContaining({ path: 'jobs.push.schedule', message: expect.stringContaining('not a valid cron expression "61 * * * *" (minute:') })]);
  });

  it('computes the next run in the job’s time zone', () => {
    const [berlin] = nextRuns('0 7 * * *', 'Europe/Berlin');
    const [ny] = nextRuns('0 7 * * *', 'America/New_York');
    expect(DateTime.fromJSDate(berlin, { zone: 'Europe/Berlin' }).toFormat('HH:mm')).toBe('07:00');
    expect(DateTime.fromJSDate(ny, { zone: 'America/New_York' }).toFormat('HH:mm')).toBe('07:00');
    expect(berlin.getTime()).toBeGreaterThan(Date.now());
    expect(nextRuns('not cron', 'UTC')).toEqual([]);
  });
});

describe('partner pull config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-pullcfg-'));
  const key = path.join(dir, 'id_ed25519');
  writeFileSync(key, 'not really a key, but readable');
  const base = { host: 'sftp.acme.example', user: 'northwind', keyPath: key, hostFingerprint: 'SHA256:' + 'b'.repeat(43), folder: '/out' };

  it('fills in defaults: port 22, stable size 60 s, leave, processed/ for moves', () => {
    const r = pullSource('acme-cmo', base, {}, dir, 'acme-cmo.yaml: pull');
    if (!('source' in r)) throw new Error(JSON.stringify(r.problems));
    expect(r.source).toMatchObject({ port: 22, stableSeconds: 60, doneMarker: null, after: 'leave', moveTo: '/out/processed', maxFiles: 100 });
    expect(r.source.matches('anything.csv')).toBe(true);
    expect(r.source.privateKey?.toString()).toBe('not really a key, but readable');
    const m = pullSource('acme-cmo', { ...base, pattern: ['*.CSV'], doneMarker: '.done', after: 'move', moveTo: '/archive/' }, {}, dir, 'x');
    if (!('source' in m)) throw new Error('expected a source');
    expect(m.source).toMatchObject({ stableSeconds: 0, doneMarker: '.done', moveTo: '/archive' });
    expect([m.source.matches('batch.csv'), m.source.matches('batch.pdf')]).toEqual([true, false]);
  });

  it('reports missing host keys, secrets written inline, missing variables and contradictions together', () => {
    const r = pullSource(
      'acme-cmo',
      { host: 'h', user: 'u', folder: 'relative', password: 'hunter2', passwordEnv: 'ACME_PW', doneMarker: '.done', stableSeconds: 5, moveTo: '/x' },
      {},
      dir,
      'acme-cmo.yaml: pull',
    );
    expect('problems' in r && r.problems.map((p) => `${p.path}: ${p.code}`)).toEqual(['acme-cmo.yaml: pull.password: E_CONFIG_SECRET_INLINE', 'acme-cmo.yaml: pull.folder: E_CONFIG_INVALID']);
    const r2 = pullSource('acme-cmo', { host: 'h', user: 'u', folder: '/in', passwordEnv: 'ACME_PW', doneMarker: '.done', stableSeconds: 5, moveTo: '/x', keyPath: 'missing_key' }, {}, dir, 'p');
    expect('problems' in r2 && r2.problems.map((p) => p.code).sort()).toEqual(['E_CONFIG_ENV_MISSING', 'E_CONFIG_HOST_KEY', 'E_CONFIG_INVALID', 'E_CONFIG_INVALID', 'E_CONFIG_KEY_UNREADABLE'].sort());
  });
});
