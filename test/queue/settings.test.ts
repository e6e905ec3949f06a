import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { jobIdFor, partnerOfQueue, queueName, queueSettings, submissionOfJob } from '../../pipeline/queue/settings.js';

const config = loadConfig({ configPath: undefined, env: {}, dataDir: mkdtempSync(path.join(os.tmpdir(), 'lg-settings-')) });

describe('queue names', () => {
  it('one queue per partner, without the key separator BullMQ forbids', () => {
    expect(queueName('acme-cmo')).toBe('ingest.acme-cmo');
    expect(partnerOfQueue('ingest.acme-cmo')).toBe('acme-cmo');
    expect(partnerOfQueue('other')).toBeNull();
    expect(() => queueName('a:b')).toThrow();
  });

  it('job ids name the submission and are not plain integers (BullMQ refuses those)', () => {
    expect(jobIdFor(42)).toBe('sub-42');
    expect(submissionOfJob('sub-42')).toBe(42);
    expect(submissionOfJob('42')).toBeNull();
  });
});

describe('queueSettings', () => {
  it('takes attempts, backoff and concurrency from config.queue', () => {
    const s = queueSettings(config, {});
    expect(s.prefix).toMatch(/^lotgate:[0-9a-f]{8}$/);
    expect(s).toMatchObject({ attempts: config.queue.attempts, backoffMs: config.queue.backoffMs, workers: config.queue.workers, lockMs: 30_000 });
  });

  it('gives every data dir its own default prefix, stable across processes', () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'lg-inst-'));
    const b = mkdtempSync(path.join(os.tmpdir(), 'lg-inst-'));
    const pa = queueSettings({ ...config, dataDir: a }, {}).prefix;
    expect(queueSettings({ ...config, dataDir: a }, {}).prefix).toBe(pa);
    expect(queueSettings({ ...config, dataDir: b }, {}).prefix).not.toBe(pa);
    rmSync(a, { recursive: true });
    rmSync(b, { recursive: true });
  });

  it('lets the environment isolate and tune an installation', () => {
    const s = queueSettings(config, { LOTGATE_QUEUE_PREFIX: 'test-x', LOTGATE_QUEUE_LOCK_MS: '2000', LOTGATE_SHUTDOWN_GRACE_MS: '500' });
    expect(s).toMatchObject({ prefix: 'test-x', lockMs: 2000, stalledIntervalMs: 2000, shutdownGraceMs: 500 });
  });

  it('rejects nonsense with the variable name', () => {
    expect(() => queueSettings(config, { LOTGATE_QUEUE_LOCK_MS: 'soon' })).toThrow(/LOTGATE_QUEUE_LOCK_MS/);
  });
});
