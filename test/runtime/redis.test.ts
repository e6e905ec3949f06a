import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type LotgateConfig } from '../../pipeline/config/config.js';
import { readPrivateRedisRecord } from '../../pipeline/runtime/private-redis.js';
import { isAlive, pingRedis, REDIS_MISSING_MESSAGE, RedisUnavailableError, resolveRedis, type RedisHandle } from '../../pipeline/runtime/redis.js';
import { testLog } from './helpers/log.js';
import { freePort, startTestRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
const dirs: string[] = [];

function configWith(redisUrl: string): LotgateConfig {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-redis-'));
  dirs.push(dataDir);
  const c = loadConfig({ env: {}, dataDir });
  return { ...c, redis: { url: redisUrl, fromEnv: false } };
}

async function waitUntil(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('resolveRedis', () => {
  it('uses REDIS_URL when it answers', async () => {
    const h = await resolveRedis(configWith('redis://127.0.0.1:1'), testLog(), { env: { REDIS_URL: redis.url } });
    expect(h).toMatchObject({ url: redis.url, source: 'env', owned: false });
    expect(h.version).toMatch(/^\d+\./);
  });

  it('fails with a clear message when REDIS_URL does not answer, instead of using something else', async () => {
    const port = await freePort();
    const err = await resolveRedis(configWith(redis.url), testLog(), { env: { REDIS_URL: `redis://127.0.0.1:${port}` } }).catch((e) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.message).toContain(`REDIS_URL=redis://127.0.0.1:${port} does not answer (connect ECONNREFUSED`);
  });

  it('uses the configured URL when it answers', async () => {
    const h = await resolveRedis(configWith(redis.url), testLog(), { env: {} });
    expect(h).toMatchObject({ url: redis.url, source: 'config', owned: false });
  });

  it('says what to install or set when there is no Redis and no redis-server', async () => {
    const port = await freePort();
    const err = await resolveRedis(configWith(`redis://127.0.0.1:${port}`), testLog(), { env: {}, redisServer: '/nonexistent/redis-server' }).catch((e) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.message).toBe(REDIS_MISSING_MESSAGE);
  });

  describe('private redis-server', () => {
    let config: LotgateConfig;
    let handle: RedisHandle;

    beforeAll(async () => {
      config = configWith(`redis://127.0.0.1:${await freePort()}`);
      handle = await resolveRedis(config, testLog(), { env: {} });
    });

    afterAll(async () => {
      await handle.stop();
    });

    it('is started on loopback with its data under the data dir and recorded for other processes', async () => {
      expect(handle).toMatchObject({ source: 'private', owned: true });
      expect(handle.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect((await pingRedis(handle.url)).ok).toBe(true);
      const rec = readPrivateRedisRecord(config.dataDir);
      expect(rec).toMatchObject({ url: handle.url, ownerPid: process.pid, dir: path.join(config.dataDir, 'redis') });
      const c = new Redis(handle.url);
      try {
        expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(await c.config('GET', 'dir')).toEqual(['dir', path.join(config.dataDir, 'redis')]);
      } finally {
        c.disconnect();
      }
    });

    it('is shared with another lotgate process of the same data dir, which does not stop it', async () => {
      const other = await resolveRedis(config, testLog(), { env: {} });
      expect(other).toMatchObject({ url: handle.url, source: 'private', owned: false });
      await other.stop();
      expect((await pingRedis(handle.url)).ok).toBe(true);
    });

    it('comes back on the same port, with its data, after it was killed', async () => {
      const c = new Redis(handle.url, { maxRetriesPerRequest: null });
      c.on('error', () => {});
      try {
        await c.set('kept', 'yes');
        await c.bgrewriteaof();
        await waitUntil(async () => (await c.info('persistence')).includes('aof_rewrite_in_progress:0'), 'AOF rewrite');
        const pid = readPrivateRedisRecord(config.dataDir)!.pid;
        process.kill(pid, 'SIGKILL');
        await waitUntil(() => !isAlive(pid), 'redis to die');
        await waitUntil(async () => (await pingRedis(handle.url)).ok && readPrivateRedisRecord(config.dataDir)?.pid !== pid, 'redis to come back');
        expect(await c.get('kept')).toBe('yes');
      } finally {
        c.disconnect();
      }
    });

    it('is stopped by its owner and its record removed', async () => {
      const pid = readPrivateRedisRecord(config.dataDir)!.pid;
      await handle.stop();
      expect(isAlive(pid)).toBe(false);
      expect(existsSync(path.join(config.dataDir, 'redis', 'server.json'))).toBe(false);
      expect((await pingRedis(handle.url, 300)).ok).toBe(false);
    });
  });
});
