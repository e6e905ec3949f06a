// One run of the campaign: its own installation, redis-server and `lotgate start`; uploads that
// remember which ones failed (to send them again after recovery, as a partner would); waiting,
// with a bound, until every sent file has a terminal state and an acknowledgment; and the
// snapshot compared with the clean run.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../bench/lib/net.js';
import { fileOutcomes, missingAcks, type Snapshot } from '../report.js';
import type { ChaosFile } from './fileset.js';
import type { Fixture, RunWorkspace } from './fixture.js';
import { runWorkspace } from './fixture.js';
import { readAcks, readLedger, snapshot, type LedgerRow } from './observe.js';
import { startLotgate, startRedisOn, type Managed } from './procs.js';
import { uploadAll, type Upload, type UploadResult } from './upload.js';

export interface ChaosContext {
  quick: boolean;
  /** --keep: leave the scratch folder (fault 4 copies its tmpfs data dir out before unmounting). */
  keep: boolean;
  workDir: string;
  fx: Fixture;
  log: (line: string) => void;
  /** Bound of each wait for the files to settle, ms. */
  settleMs: number;
  /** The whole campaign ends by then (ms since the epoch): waits are cut to fit. */
  deadline: number;
}

export interface Progress {
  total: number;
  terminal: number;
  processing: number;
  ledger: LedgerRow[];
}

const TERMINAL = new Set(['applied', 'applied_with_errors', 'rejected', 'duplicate', 'quarantined']);

export class Run {
  readonly dir: string;
  rw!: RunWorkspace;
  lotgate: Managed | null = null;
  redis: Managed | null = null;
  /** Files this run sent (or tried to), in order. */
  readonly sent: ChaosFile[] = [];
  /** Uploads whose client reported a failure and that were not sent again successfully yet. */
  failed = new Map<string, { file: ChaosFile; error: string }>();
  /** Findings of the fault itself (slow shutdown, work taken after SIGTERM …): reported as discrepancies. */
  readonly faultFindings: string[] = [];
  /** What happened, for the printed header (not discrepancies). */
  readonly notes: string[] = [];
  private readonly batchDir: string;
  private readonly t0 = Date.now();

  constructor(
    readonly ctx: ChaosContext,
    readonly name: string,
  ) {
    this.dir = path.join(ctx.workDir, name);
    this.batchDir = path.join(this.dir, 'sftp-batches');
  }

  log(line: string): void {
    this.ctx.log(`  ${((Date.now() - this.t0) / 1000).toFixed(1).padStart(5)} s  ${line}`);
  }

  async prepare(beforeCopy?: (dataDir: string) => void): Promise<void> {
    this.rw = await runWorkspace(this.ctx.fx, path.join(this.dir, 'ws'), beforeCopy);
    mkdirSync(this.batchDir, { recursive: true });
  }

  get dataDir(): string {
    return this.rw.ws.dataDir;
  }

  get dropDir(): string {
    return this.rw.ws.dropDir;
  }

  async startRedis(): Promise<void> {
    this.redis = await startRedisOn(this.rw.redisPort, path.join(this.dir, 'redis.log'));
  }

  async startLotgate(): Promise<void> {
    this.lotgate = await startLotgate({ configPath: this.rw.ws.configPath, logDir: this.dir, redisUrl: `redis://127.0.0.1:${this.rw.redisPort}`, sftpPort: this.rw.sftpPort });
  }

  /** A run's usual start: its workspace, its Redis, then `lotgate start`. */
  async start(): Promise<void> {
    await this.prepare();
    await this.startRedis();
    await this.startLotgate();
  }

  /** Starts lotgate again after a fault; notes it if the previous process had died on its own. */
  async restartLotgate(why: string): Promise<void> {
    const t = Date.now();
    await this.startLotgate();
    this.log(`lotgate restarted (${why}) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }

  /** Notes (once) that lotgate exited without being told to. */
  checkAlive(when: string): void {
    if (this.lotgate && !this.lotgate.alive()) {
      const msg = `lotgate exited on its own ${when} (${this.lotgate.exitStatus()}); last log lines: ${lastLogLines(this.lotgate.output())}`;
      this.notes.push(msg);
      this.log(msg);
      this.lotgate = null;
    }
  }

  private uploadsOf(files: readonly ChaosFile[]): Upload[] {
    return files.map((f) => ({ partner: f.partner, name: f.name, local: f.local, key: this.ctx.fx.keys.get(f.partner)! }));
  }

  /** Uploads `files` (the duplicate after the others); failures are remembered for resendFailed(). */
  async upload(files: readonly ChaosFile[], opts: { timeoutMs?: number } = {}): Promise<UploadResult[]> {
    for (const f of files) if (!this.sent.includes(f)) this.sent.push(f);
    const first = files.filter((f) => f.kind !== 'duplicate');
    const last = files.filter((f) => f.kind === 'duplicate');
    const results = [...(await uploadAll(this.uploadsOf(first), this.rw.sftpPort, this.batchDir, opts)), ...(await uploadAll(this.uploadsOf(last), this.rw.sftpPort, this.batchDir, opts))];
    for (const r of results) {
      const f = files.find((x) => x.partner === r.upload.partner && x.name === r.upload.name)!;
      if (r.ok) this.failed.delete(`${f.partner}/${f.name}`);
      else this.failed.set(`${f.partner}/${f.name}`, { file: f, error: r.error ?? 'failed' });
    }
    const bad = results.filter((r) => !r.ok);
    if (bad.length) this.log(`${bad.length} of ${results.length} uploads failed at the client (first: ${bad[0].upload.name}: ${bad[0].error})`);
    return results;
  }

  /** Sends the failed uploads again, in their original order; one that fails again is a finding. */
  async resendFailed(): Promise<void> {
    if (this.failed.size === 0) return;
    const files = this.sent.filter((f) => this.failed.has(`${f.partner}/${f.name}`));
    this.log(`sending ${files.length} failed upload(s) again`);
    this.notes.push(`${files.length} upload(s) failed at the client and were sent again after recovery`);
    await this.upload(files);
    for (const [k, v] of this.failed) this.faultFindings.push(`${k}: upload still fails after recovery: ${v.error}`);
  }

  progress(): Progress | null {
    let ledger: LedgerRow[];
    try {
      ledger = readLedger(this.dataDir);
    } catch {
      return null;
    }
    const snap = { submissions: ledger, acks: [], factTotals: {}, factsBySubmission: {}, terminalHistory: {} };
    const out = fileOutcomes(this.sent, snap);
    return {
      total: out.length,
      terminal: out.filter((o) => TERMINAL.has(o.state)).length,
      processing: ledger.filter((r) => r.state === 'processing').length,
      ledger,
    };
  }

  /** Polls until `cond` holds; false after timeoutMs (cut to the campaign's deadline). */
  async waitFor(cond: (p: Progress) => boolean, timeoutMs: number, pollMs = 100): Promise<Progress | null> {
    const until = Math.min(Date.now() + timeoutMs, this.ctx.deadline);
    while (Date.now() < until) {
      const p = this.progress();
      if (p && cond(p)) return p;
      await sleep(pollMs);
    }
    return null;
  }

  /**
   * Waits for the moment to inject a fault: `cond` holds, or every file is already terminal (the
   * fault then lands after the work, which is noted: the run proves less). Returns where it stood.
   */
  async waitForTrigger(cond: (p: Progress) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
    const p = await this.waitFor((x) => cond(x) || x.terminal === x.total, timeoutMs, 20);
    const at = p ?? this.progress();
    const where = at ? `${at.terminal}/${at.total} files terminal, ${at.processing} processing` : 'store not readable';
    if (!p || !cond(p)) this.notes.push(`the moment sought (${what}) was not seen; the fault was injected at ${where}`);
    return where;
  }

  /**
   * Waits until every sent file has a terminal state and the submission deciding it an
   * acknowledgment, and nothing has changed for `quietMs` (so a late rewrite is still seen).
   */
  async settle(quietMs = 2_000): Promise<boolean> {
    const t = Date.now();
    const until = Math.min(t + this.ctx.settleMs, this.ctx.deadline);
    let lastSig = '';
    let since = Date.now();
    let why = '';
    while (Date.now() < until) {
      this.checkAlive('while settling');
      let done = false;
      let sig = '';
      try {
        const submissions = readLedger(this.dataDir);
        const snap: Snapshot = { submissions, acks: readAcks(this.dropDir), factTotals: {}, factsBySubmission: {}, terminalHistory: {} };
        const outcomes = fileOutcomes(this.sent, snap);
        // The submission that decides each file's fate must be acknowledged. One whose
        // acknowledgment a later upload of the same name overwrote never will be (reported, not
        // waited for), nor will an older one.
        const decisive = new Set(outcomes.map((o) => o.submissionId));
        const open = outcomes.filter((o) => !TERMINAL.has(o.state)).length;
        const unacked = missingAcks(this.sent, snap).filter((m) => decisive.has(m.submission.id) && !(m.replacedBy !== null && m.replacedBy > m.submission.id)).length;
        done = open === 0 && unacked === 0;
        why = `${open} file(s) not terminal, ${unacked} deciding submission(s) without acknowledgment`;
        sig = JSON.stringify([submissions.map((s) => [s.id, s.state]), snap.acks.length]);
      } catch {
        /* store busy or being created: poll again */
      }
      if (sig !== lastSig) {
        lastSig = sig;
        since = Date.now();
      }
      if (done && Date.now() - since >= quietMs) {
        this.log(`settled: every file terminal and acknowledged (${((Date.now() - t) / 1000).toFixed(1)} s)`);
        return true;
      }
      await sleep(250);
    }
    const msg = `not settled after ${((Date.now() - t) / 1000).toFixed(0)} s (the bound of the wait): ${why || 'store not readable'}`;
    this.log(msg);
    this.notes.push(msg);
    return false;
  }

  snapshot(): Snapshot {
    return snapshot(this.dataDir, this.dropDir);
  }

  /** Graceful stop of lotgate (SIGTERM, SIGKILL after 30 s) and redis. */
  async stop(): Promise<void> {
    if (this.lotgate?.alive()) {
      const ms = await this.lotgate.signal('SIGTERM', 30_000);
      if (ms === null) await this.lotgate.signal('SIGKILL', 5_000);
    }
    this.lotgate = null;
    if (this.redis?.alive()) await this.redis.signal('SIGTERM', 10_000);
    this.redis = null;
  }
}

export function lastLogLines(out: string, n = 3): string {
  return out
    .trim()
    .split('\n')
    .slice(-n)
    .map((l) => {
      try {
        const j = JSON.parse(l) as { msg?: string; err?: { message?: string } };
        return `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`;
      } catch {
        return l;
      }
    })
    .join(' | ')
    .slice(0, 600);
}
