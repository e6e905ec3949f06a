// Two lotgate machines, one of them SIGKILLed (issue 13, "done when"). Two `lotgate start`
// processes (sftp + intake + worker + scheduler, from dist/) with data dirs and SSH host keys of
// their own and their drop zones on separate loopback addresses share ONE PostgreSQL database, ONE
// Redis (a queue prefix of this test's own) and ONE folder for the drop zone and the archive.
// Partners upload the demo files over real SFTP to both at once (the same LIMS export to each, a
// binary junk file, PDFs, XML); then a partner starts one slow upload to each machine (left
// half-way), a big LIMS export is uploaded, and the machine that is applying it — found by its
// spool file — is killed with SIGKILL, inside the file's transaction and in the middle of the slow
// upload it was receiving. The survivor finishes its own slow upload and takes the big file over
// (BullMQ hands the stalled job on; PostgreSQL rolled the killed transaction back); the killed
// machine is started again, and its start-up pass answers the half upload it had been receiving.
//
// Then, read from PostgreSQL through openStore():
//   - every uploaded file has exactly one ledger row, in a terminal state (the half upload:
//     quarantined with E_PARTIAL_UPLOAD, docs/reliability.md), and exactly one acknowledgment
//     <name>.<id>.ack.json in the shared drop folder, saying the same state;
//   - the facts are those of ONE clean application: every fact table counts what `lotgate ingest`
//     of the same files into a fresh SQLite store counts;
//   - one audit chain that verifies (seq 1..n, no fork), with one decision event per submission;
//   - scheduled jobs (readiness-sweep every 2 s, push, audit-anchor) ran in one process at a time:
//     no two runs of a job overlap in job_runs; a run of the killed process is followed by the
//     next only after its lease ran out.
// No timing is asserted; every wait polls for a condition with a generous deadline.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type OpenStore } from '../../pipeline/store/store.js';
import { createPgDatabase } from '../store/conformance/harness.js';
import { until } from '../runtime/helpers/wait.js';
import {
  acksIn,
  BIN,
  canBind,
  childEnv,
  cleanup,
  dropRedisPrefix,
  LIMS_HEADER,
  limsCsv,
  limsRows,
  makeInstance,
  makeLayout,
  ROOT,
  tempUploads,
  uploadAll,
  uploadStream,
  writeInstanceConfig,
  type Instance,
  type Layout,
} from './helpers/cluster.js';

// The big file: long enough to be applied for seconds on PostgreSQL (about 1 ms a row here), over
// 1 MiB so that it is mapped on a thread with a spool file under <dataDir>/tmp (how the test sees
// which machine is applying it).
const BIG_ROWS = 6_000;
const BIG_PAD = 150;
const SLOW_ROWS = 3_000;

const BIG = 'LIMS_EXPORT_20261119_big.csv';
const SLOW = { a: 'LIMS_EXPORT_20261119_slow_a.csv', b: 'LIMS_EXPORT_20261119_slow_b.csv' };
const TERMINAL = ['applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined'];
const DECISION_ACTIONS = TERMINAL.map((s) => `submission.${s}`);
const FACT_TABLES = ['materials', 'purchase_orders', 'lots', 'lot_identifiers', 'stage_events', 'test_results', 'documents', 'deviations', 'deviation_lots', 'dispositions', 'rejected_rows'];
const LEASE_MS = 10_000;

interface File {
  partner: string;
  name: string;
  body: Buffer;
}

const fixture = (partner: string, name: string, as = name, dir = partner): File => ({ partner, name: as, body: readFileSync(path.join(ROOT, 'fixtures', dir, name)) });

// The ERP's master data first (lots must exist), then the partners' files in any order.
const ERP: File[] = ['ZMM_MATERIALS_20261120.csv', 'ZMM_PO_20261120.csv', 'ZMM_BATCHES_20261120.csv'].map((f) => fixture('erp', f));
// Uploaded at once: [machine, files of one partner in one SFTP session].
const WAVE: ['a' | 'b', File[]][] = [
  ['a', [fixture('acme-cmo', 'Chargenstatus_20261119.csv'), fixture('acme-cmo', 'Abweichungen_20261119.csv'), fixture('acme-cmo', 'COA_AC-24117_v1.pdf')]],
  ['b', [fixture('acme-cmo', 'COA_AC-24117_v2.pdf'), fixture('acme-cmo', 'COA_AC-24121_v1.pdf'), fixture('acme-cmo', 'COA_AC-24125_v1.pdf')]],
  // The same bytes to both machines under two names: one is applied, the other a duplicate of it.
  ['b', [fixture('bravo-lab', 'LIMS_EXPORT_20261118_0200.csv')]],
  ['a', [fixture('bravo-lab', 'LIMS_EXPORT_20261118_0200.csv', 'LIMS_EXPORT_20261118_0200_resend.csv'), fixture('bravo-lab', 'LIMS_SUMMARY_20261118.csv'), fixture('bravo-lab', 'LIMS_EXPORT_junk.csv', 'LIMS_EXPORT_junk.csv', 'bad')]],
  ['a', [fixture('delta-cmo', 'DCM_MES_20261118T2305.xml')]],
  ['b', [fixture('delta-cmo', 'DCM_EPCIS_20261118.xml')]],
];
const slowBody = (m: 'a' | 'b'): string => limsCsv(m === 'a' ? 100_001 : 200_001, SLOW_ROWS);
const BIG_FILE: File = { partner: 'bravo-lab', name: BIG, body: Buffer.from(limsCsv(1, BIG_ROWS, BIG_PAD)) };

let layout: Layout;
let pgDb: { url: string; drop: () => Promise<void> };
let store: OpenStore | null = null;
let reference: Promise<{ counts: Record<string, number>; files: Record<string, FileOutcome> }>;
const inst: Record<'a' | 'b', Instance> = {} as Record<'a' | 'b', Instance>;
const dangling: Promise<unknown>[] = [];

/** `lotgate ingest` of the same files, in order, into a fresh SQLite store: the counts of one clean application. */
async function referenceRun(l: Layout, files: File[]): Promise<{ counts: Record<string, number>; files: Record<string, FileOutcome> }> {
  const cfg = writeInstanceConfig(l, { name: 'ref', sftpHost: null, extra: { dropDir: path.join(l.dir, 'ref', 'drop'), archiveDir: path.join(l.dir, 'ref', 'archive') } });
  const byPartner: { partner: string; paths: string[] }[] = [];
  for (const f of files) {
    const dir = path.join(l.dir, 'ref', 'in', f.partner);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, f.name), f.body);
    const last = byPartner[byPartner.length - 1];
    if (last?.partner === f.partner) last.paths.push(path.join(dir, f.name));
    else byPartner.push({ partner: f.partner, paths: [path.join(dir, f.name)] });
  }
  for (const { partner, paths } of byPartner) {
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, '--config', cfg, 'ingest', '-p', partner, ...paths], { env: childEnv({ LOTGATE_LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout!.on('data', (d) => (text += d));
      p.stderr!.on('data', (d) => (text += d));
      p.once('exit', (code) => resolve({ code, text }));
    });
    // ingest exits non-zero when a file is rejected (the junk file is): only a crash is a failure.
    if (!/submission \d+\)/.test(out.text)) throw new Error(`reference ingest of ${partner} failed (${out.code}):\n${out.text}`);
  }
  const ref = await openStore(path.join(l.dir, 'ref', 'data', 'lotgate.db'));
  try {
    return { counts: await countFacts(ref), files: await outcomes(ref) };
  } finally {
    await ref.close();
  }
}

interface FileOutcome {
  state: string;
  rows: number;
  applied: number;
  rejected: number;
  rejectedRows: number;
}

/** What each file came to, by name: its state, counts, and the rows in rejected_rows. */
async function outcomes(s: OpenStore): Promise<Record<string, FileOutcome>> {
  const rows = await s.db.all<Record<string, unknown>>('SELECT s.original_name AS name, s.state, s."rows" AS rows_, s.applied, s.rejected, (SELECT COUNT(*) FROM rejected_rows r WHERE r.submission_id = s.id) AS rr FROM submissions s');
  return Object.fromEntries(rows.map((r) => [String(r.name), { state: String(r.state), rows: Number(r.rows_), applied: Number(r.applied), rejected: Number(r.rejected), rejectedRows: Number(r.rr) }]));
}

async function countFacts(s: OpenStore): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of FACT_TABLES) out[t] = Number((await s.db.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t}`))!.n);
  return out;
}

interface SubRow {
  id: number;
  partner: string;
  original_name: string;
  state: string;
  error_code: string | null;
  rows: number;
  applied: number;
  attempts: number;
  ack_pending: number;
  duplicate_of: number | null;
}

async function submissions(): Promise<SubRow[]> {
  const rows = await store!.db.all<Record<string, unknown>>('SELECT id, partner, original_name, state, error_code, "rows", applied, attempts, ack_pending, duplicate_of FROM submissions ORDER BY id');
  return rows.map((r) => ({
    id: Number(r.id),
    partner: String(r.partner),
    original_name: String(r.original_name),
    state: String(r.state),
    error_code: (r.error_code as string | null) ?? null,
    rows: Number(r.rows),
    applied: Number(r.applied),
    attempts: Number(r.attempts),
    ack_pending: Number(r.ack_pending),
    duplicate_of: r.duplicate_of === null ? null : Number(r.duplicate_of),
  }));
}

/** Resolves with the acknowledgment of `name` once it is in the shared outbound/. */
function ackOf(partner: string, name: string, timeoutMs = 60_000): Promise<{ id: number; ack: any }> {
  return until(() => acksIn(layout.outbound(partner)).find((a) => a.name === name) ?? null, `the acknowledgment of ${partner}/${name}`, timeoutMs, 100);
}

/** A body that sends `head`, then waits until open() before sending `tail`: an upload left half-way. */
function gated(head: string, tail: string): { body: Readable; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const body = Readable.from(
    (async function* () {
      yield Buffer.from(head);
      await gate;
      yield Buffer.from(tail);
    })(),
  );
  return { body, open };
}

function logs(): string {
  return (['a', 'b'] as const).map((m) => `----- lotgate ${m} stderr (last 6000 chars) -----\n${inst[m]?.stderr.slice(-6000) ?? ''}`).join('\n');
}

beforeAll(async () => {
  layout = makeLayout();
  pgDb = await createPgDatabase('lotgate_mm');
  // Migrated once here, before both machines open it.
  store = await openStore(pgDb.url, { max: 3 });
  const hosts = (await canBind('127.0.0.2')) && (await canBind('127.0.0.3')) ? { a: '127.0.0.2', b: '127.0.0.3' } : { a: '127.0.0.1', b: '127.0.0.1' };
  // Machine a names the database in config.yaml (store.url), machine b in LOTGATE_DATABASE_URL.
  inst.a = makeInstance('a', writeInstanceConfig(layout, { name: 'a', sftpHost: hosts.a, storeUrl: pgDb.url }), hosts.a, childEnv({ LOTGATE_SFTP_PORT: '0' }));
  inst.b = makeInstance('b', writeInstanceConfig(layout, { name: 'b', sftpHost: hosts.b }), hosts.b, childEnv({ LOTGATE_SFTP_PORT: '0', LOTGATE_DATABASE_URL: pgDb.url }));
  const refFiles = [...ERP, ...WAVE.flatMap(([, fs]) => fs).sort((x, y) => x.partner.localeCompare(y.partner)), { partner: 'bravo-lab', name: SLOW.a, body: Buffer.from(slowBody('a')) }, BIG_FILE];
  reference = referenceRun(layout, refFiles);
  reference.catch(() => {}); // awaited in the test
  await Promise.all([inst.a.start(), inst.b.start()]);
}, 120_000);

afterAll(async () => {
  for (const m of ['a', 'b'] as const) await inst[m]?.kill('SIGKILL');
  await Promise.race([Promise.allSettled(dangling), new Promise((r) => setTimeout(r, 2_000))]);
  await store?.close();
  await pgDb?.drop().catch(() => {});
  if (layout) await dropRedisPrefix(layout.prefix).catch(() => {});
  if (layout) cleanup(layout);
}, 60_000);

describe('two lotgate machines on one PostgreSQL, one Redis, one shared folder', () => {
  it('one of them killed mid-file and mid-upload: every file decided once, acknowledged once, facts applied once, one audit chain, jobs one at a time', async () => {
    const { a, b } = inst;
    expect(a.port).toBeGreaterThan(0);
    expect(b.port).toBeGreaterThan(0);
    // Separate machines: separate SSH host keys.
    const fp = (i: Instance) => /host key (\S+)/.exec(i.stderr)![1];
    expect(fp(a)).not.toBe(fp(b));

    try {
      // 1. The ERP's master data, alternating machines.
      for (const [i, f] of ERP.entries()) {
        await uploadAll(i % 2 ? b : a, 'erp', [f]);
        expect((await ackOf('erp', f.name)).ack.state).toBe('applied');
      }

      // 2. Every partner at once, to both machines.
      await Promise.all(WAVE.map(([m, files]) => uploadAll(inst[m], files[0]!.partner, files)));
      // Two slow uploads, one to each machine, left half-way.
      const slow = {
        a: gated([LIMS_HEADER, ...limsRows(100_001, SLOW_ROWS / 2)].join('\n') + '\n', limsRows(100_001 + SLOW_ROWS / 2, SLOW_ROWS / 2).join('\n') + '\n'),
        b: gated([LIMS_HEADER, ...limsRows(200_001, SLOW_ROWS / 2)].join('\n') + '\n', limsRows(200_001 + SLOW_ROWS / 2, SLOW_ROWS / 2).join('\n') + '\n'),
      };
      const slowPut = {
        a: uploadStream(a, 'bravo-lab', SLOW.a, slow.a.body).then(() => 'done' as const, (e: Error) => e),
        b: uploadStream(b, 'bravo-lab', SLOW.b, slow.b.body).then(() => 'done' as const, (e: Error) => e),
      };
      dangling.push(slowPut.a, slowPut.b);
      for (const [, files] of WAVE) for (const f of files) await ackOf(f.partner, f.name);
      const half = Buffer.byteLength(LIMS_HEADER) + SLOW_ROWS * 50;
      await until(() => tempUploads(layout.inbound('bravo-lab')).filter((t) => t.size >= half).length === 2, 'both slow uploads to be half-way', 30_000, 50);

      // 3. The big file; the machine that applies it is killed inside its transaction.
      await uploadAll(a, 'bravo-lab', [BIG_FILE]);
      const caught = await until(
        async () => {
          const row = (await submissions()).find((s) => s.original_name === BIG);
          if (row?.state !== 'processing') return null;
          const applying = [a, b].filter((i) => i.spoolFiles().length > 0);
          return applying.length === 1 ? { id: row.id, victim: applying[0]! } : null;
        },
        'the big file to be applied by one machine',
        60_000,
        20,
      );
      const victim = caught.victim;
      const survivor = victim === a ? b : a;
      const vm = victim === a ? 'a' : 'b';
      const sm = vm === 'a' ? 'b' : 'a';
      await victim.kill('SIGKILL');
      const atKill = (await submissions()).find((s) => s.id === caught.id)!;
      // Killed before its COMMIT: nothing of it is applied (PostgreSQL rolled it back).
      expect(atKill).toMatchObject({ state: 'processing', applied: 0 });
      const resultsOfBig = async () => Number((await store!.db.get<{ n: unknown }>('SELECT COUNT(*) AS n FROM test_results WHERE submission_id = ?', [caught.id]))!.n);
      expect(await resultsOfBig()).toBe(0);

      // 4. The survivor's slow upload goes on to the end; the victim's is cut off.
      slow[sm].open();
      slow[vm].open();
      expect(await slowPut[sm]).toBe('done');
      expect((await ackOf('bravo-lab', SLOW[sm], 90_000)).ack.state).toBe('applied');

      // 5. The killed machine starts again once its half upload has been quiet for its
      //    start-up pass (10 s, docs/reliability.md), which answers it.
      await until(() => {
        const t = tempUploads(layout.inbound('bravo-lab'));
        return t.length === 1 && Date.now() - t[0]!.mtimeMs > 11_000;
      }, 'the half upload of the killed machine to be quiet', 60_000, 200);
      await victim.start();

      const settled = await until(
        async () => {
          const subs = await submissions();
          const open = subs.filter((s) => !TERMINAL.includes(s.state) || s.ack_pending);
          const partial = subs.find((s) => s.original_name === SLOW[vm]);
          return open.length === 0 && partial && tempUploads(layout.inbound('bravo-lab')).length === 0 ? subs : null;
        },
        'every file to be decided and acknowledged',
        90_000,
        250,
      );

      // Let the schedulers of both machines run their jobs a little longer, then stop them.
      await new Promise((r) => setTimeout(r, 3_000));
      for (const i of [survivor, victim]) {
        i.proc!.kill('SIGTERM');
        expect((await i.exited)!.code).toBe(0);
      }

      // --- every uploaded file: one ledger row, terminal, one acknowledgment saying the same ---
      const uploaded = [...ERP, ...WAVE.flatMap(([, fs]) => fs), BIG_FILE].map((f) => `${f.partner}/${f.name}`).concat([`bravo-lab/${SLOW.a}`, `bravo-lab/${SLOW.b}`]);
      const subs = await submissions();
      expect(subs.map((s) => `${s.partner}/${s.original_name}`).sort()).toEqual([...uploaded].sort());
      expect(subs.length).toBe(settled.length);
      for (const s of subs) expect(TERMINAL, `${s.original_name}: ${s.state}`).toContain(s.state);
      const byName = new Map(subs.map((s) => [s.original_name, s]));
      expect(byName.get(BIG)).toMatchObject({ state: 'applied', rows: BIG_ROWS, applied: BIG_ROWS });
      expect(byName.get(BIG)!.attempts).toBeGreaterThanOrEqual(2);
      expect(await resultsOfBig()).toBe(BIG_ROWS);
      expect(byName.get(SLOW[sm])).toMatchObject({ state: 'applied', rows: SLOW_ROWS, applied: SLOW_ROWS });
      expect(byName.get(SLOW[vm])).toMatchObject({ state: 'quarantined', error_code: 'E_PARTIAL_UPLOAD', applied: 0 });
      const pair = [byName.get('LIMS_EXPORT_20261118_0200.csv')!, byName.get('LIMS_EXPORT_20261118_0200_resend.csv')!];
      // (the demo export has rows Bravo's mapping rejects: applied_with_errors)
      expect(pair.map((s) => s.state).sort()).toEqual(['applied_with_errors', 'duplicate']);
      const dup = pair.find((s) => s.state === 'duplicate')!;
      expect(dup.duplicate_of).toBe(pair.find((s) => s.state !== 'duplicate')!.id);
      expect(byName.get('LIMS_EXPORT_junk.csv')).toMatchObject({ state: 'rejected', error_code: 'E_BINARY' });

      const partners = [...new Set(subs.map((s) => s.partner))];
      const acks = partners.flatMap((p) => acksIn(layout.outbound(p)).map((x) => ({ ...x, partner: p })));
      expect(acks.map((x) => x.id).sort((x, y) => x - y)).toEqual(subs.map((s) => s.id));
      for (const x of acks) {
        const s = subs.find((r) => r.id === x.id)!;
        expect({ partner: x.partner, name: x.name, state: x.ack.state }).toEqual({ partner: s.partner, name: s.original_name, state: s.state });
      }

      // --- facts: one clean application of the same files ---
      const ref = await reference;
      const mine = await outcomes(store!);
      // File by file (the duplicate pair and the slow pair compared as pairs: which one is the
      // duplicate, and which slow upload survived, depends on the race).
      const pairKey = (n: string) => (n === 'LIMS_EXPORT_20261118_0200_resend.csv' ? 'LIMS_EXPORT_20261118_0200.csv' : n === SLOW.b ? SLOW.a : n);
      const norm = (o: Record<string, FileOutcome>, drop: string[]) => {
        const out: Record<string, FileOutcome[]> = {};
        for (const [n, v] of Object.entries(o)) if (!drop.includes(n)) (out[pairKey(n)] ??= []).push(v);
        for (const v of Object.values(out)) v.sort((x, y) => x.state.localeCompare(y.state));
        return out;
      };
      expect(norm(mine, [SLOW[vm]])).toEqual(norm(ref.files, []));
      // The half upload has no counterpart in the reference: its only trace is its own error row.
      const partialErrors = await store!.db.all<{ code: string }>('SELECT code FROM rejected_rows WHERE submission_id = ?', [byName.get(SLOW[vm])!.id]);
      expect(partialErrors.every((e) => e.code === 'E_PARTIAL_UPLOAD')).toBe(true);
      expect(await countFacts(store!)).toEqual({ ...ref.counts, rejected_rows: ref.counts.rejected_rows! + partialErrors.length });

      // --- one audit chain, one decision per submission ---
      const verified = await store!.audit.verifyAudit();
      expect(verified).toMatchObject({ ok: true });
      const seqs = await store!.db.get<{ n: unknown; lo: unknown; hi: unknown }>('SELECT COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM audit_events');
      expect({ n: Number(seqs!.n), lo: Number(seqs!.lo), hi: Number(seqs!.hi) }).toEqual({ n: verified.count, lo: 1, hi: verified.count });
      const decisions = await store!.db.all<{ subject: string; n: unknown }>(`SELECT subject, COUNT(*) AS n FROM audit_events WHERE action IN (${DECISION_ACTIONS.map(() => '?').join(', ')}) GROUP BY subject`, DECISION_ACTIONS);
      expect(Object.fromEntries(decisions.map((d) => [d.subject, Number(d.n)]))).toEqual(Object.fromEntries(subs.map((s) => [`submission:${s.id}`, 1])));

      // --- jobs: one process at a time ---
      const runs = await store!.db.all<{ name: string; holder: string; started_at: string; finished_at: string | null; status: string }>('SELECT name, holder, started_at, finished_at, status FROM job_runs ORDER BY name, started_at, id');
      const names = [...new Set(runs.map((r) => r.name))].sort();
      expect(names).toEqual(expect.arrayContaining(['audit-anchor', 'push', 'readiness-sweep']));
      for (const name of names) {
        const rs = runs.filter((r) => r.name === name);
        for (let i = 1; i < rs.length; i++) {
          const prev = rs[i - 1]!;
          const next = rs[i]!;
          // A run that never finished (its process was killed) held the lease until it expired.
          const prevEnd = prev.finished_at ? Date.parse(prev.finished_at) : Date.parse(prev.started_at) + LEASE_MS - 1_000;
          expect(Date.parse(next.started_at), `${name}: run of ${next.holder} at ${next.started_at} overlaps ${prev.holder} ${prev.started_at}..${prev.finished_at}`).toBeGreaterThanOrEqual(prevEnd);
        }
        // Only the killed machine can leave an unfinished run.
        const unfinished = rs.filter((r) => !r.finished_at);
        expect(unfinished.length).toBeLessThanOrEqual(1);
      }
      const pids = new Set(runs.map((r) => r.holder.split(':')[1]));
      console.log(`multi-machine: victim ${vm}, big file attempts ${byName.get(BIG)!.attempts}, ${runs.length} job runs by ${pids.size} processes, ${verified.count} audit events`);
      expect(runs.filter((r) => r.name === 'readiness-sweep').length).toBeGreaterThanOrEqual(5);
    } catch (err) {
      console.error(logs());
      throw err;
    }
  }, 180_000);
});
