// `lotgate start` and `lotgate status` as a partner and an operator meet them: separate
// processes, a real SFTP client, a private Redis when none is configured.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SftpClient from 'ssh2-sftp-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { readPrivateRedisRecord } from '../../pipeline/runtime/private-redis.js';
import { isAlive, REDIS_MISSING_MESSAGE } from '../../pipeline/runtime/redis.js';
import type { StatusReport } from '../../pipeline/runtime/status.js';
import { sqlitePath } from '../../pipeline/store/url.js';
import { runCli, type Child } from './helpers/child.js';
import { testLog } from './helpers/log.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { until } from './helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from './helpers/world.js';
// @ts-expect-error plain ESM helper shared with the child hook
import { databaseFor } from '../setup/pg-name.mjs';
import { onPostgres } from '../setup/store-mode.js';

const keys = fileURLToPath(new URL('../../fixtures/keys/', import.meta.url));
const hasKeys = existsSync(path.join(keys, 'bravo-lab'));

let redis: TestRedis;
let w: World | null = null;
let reader: Lotgate | null = null;
const children: Child[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis.stop();
});

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGTERM');
      await c.exited;
    }
  }
  await reader?.close();
  reader = null;
  w?.cleanup();
  w = null;
});

function cli(args: string[], env: NodeJS.ProcessEnv): Child {
  const c = runCli(args, env);
  children.push(c);
  return c;
}

function envWithout(env: NodeJS.ProcessEnv, ...names: string[]): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const n of names) delete out[n];
  return out;
}

async function statusJson(env: NodeJS.ProcessEnv): Promise<StatusReport> {
  const c = cli(['status', '--json'], env);
  await c.exited;
  return JSON.parse(c.stdout()) as StatusReport;
}

describe.skipIf(!hasKeys)('lotgate start (all roles) and lotgate status', () => {
  it('takes an SFTP upload through to an acknowledgment, and status sees it from another process', async () => {
    w = makeWorld({ sftpKeys: { 'lab-a': readFileSync(path.join(keys, 'bravo-lab.pub'), 'utf8') } });
    reader = await createLotgate(w.config, { log: testLog() });
    // lab-a logs in with the published demo key: demo mode, explicitly.
    const env = w.env({ LOTGATE_DEMO: '1', REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `start-${randomBytes(4).toString('hex')}`, LOTGATE_SFTP_PORT: '0', LOTGATE_HTTP_PORT: '0' });
    const server = cli(['start'], env);
    const banner = await server.waitForStderr(/http api {3}http:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toMatch(/^lotgate sftp \+ intake \+ worker \+ scheduler \+ api — data /m);
    const api = /http api {3}(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)![1];
    expect((await fetch(`${api}/livez`)).status).toBe(200);
    const ready = (await (await fetch(`${api}/readyz`)).json()) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(ready.checks.map((c) => c.name)).toEqual(['store_writable', 'scheduler_leases', 'redis', 'drop_zone']);
    expect(ready.ok).toBe(true);
    expect((await fetch(`${api}/api/v1/lots`)).status).toBe(401);
    expect(banner).toContain(`partners   erp, lab-a, lab-b`);
    expect(banner).toContain(`redis      ${redis.url} (REDIS_URL`);
    const port = Number(/sftp -P (\d+) -i fixtures\/keys\/lab-a lab-a@127\.0\.0\.1/.exec(banner)?.[1]);
    expect(port).toBeGreaterThan(0);

    mkdirSync(w.inbound('erp'), { recursive: true });
    writeFileSync(path.join(w.inbound('erp'), '.LOTS_1.tmp'), lotsCsv(['L1']));
    renameSync(path.join(w.inbound('erp'), '.LOTS_1.tmp'), path.join(w.inbound('erp'), 'LOTS_1.csv'));
    await until(async () => (await reader!.store.ledger.listSubmissions({ partner: 'erp' }))[0]?.state === 'applied', 'the lots to be applied');

    const sftp = new SftpClient();
    await sftp.connect({ host: '127.0.0.1', port, username: 'lab-a', privateKey: readFileSync(path.join(keys, 'bravo-lab')) });
    try {
      await sftp.put(Buffer.from(resultsCsv('L1', 25)), '/inbound/RESULTS_sftp.csv');
      const ack = await until(async () => {
        if (!(await sftp.exists('/outbound/RESULTS_sftp.csv.ack.json'))) return null;
        return JSON.parse(((await sftp.get('/outbound/RESULTS_sftp.csv.ack.json')) as Buffer).toString('utf8'));
      }, 'the acknowledgment in outbound/');
      expect(ack).toMatchObject({ file: 'RESULTS_sftp.csv', state: 'applied', counts: { rows: 25, applied: 25, rejected: 0 } });
      expect(await reader.store.ledger.getSubmission(ack.submissionId)).toMatchObject({ source: 'sftp', partner: 'lab-a' });
    } finally {
      await sftp.end();
    }
    await until(async () => (await reader!.store.audit.listAudit({ limit: 200 })).some((e) => e.action === 'sftp.disconnect'), 'the drop zone audit events');

    // Under test:postgres the server's store is the PostgreSQL database standing in for the SQLite
    // file, which is never created on disk (status would rightly find "no store yet"): status is
    // given that database's URL, as an operator of a PostgreSQL store does.
    const statusEnv = onPostgres ? { ...env, LOTGATE_DATABASE_URL: (await databaseFor(sqlitePath(w.config.store.url))) as string } : env;
    const status = await statusJson(statusEnv);
    expect(status.redis).toMatchObject({ reachable: true, source: 'env', url: redis.url });
    expect(status.store).toMatchObject({ ok: true, submissions: 2 });
    expect(status.queues.map((q) => q.partner)).toEqual(['erp', 'lab-a', 'lab-b']);
    expect(status.queues.find((q) => q.partner === 'lab-a')).toMatchObject({ waiting: 0, active: 0, failed: 0, completed: 1 });
    expect(status.recent[0]).toMatchObject({ partner: 'lab-a', originalName: 'RESULTS_sftp.csv', state: 'applied', rows: 25 });
    expect(status.unfinished).toBe(0);

    const text = cli(['status'], statusEnv);
    expect((await text.exited).code).toBe(0);
    expect(text.stdout()).toMatch(/^Redis {5}reachable {2}redis:\/\/127\.0\.0\.1:\d+ \(REDIS_URL\)/m);
    expect(text.stdout()).toMatch(/^lab-a +0 +0 +0 +0$/m);
    expect(text.stdout()).toContain('RESULTS_sftp.csv');

    server.proc.kill('SIGINT');
    expect((await server.exited).code).toBe(0);
    // Stopping anchors the last head of the audit chain outside the database.
    const anchors = readFileSync(path.join(w.dataDir, 'audit-anchors.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(anchors.at(-1)).toMatchObject({ source: 'shutdown', ...await reader.store.audit.auditHead() });
  });
});

describe('lotgate start without a Redis', () => {
  it('runs a private redis-server under the data dir, which status finds and the server stops', async () => {
    w = makeWorld();
    const env = envWithout(w.env({ LOTGATE_QUEUE_PREFIX: `priv-${randomBytes(4).toString('hex')}` }), 'REDIS_URL');
    const server = cli(['start', '--role', 'intake'], env);
    const banner = await server.waitForStderr('  status ');
    expect(banner).toContain(`private redis-server, data in ${path.join(w.dataDir, 'redis')}`);
    const rec = readPrivateRedisRecord(w.dataDir)!;
    expect(rec.ownerPid).toBe(server.proc.pid);
    expect(isAlive(rec.pid)).toBe(true);

    const status = await statusJson(env);
    expect(status.redis).toMatchObject({ reachable: true, source: 'private', url: rec.url });

    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(isAlive(rec.pid)).toBe(false);
    expect(readPrivateRedisRecord(w.dataDir)).toBeNull();

    const after = cli(['status'], env);
    expect((await after.exited).code).toBe(1);
    expect(after.stdout()).toMatch(/^Redis {5}UNREACHABLE/m);
  });

  it('stops with a clear message when there is neither Redis nor redis-server', async () => {
    w = makeWorld();
    const env = { ...envWithout(w.env(), 'REDIS_URL'), PATH: '/nonexistent' };
    const server = cli(['start', '--role', 'worker'], env);
    const { code } = await server.exited;
    expect(code).toBe(69);
    expect(server.stderr()).toContain(`lotgate: ${REDIS_MISSING_MESSAGE}`);
    expect(server.stderr()).not.toMatch(/at .*\.js:\d+/);
  });

  it('refuses an unknown role, naming the valid ones', async () => {
    w = makeWorld();
    const c = cli(['start', '--role', 'sftp', '--role', 'wrker'], w.env({ REDIS_URL: redis.url }));
    expect((await c.exited).code).toBe(2);
    expect(c.stderr()).toContain('unknown role "wrker": use sftp, intake, worker');
  });
});
