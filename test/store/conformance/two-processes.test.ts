// The store's cross-machine guarantees with real processes, one of them SIGKILLed. Three worker
// processes (helpers/store-worker.ts), each with its own openDb(url), share one database — a
// PostgreSQL database, or a SQLite file as several processes on one machine share it — and at
// once decide 60 files (20 distinct contents, 3 copies each), push the outbox and compete for a
// lease. One of them is killed inside a decision transaction, after all its writes and before its
// COMMIT, while it holds claimed outbox messages it has not sent. When everything is decided and
// sent, the database must show each thing done exactly once:
//   - every file decided once: per (partner, sha256) one 'applied', the others 'duplicate' of it;
//   - one outbox message per applied file, every one sent — the killed worker's claims taken over
//     by another worker after the visibility timeout — and one send event per message;
//   - one audit chain that verifies, seq 1..n, with exactly one decision event per file; the
//     killed worker's half-done decision left nothing (the database rolled it back);
//   - the lease never held by two workers at once (lease_log: between two log instants of
//     different holders at least one TTL).
// No timing is asserted: the run only has to finish within a generous deadline.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncStore, type AsyncStore } from '../../../pipeline/store/areas/index.js';
import type { RootDb } from '../../../pipeline/store/db/db.js';
import { openDb } from '../../../pipeline/store/open-db.js';
import { createPgDatabase, DIALECTS } from './harness.js';
import type { WorkerConfig } from './helpers/store-worker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WORKER = path.join(ROOT, 'test/store/conformance/helpers/store-worker.ts');
const TS_REGISTER = path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs');

const PARTNERS = ['acme', 'globex'];
const CONTENTS_PER_PARTNER = 10;
const COPIES = 3;
const FILES = PARTNERS.length * CONTENTS_PER_PARTNER * COPIES; // 60
const LEASE_TTL_MS = 300;
const VISIBILITY_MS = 1_500;
const VICTIM = 'w1';
const STALL_AFTER = 4;
const DEADLINE_MS = 60_000;

const shaOf = (partner: string, n: number): string => createHash('sha256').update(`${partner}/${n}`).digest('hex');

interface Worker {
  readonly id: string;
  readonly proc: ChildProcess;
  readonly lines: string[];
  stderr: string;
  exitCode: number | null | undefined;
  readonly exited: Promise<void>;
}

function startWorker(cfg: WorkerConfig, onLine: (w: Worker, line: string) => void): Worker {
  const proc = spawn(process.execPath, ['--import', TS_REGISTER, WORKER, JSON.stringify(cfg)], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const w: Worker = {
    id: cfg.id,
    proc,
    lines: [],
    stderr: '',
    exitCode: undefined,
    exited: new Promise<void>((r) => proc.once('exit', (code, signal) => ((w.exitCode = signal ? null : code), r()))),
  };
  proc.stderr!.on('data', (d: Buffer) => (w.stderr += d.toString()));
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    w.lines.push(line);
    onLine(w, line);
  });
  return w;
}

const alive = (w: Worker): boolean => w.exitCode === undefined;

async function until(what: string, deadline: number, check: () => Promise<string | true> | string | true): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    const r = await check();
    if (r === true) return;
    last = r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`not reached within ${DEADLINE_MS / 1000} s: ${what} (${last})`);
}

/** The words after `<verb> ` in a worker's lines. */
const said = (w: Worker, verb: string): string[] => w.lines.filter((l) => l.startsWith(`${verb} `)).map((l) => l.slice(verb.length + 1));

let workers: Worker[] = [];
let cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const w of workers) if (alive(w)) w.proc.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  workers = [];
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Db {
  url: string;
  root: RootDb;
  store: AsyncStore;
}

async function openShared(dialect: (typeof DIALECTS)[number]): Promise<Db> {
  let url: string;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'lotgate-2proc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    url = path.join(dir, 'lotgate.db');
  } else {
    const pgDb = await createPgDatabase('lotgate_2proc');
    cleanups.push(() => pgDb.drop());
    url = pgDb.url;
  }
  // Migrated here, before the workers open it.
  const root = await openDb(url, { max: 2 });
  cleanups.push(() => root.close());
  return { url, root, store: asyncStore(root) };
}

for (const dialect of DIALECTS) {
  describe(`three processes on one store, one SIGKILLed [${dialect}]`, () => {
    it('decides every file once, sends every message once, keeps one audit chain and one lease holder', async () => {
      const t0 = Date.now();
      const deadline = t0 + DEADLINE_MS;
      const { url, root, store } = await openShared(dialect);
      await root.exec('CREATE TABLE lease_log (holder TEXT, at_ms BIGINT)');

      // 60 files: every content 3 times, in a shuffled (fixed) order, so that first copies — the
      // ones applied, which make outbox messages — keep coming through most of the run.
      const files = PARTNERS.flatMap((partner) => Array.from({ length: CONTENTS_PER_PARTNER * COPIES }, (_, i) => ({ partner, n: i % CONTENTS_PER_PARTNER, copy: Math.floor(i / CONTENTS_PER_PARTNER) })));
      files.sort((a, b) => shaOf(a.partner, a.n * 7 + a.copy).localeCompare(shaOf(b.partner, b.n * 7 + b.copy)));
      for (const { partner, n, copy } of files) {
        await store.ledger.insertSubmission({ partner, originalName: `f${n}-${copy}.csv`, size: 10, sha256: shaOf(partner, n), source: 'sftp', archivePath: `archive/${partner}/${n}-${copy}` });
      }

      // --- three machines, started together; the victim killed where it stalls
      let stalledAt: number | undefined;
      let killedAt = 0;
      const onLine = (w: Worker, line: string): void => {
        if (w.id === VICTIM && line.startsWith('stalled ')) {
          stalledAt = Number(line.slice('stalled '.length));
          killedAt = Date.now();
          w.proc.kill('SIGKILL');
        }
      };
      const base = { url, leaseTtlMs: LEASE_TTL_MS, leaseHoldMs: 2 * LEASE_TTL_MS, visibilityMs: VISIBILITY_MS, claimLimit: 2, workMs: 5, pauseMs: 20 };
      workers = ['w1', 'w2', 'w3'].map((id) => startWorker({ ...base, id, stallAfter: id === VICTIM ? STALL_AFTER : undefined, stallOpenAtMost: 40 }, onLine));
      const [victim, ...survivors] = workers as [Worker, Worker, Worker];
      const failedWorker = (): string | undefined => {
        const w = survivors.find((x) => !alive(x)) ?? (!alive(victim) && !killedAt ? victim : undefined);
        return w && `worker ${w.id} exited (${w.exitCode}): ${w.stderr || w.lines.slice(-5).join(' | ')}`;
      };
      await until('all three workers ready', deadline, () => {
        const dead = failedWorker();
        if (dead) throw new Error(dead);
        return workers.every((w) => w.lines.includes('ready')) || `${workers.filter((w) => w.lines.includes('ready')).length} of 3 ready`;
      });
      const tStart = Date.now();
      for (const w of workers) w.proc.stdin!.write('go\n');

      // --- eventually: victim killed, every file decided, outbox drained, the lease changed hands
      await until('the victim killed, every file decided, every outbox message sent, the lease held by two workers in turn', deadline, async () => {
        const dead = failedWorker();
        if (dead) throw new Error(dead);
        const open = (await store.ledger.listUnfinishedSubmissions()).length;
        const outbox = await store.outbox.countOutbox();
        const holders = await root.all<{ holder: string }>('SELECT DISTINCT holder FROM lease_log');
        const state = `victim ${alive(victim) ? `alive after ${said(victim, 'decided').length} decisions` : 'killed'}, ${open} files open, outbox ${JSON.stringify(outbox)}, lease holders ${holders.length}`;
        return (!alive(victim) && open === 0 && outbox.pending === 0 && outbox.sent > 0 && holders.length >= 2) || state;
      });
      const tDone = Date.now();
      for (const w of survivors) w.proc.stdin!.write('stop\n');
      await until('the two survivors stopped', deadline, () => survivors.every((w) => !alive(w)) || 'still running');
      for (const w of survivors) expect(w.exitCode, `${w.id}: ${w.stderr}`).toBe(0);

      // --- the killed worker: stalled in a decision, holding claimed messages it never sent
      expect(stalledAt, 'the victim stalled inside a decision transaction').toBeDefined();
      expect(victim.exitCode).toBeNull(); // killed by a signal
      const victimDecided = said(victim, 'decided').length;
      expect(victimDecided, 'the victim decided some files before it was killed').toBeGreaterThan(0);
      expect(victimDecided).toBeLessThanOrEqual(STALL_AFTER);
      const victimClaims = said(victim, 'claimed').flatMap((l) => l.split(','));
      const victimSent = new Set(said(victim, 'sent'));
      const orphaned = victimClaims.filter((id) => !victimSent.has(id));
      expect(orphaned.length, 'the victim held claimed, unsent messages when it was killed').toBeGreaterThan(0);

      // --- files: one terminal state each; per content one applied, the rest duplicates of it
      const subs = await root.all<{ id: number; partner: string; sha256: string; state: string; duplicate_of: number | null }>(
        'SELECT id, partner, sha256, state, duplicate_of FROM submissions ORDER BY id',
      );
      expect(subs).toHaveLength(FILES);
      expect(subs.filter((s) => s.state !== 'applied' && s.state !== 'duplicate')).toEqual([]);
      const byContent = new Map<string, typeof subs>();
      for (const s of subs) byContent.set(`${s.partner}:${s.sha256}`, [...(byContent.get(`${s.partner}:${s.sha256}`) ?? []), s]);
      expect(byContent.size).toBe(PARTNERS.length * CONTENTS_PER_PARTNER);
      for (const [content, copies] of byContent) {
        const applied = copies.filter((s) => s.state === 'applied');
        expect(applied.map((s) => s.id), `${content}: exactly one applied copy`).toHaveLength(1);
        for (const d of copies.filter((s) => s.state === 'duplicate')) expect(d.duplicate_of, `${content}: submission ${d.id} is a duplicate of the applied one`).toBe(applied[0]!.id);
      }
      const appliedIds = subs.filter((s) => s.state === 'applied').map((s) => s.id);

      // --- outbox: one message per applied file, all sent; the victim's claims sent by another
      const outbox = await root.all<{ id: string; submission_id: number; state: string; attempts: number }>('SELECT id, submission_id, state, attempts FROM outbox ORDER BY submission_id');
      expect(outbox.map((m) => m.submission_id)).toEqual(appliedIds);
      expect(outbox.filter((m) => m.state !== 'sent')).toEqual([]);
      for (const id of orphaned) expect(outbox.find((m) => m.id === id)!.attempts, `message ${id} claimed again after the victim died`).toBeGreaterThanOrEqual(2);

      // --- audit: one verified chain; one decision per file; one send per message
      const events = await root.all<{ seq: number; actor: string; action: string; subject: string }>('SELECT seq, actor, "action", subject FROM audit_events ORDER BY seq');
      expect(await store.audit.verifyAudit()).toEqual({ ok: true, count: events.length });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const decisions = events.filter((e) => e.action === 'submission.applied' || e.action === 'submission.duplicate');
      const sends = events.filter((e) => e.action === 'job.run');
      expect(decisions.length + sends.length).toBe(events.length);
      expect(decisions.map((e) => e.subject).sort(), 'one decision event per file').toEqual(subs.map((s) => `submission:${s.id}`).sort());
      for (const s of subs) expect(decisions.find((e) => e.subject === `submission:${s.id}`)!.action).toBe(`submission.${s.state}`);
      expect(sends.map((e) => e.subject).sort(), 'one send event per message').toEqual(outbox.map((m) => `outbox:${m.id}`).sort());
      for (const id of orphaned) expect(sends.find((e) => e.subject === `outbox:${id}`)!.actor).not.toBe(`worker:${VICTIM}`);
      // The victim's committed decisions stayed; the one it was killed in left nothing of its own.
      for (const line of said(victim, 'decided')) {
        const [id] = line.split(' ');
        expect(decisions.find((e) => e.subject === `submission:${id}`)!.actor).toBe(`worker:${VICTIM}`);
      }
      const stalledBy = decisions.find((e) => e.subject === `submission:${stalledAt}`)!.actor;
      expect(stalledBy, `the decision the victim died in (submission ${stalledAt}) was rolled back and made again by another worker`).not.toBe(`worker:${VICTIM}`);

      // --- lease: ordered by instant, a change of holder never comes sooner than one TTL
      const log = (await root.all<{ holder: string; at_ms: number }>('SELECT holder, at_ms FROM lease_log')).map((r) => ({ holder: r.holder, at: Number(r.at_ms) }));
      log.sort((a, b) => a.at - b.at || a.holder.localeCompare(b.holder));
      const overlaps: string[] = [];
      let handovers = 0;
      for (let i = 1; i < log.length; i++) {
        if (log[i]!.holder === log[i - 1]!.holder) continue;
        handovers++;
        const gap = log[i]!.at - log[i - 1]!.at;
        if (gap < LEASE_TTL_MS) overlaps.push(`${log[i - 1]!.holder}@${log[i - 1]!.at} then ${log[i]!.holder}@${log[i]!.at} (${gap} ms < TTL ${LEASE_TTL_MS} ms)`);
      }
      expect(overlaps, 'two holders within one TTL').toEqual([]);
      expect(handovers).toBeGreaterThan(0);

      const perWorker = workers.map((w) => `${w.id} ${said(w, 'decided').length}/${said(w, 'sent').length}`).join(', ');
      console.log(
        `[${dialect}] ${FILES} files, ${appliedIds.length} applied, ${events.length} audit events; decided/sent per worker: ${perWorker}; ` +
          `victim killed in submission ${stalledAt} holding ${orphaned.length} unsent claims, ${Date.now() - killedAt} ms ago; ` +
          `lease: ${log.length} renewals, ${handovers} handovers; ready in ${tStart - t0} ms, done in ${tDone - tStart} ms`,
      );
    }, 90_000);
  });
}
