// The whole conveyor in one process: watcher/reconciler → ledger → per-partner queues → worker
// threads (dist/) → store and acknowledgments, against a private redis-server.

import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { startServer, type Role, type RunningServer } from '../../pipeline/runtime/server.js';
import { testLog } from '../runtime/helpers/log.js';
import { startTestRedis, type TestRedis } from '../runtime/helpers/redis.js';
import { until } from '../runtime/helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';

let redis: TestRedis;
let w: World;
let reader: Lotgate;
let prefix: string;
const servers: RunningServer[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis.stop();
});

beforeEach(() => {
  prefix = `pipe-${randomBytes(4).toString('hex')}`;
});

afterEach(async () => {
  await Promise.allSettled(servers.splice(0).map((s) => s.stop()));
  await reader?.close();
  w?.cleanup();
});

async function world(opts: Parameters<typeof makeWorld>[0] = {}): Promise<World> {
  w = makeWorld(opts);
  reader = await createLotgate(w.config, { log: testLog() });
  return w;
}

async function start(roles: Role[], env: Record<string, string> = {}): Promise<RunningServer> {
  const s = await startServer({
    config: w.config,
    roles,
    log: testLog(),
    env: { REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: prefix, ...env },
    reconcile: { stagedGraceMs: 0 },
  });
  servers.push(s);
  return s;
}

const drop = (partner: string, name: string, content: string): string => w.drop(partner, name, content);

const subsOf = (partner?: string) => reader.store.ledger.listSubmissions({ partner, limit: 1000 });
const testsOf = async (lot: string) => {
  const d = await reader.store.reads.getLotDetail(lot);
  return d && !Array.isArray(d) ? d.tests : [];
};
/** The acknowledgment is written right after the ledger commit, so it may trail the state by a moment. */
const ackOf = (partner: string, name: string) =>
  until(() => {
    const p = path.join(w.outbound(partner), `${name}.ack.json`);
    return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
  }, `the acknowledgment of ${name}`);

async function seedLots(lots: string[]): Promise<void> {
  drop('erp', 'LOTS_seed.csv', lotsCsv(lots));
  await until(async () => (await subsOf('erp')).find((s) => s.originalName === 'LOTS_seed.csv' && s.state === 'applied'), 'the ERP lots to be applied');
}

describe('intake → queue → worker threads', () => {
  it('a file copied slowly into inbound/ is taken only once complete, applied once, and acknowledged', async () => {
    await world({ intake: { stableMs: 400, reconcileSeconds: 30 } });
    await start(['intake', 'worker']);
    await seedLots(['L1']);
    const file = path.join(w.inbound('lab-a'), 'RESULTS_slow.csv');
    const rows = 600;
    const content = resultsCsv('L1', rows);
    const lines = content.split('\n');
    // Like `cp` over a slow share: the file exists, named as it will stay, while it grows.
    writeFileSync(file, lines[0] + '\n');
    for (let i = 1; i < lines.length; i += 100) {
      await new Promise((r) => setTimeout(r, 120));
      appendFileSync(file, lines.slice(i, i + 100).join('\n') + (i + 100 < lines.length ? '\n' : ''));
    }
    const sub = await until(async () => (await subsOf('lab-a')).find((s) => s.state === 'applied'), 'the file to be applied');
    expect(await subsOf('lab-a')).toHaveLength(1);
    expect(sub).toMatchObject({ originalName: 'RESULTS_slow.csv', source: 'watch', rows, applied: rows, rejected: 0, size: Buffer.byteLength(content) });
    expect(await testsOf('L1')).toHaveLength(rows);
    expect(await ackOf('lab-a', 'RESULTS_slow.csv')).toMatchObject({ state: 'applied', submissionId: sub.id, counts: { rows, applied: rows, rejected: 0 } });
    expect(existsSync(file)).toBe(false);
  });

  it('Redis flushed with submissions pending: the reconciler re-queues them, none lost, none doubled', async () => {
    await world({ intake: { reconcileSeconds: 1 } });
    const intake = await start(['intake']);
    const worker1 = await start(['worker']);
    await seedLots(['L1', 'L2']);
    await worker1.stop();
    servers.splice(servers.indexOf(worker1), 1);

    const files = [
      { partner: 'lab-a', name: 'RESULTS_a1.csv', lot: 'L1', rows: 40, first: 1 },
      { partner: 'lab-a', name: 'RESULTS_a2.csv', lot: 'L1', rows: 30, first: 1000 },
      { partner: 'lab-b', name: 'RESULTS_b1.csv', lot: 'L2', rows: 25, first: 1 },
      { partner: 'lab-b', name: 'RESULTS_b2.csv', lot: 'L2', rows: 35, first: 1000 },
    ];
    for (const f of files) drop(f.partner, f.name, resultsCsv(f.lot, f.rows, f.first));
    await until(async () => (await subsOf()).filter((s) => s.state === 'received').length === files.length, 'all files in the ledger');
    await until(async () => (await intake.queues.counts('lab-a')).waiting === 2 && (await intake.queues.counts('lab-b')).waiting === 2, 'the jobs to be queued');

    await redis.client().flushall();
    expect((await intake.queues.counts('lab-a')).waiting).toBe(0);

    await start(['worker']);
    await until(async () => (await subsOf()).filter((s) => s.partner !== 'erp').every((s) => s.state === 'applied') && (await subsOf()).length === files.length + 1, 'every submission to be applied');
    const subs = (await subsOf()).filter((s) => s.partner !== 'erp');
    expect(subs.map((s) => s.originalName).sort()).toEqual(files.map((f) => f.name).sort());
    for (const f of files) expect(subs.find((s) => s.originalName === f.name)).toMatchObject({ state: 'applied', rows: f.rows, applied: f.rows, attempts: 1 });
    expect(await testsOf('L1')).toHaveLength(70);
    expect(await testsOf('L2')).toHaveLength(60);
    const [erp] = await subsOf('erp');
    expect((await reader.store.audit.listAudit({ action: 'submission.applied', limit: 100 })).filter((e) => e.subject !== `submission:${erp.id}`)).toHaveLength(files.length);
  });

  it('a partner added while running is served without a restart', async () => {
    await world({ intake: { reconcileSeconds: 1 } });
    const server = await start(['intake', 'worker']);
    await seedLots(['L1']);
    expect(server.workers!.partners()).toEqual(['erp', 'lab-a', 'lab-b']);
    // What `lotgate partner add` would write: a partner file and its mapping.
    mkdirSync(path.join(w.dir, 'mappings', 'lab-c'), { recursive: true });
    writeFileSync(path.join(w.dir, 'mappings', 'lab-c', 'results.yaml'), readFileSync(path.join(w.dir, 'mappings', 'lab-a', 'results.yaml'), 'utf8').replace('partner: lab-a', 'partner: lab-c'));
    writeFileSync(path.join(w.dir, 'partners', 'lab-c.yaml'), 'id: lab-c\nname: New lab\nrole: lab\nfeeds: [results]\n');
    drop('lab-c', 'RESULTS_c1.csv', resultsCsv('L1', 12));
    const sub = await until(async () => (await subsOf('lab-c')).find((s) => s.state === 'applied'), "the new partner's file to be applied");
    expect(sub).toMatchObject({ originalName: 'RESULTS_c1.csv', applied: 12 });
    expect(server.workers!.partners()).toContain('lab-c');
    expect(await ackOf('lab-c', 'RESULTS_c1.csv')).toMatchObject({ state: 'applied' });
  });

  it("a poison file of partner A is quarantined after its last attempt with an acknowledgment, while partner B's files flow", async () => {
    await world({ queue: { attempts: 3, backoffMs: 300, workers: 1 } });
    const server = await start(['intake', 'worker']);
    await seedLots(['L1', 'L2']);
    // A's submission whose original cannot be read (lost archive copy): every attempt fails.
    const src = path.join(w.dir, 'poison.csv');
    writeFileSync(src, resultsCsv('L1', 5));
    const poisonId = await registerFile(reader, { partner: 'lab-a', path: src, name: 'RESULTS_poison.csv', source: 'watch', removeSource: true });
    rmSync((await reader.store.ledger.getSubmission(poisonId))!.archivePath!, { force: true });
    await server.queues.enqueue('lab-a', poisonId);
    for (let i = 1; i <= 3; i++) drop('lab-b', `RESULTS_b${i}.csv`, resultsCsv('L2', 20, i * 100));

    await until(async () => (await subsOf('lab-b')).filter((s) => s.state === 'applied').length === 3, "partner B's files to be applied");
    const q = await until(async () => (await subsOf('lab-a')).find((s) => s.state === 'quarantined'), 'the poison file to be quarantined');
    expect(q).toMatchObject({ id: poisonId, errorCode: 'E_PROCESSING_FAILED', attempts: 3, applied: 0 });
    expect(q.errorMessage).toMatch(/Processing failed 3 times; nothing was applied\. Last error: .*ENOENT/);
    const ack = await ackOf('lab-a', 'RESULTS_poison.csv');
    expect(ack).toMatchObject({ state: 'quarantined', submissionId: poisonId });
    expect(ack.errors[0].code).toBe('E_PROCESSING_FAILED');
    expect(await testsOf('L2')).toHaveLength(60);
    expect(await testsOf('L1')).toHaveLength(0);
    const counts = await server.queues.counts('lab-a');
    expect(counts).toMatchObject({ failed: 1, active: 0, waiting: 0 });
  });

  it("partner A's flood does not starve partner B: B's file is served while A's backlog is still long", async () => {
    await world({ queue: { workers: 1, perPartnerConcurrency: 1 } });
    const intake = await start(['intake']);
    await start(['worker']);
    await seedLots(['L1', 'L2']);
    const worker = servers[1];
    await worker.stop();
    servers.splice(1, 1);
    // A's backlog is in the ledger and on A's queue before any worker runs.
    for (let i = 1; i <= 20; i++) drop('lab-a', `RESULTS_a${String(i).padStart(2, '0')}.csv`, resultsCsv('L1', 300, i * 1000));
    await until(async () => (await intake.queues.counts('lab-a')).waiting === 20, "A's backlog to be queued");
    drop('lab-b', 'RESULTS_b1.csv', resultsCsv('L2', 10));
    await until(async () => (await intake.queues.counts('lab-b')).waiting === 1, "B's file to be queued");

    await start(['worker']);
    await until(async () => (await subsOf('lab-b'))[0]?.state === 'applied', "B's file to be applied");
    const aDone = (await subsOf('lab-a')).filter((s) => s.state === 'applied').length;
    expect(aDone).toBeLessThan(5);
    await until(async () => (await subsOf('lab-a')).filter((s) => s.state === 'applied').length === 20, "A's backlog to be applied");
    expect(await testsOf('L1')).toHaveLength(20 * 300);
  });
});
