// The reconciler makes invariant 1 true: the ledger and the folders are the truth, Redis is only
// the conveyor. At start-up and every intake.reconcileSeconds it
//   (a) takes files that sit complete in any inbound/ (the watcher missed them, or they were
//       there before start-up),
//   (b) registers files left in .intake/ by a crash between claim and ledger row,
//   (c) puts every ledger row in `received`/`processing` back on its queue when it has no live
//       job (Redis flushed or replaced, a worker killed, an enqueue that failed),
//   (d) writes the acknowledgments the ledger still owes (`ack_pending`: the disk was full when
//       the submission was decided, or the process died between decision and ack) — the
//       decision itself is final and never redone,
//   (e) answers uploads stranded by a crash or a full disk: the drop zone's hidden temp files
//       (`.<name>.<hex>.part`) left in inbound/ by a server that died mid-upload, and partial
//       uploads set aside in .quarantine/ that never reached the ledger. Each becomes a ledger row,
//       quarantined with E_PARTIAL_UPLOAD, with an acknowledgment; the bytes go to the archive.
//       Each is first claimed by an atomic rename into .quarantine/ (claimedPartialName), so of the
//       intake processes sharing a drop folder exactly one answers it. The start-up rule (written
//       before this process started) applies only to temp files of this machine's drop zone: the
//       temp name carries its host id (host-id.ts); another machine's upload may only be paused.
//   (f) recomputes the readiness of lots a committed file left marked dirty (the process died
//       between the file's commit and its readiness step), each change audited and put in the
//       outbox exactly once, with the submission as its cause (readiness/recompute.ts).

import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleSpools } from '../ingest/spool.js';
import { hashFile } from './archive.js';
import { localHostId } from './host-id.js';
import { STAGING_HEARTBEAT_MS, takeFile, takePartial, type IntakeDeps } from './intake.js';
import { claimedPartialName, ignoredReason, parseQuarantinedName, parseStagedName, parseUploadTempName, partnerDirs } from './names.js';
import type { LedgerArea } from '../store/areas/ledger.js';
import type { SubmissionRow } from '../store/types.js';

export type RequeueOutcome = 'added' | 'present' | 'readded';

export interface ReconcilerDeps extends IntakeDeps {
  /** Ledger reads (WAL readers never wait for the writer). */
  store: { ledger: Pick<LedgerArea, 'listUnfinishedSubmissions' | 'listSubmissions'> };
  /** Makes sure the submission has a live job on its partner's queue. */
  requeue: (partner: string, submissionId: number) => Promise<RequeueOutcome>;
  /** Live job state, to tell a job that is running from one that is gone for good. */
  jobState: (partner: string, submissionId: number) => Promise<string>;
  /**
   * Recomputes lots whose dirty marker is older than `olderThanMs` (step f); returns the lots
   * recomputed. Absent: this process does not recover readiness.
   */
  recomputeDirty?: (olderThanMs: number) => Promise<number>;
}

export interface ReconcileOptions {
  /** A staged file is recovered only when nobody touched it for this long (default 60 s). */
  stagedGraceMs?: number;
  /** Files in inbound/ count as complete once unchanged this long (default config.intake.stableMs). */
  stableMs?: number;
  /**
   * A drop-zone temp file (`.<name>.<hex>.part`) unchanged this long is a stranded upload
   * (default config.intake.partialStaleSeconds). At start-up, temp files of this machine's drop
   * zone (or naming no machine) last written before this process started (and quiet for
   * `startupQuietMs`, default 10 s) are stranded as well.
   */
  partialStaleMs?: number;
  startupQuietMs?: number;
  /** This machine's id, as its drop zone writes it into temp names (default: `<dataDir>/host-id`). */
  hostId?: string;
  /** Owed acks are written only for submissions decided at least this long ago (default 30 s): younger ones are being written by their own run. */
  ackRedriveAfterMs?: number;
  /** Dirty readiness markers are recovered only once this old (default 30 s): younger ones are being recomputed by their own run. */
  dirtyAfterMs?: number;
}

export interface ReconcileReport {
  taken: number;
  recovered: number;
  stagedRemoved: number;
  requeued: number;
  quarantined: number;
  /** Owed acknowledgments written in this pass, and those that still could not be written. */
  acksWritten: number;
  acksFailed: number;
  /** Stranded uploads (temp files, unregistered partials) answered with E_PARTIAL_UPLOAD. */
  strandedAnswered: number;
  /** Partials already in the ledger whose leftover copy was removed. */
  strandedRemoved: number;
  waitingForStability: number;
  /** Lots whose readiness was left dirty by a crash and recomputed in this pass. */
  readinessRecovered: number;
  errors: string[];
}

interface Seen {
  size: number;
  mtimeMs: number;
}

const FINISHED_JOB = new Set(['failed', 'completed', 'unknown']);

export interface Reconciler {
  /** One full pass; concurrent calls share the running pass. */
  scan(): Promise<ReconcileReport>;
  /** First pass now, then every intake.reconcileSeconds. */
  start(): void;
  stop(): Promise<void>;
}

export function createReconciler(deps: ReconcilerDeps, opts: ReconcileOptions = {}): Reconciler {
  const seen = new Map<string, Seen>();
  const stableMs = opts.stableMs ?? deps.config.intake.stableMs;
  const stagedGraceMs = opts.stagedGraceMs ?? 60_000;
  const partialStaleMs = opts.partialStaleMs ?? (deps.config.intake.partialStaleSeconds ?? 3600) * 1000;
  const startupQuietMs = opts.startupQuietMs ?? 10_000;
  // File-system clocks are coarse (a file written just after this line may carry an earlier
  // time): "before this process started" means a second before.
  const startedAtMs = deps.now().getTime() - 1000;
  let firstPass = true;
  let hostId = opts.hostId;
  const thisHost = (): string => (hostId ??= localHostId(deps.config.dataDir));
  let running: Promise<ReconcileReport> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let redisDownLogged = false;

  async function partnerFolders(): Promise<string[]> {
    const entries = await readdir(deps.config.dropDir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  }

  async function scanInbound(partner: string, report: ReconcileReport, alive: Set<string>): Promise<void> {
    const dir = partnerDirs(deps.config.dropDir, partner).inbound;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (ignoredReason(name)) continue;
      const file = path.join(dir, name);
      const st = await lstat(file).catch(() => null);
      if (!st) continue;
      alive.add(file);
      if (!st.isFile()) {
        await takeFile(deps, { partner, path: file, source: 'watch' }).catch(() => {}); // reports it once
        continue;
      }
      const prev = seen.get(file);
      seen.set(file, { size: st.size, mtimeMs: st.mtimeMs });
      const unchanged = prev !== undefined && prev.size === st.size && prev.mtimeMs === st.mtimeMs;
      const old = deps.now().getTime() - st.mtimeMs >= stableMs;
      if (!unchanged && !old) {
        report.waitingForStability++;
        continue;
      }
      try {
        const r = await takeFile(deps, { partner, path: file, source: 'watch' });
        if (r.status === 'taken') {
          report.taken++;
          seen.delete(file);
        }
      } catch (err) {
        report.errors.push(`${file}: ${(err as Error).message}`);
      }
    }
  }

  async function recoverStaged(partner: string, report: ReconcileReport): Promise<void> {
    const dir = partnerDirs(deps.config.dropDir, partner).intake;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const stagedFile of names.sort()) {
      const file = path.join(dir, stagedFile);
      if (deps.staging?.has(file)) continue;
      const st = await lstat(file).catch(() => null);
      if (!st || !st.isFile()) continue;
      // Someone (this or another intake process) may be registering it right now: they keep its
      // ctime fresh while they do.
      if (stagedGraceMs > 0 && deps.now().getTime() - st.ctimeMs < stagedGraceMs) continue;
      const info = parseStagedName(stagedFile) ?? { originalName: stagedFile, receivedAtMs: st.mtimeMs };
      try {
        const digest = await hashFile(file);
        const receivedAt = new Date(info.receivedAtMs).toISOString();
        // The ledger row of this very file carries the receivedAt written into its staged name;
        // an earlier upload of the same bytes under the same name does not count.
        const already = (await deps.store.ledger.listSubmissions({ partner, since: receivedAt, limit: 10_000 })).find((s) => s.originalName === info.originalName && s.sha256 === digest.sha256 && s.receivedAt === receivedAt);
        if (already) {
          await rm(file, { force: true });
          report.stagedRemoved++;
          continue;
        }
        if (!knownPartner(deps, partner)) continue;
        const id = await deps.ledger.register({
          partner,
          path: file,
          name: info.originalName,
          source: 'watch',
          sha256: digest.sha256,
          size: digest.size,
          receivedAt,
          removeSource: true,
        });
        report.recovered++;
        deps.log.info({ partner, file: info.originalName, submissionId: id }, 'recovered a file claimed before a crash');
        await deps.enqueue(partner, id).catch(() => {
          /* (c) below or the next pass queues it */
        });
      } catch (err) {
        report.errors.push(`${file}: ${(err as Error).message}`);
      }
    }
  }

  /** The ledger row of this very partial, when a crash came between its row and the removal. */
  async function alreadyAnswered(partner: string, originalName: string, sha256: string, atMs: number): Promise<boolean> {
    const windowMs = 60_000;
    return (await deps.store.ledger.listSubmissions({ partner, since: new Date(atMs - windowMs).toISOString(), limit: 10_000 })).some((s) => s.originalName === originalName && s.sha256 === sha256 && s.state === 'quarantined' && Math.abs(Date.parse(s.receivedAt) - atMs) < windowMs);
  }

  /**
   * Claims a stranded file by renaming it into .quarantine/ under a name of this claim, then
   * answers it. Of several intake processes passing over the same file exactly one rename
   * succeeds; the others find it gone and leave it. A crash after the claim leaves the claimed
   * copy in .quarantine/, answered by a later pass once its grace period is over (while this
   * process registers it, its ctime is kept fresh, as intake does with .intake/).
   */
  async function answerStranded(partner: string, file: string, originalName: string, atMs: number, message: (size: number) => string, report: ReconcileReport): Promise<void> {
    const dir = partnerDirs(deps.config.dropDir, partner).quarantine;
    await mkdir(dir, { recursive: true });
    const claimed = path.join(dir, claimedPartialName(originalName, atMs, randomBytes(6).toString('hex')));
    try {
      await rename(file, claimed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another process claimed it
      throw err;
    }
    deps.staging?.add(claimed);
    const st = await lstat(claimed).catch(() => null);
    const touch = () => (st ? utimes(claimed, st.atime, st.mtime).catch(() => {}) : Promise.resolve());
    // Not every file system marks a rename as a change: say "being registered" explicitly.
    await touch();
    const heartbeat = setInterval(() => void touch(), STAGING_HEARTBEAT_MS);
    heartbeat.unref();
    try {
      const digest = await hashFile(claimed);
      if (await alreadyAnswered(partner, originalName, digest.sha256, atMs)) {
        await rm(claimed, { force: true });
        report.strandedRemoved++;
        return;
      }
      const id = await takePartial(deps, { partner, name: originalName, path: claimed, size: digest.size, sha256: digest.sha256, receivedAt: new Date(atMs).toISOString(), message: message(digest.size) });
      report.strandedAnswered++;
      deps.log.warn({ partner, file: originalName, submissionId: id, bytes: digest.size }, 'stranded upload answered: quarantined with E_PARTIAL_UPLOAD');
    } finally {
      clearInterval(heartbeat);
      deps.staging?.delete(claimed);
    }
  }

  async function recoverStranded(partner: string, report: ReconcileReport, startUp: boolean): Promise<void> {
    if (!knownPartner(deps, partner)) return;
    const dirs = partnerDirs(deps.config.dropDir, partner);
    const now = deps.now().getTime();
    for (const name of (await readdir(dirs.inbound).catch(() => [] as string[])).sort()) {
      const temp = parseUploadTempName(name);
      if (!temp) continue;
      const file = path.join(dirs.inbound, name);
      const st = await lstat(file).catch(() => null);
      if (!st?.isFile()) continue;
      const quiet = now - st.mtimeMs;
      // Uploads of this process (and live ones of other drop-zone processes) keep writing their
      // temp file; only files nobody wrote for long, or not since before this start, are taken.
      // "Before this start" says nothing about another machine's upload (its partner may have
      // paused): the start-up rule is for this machine's temp files (and those naming none).
      const startUpRule = startUp && st.mtimeMs < startedAtMs && quiet >= startupQuietMs;
      try {
        const stranded = quiet >= partialStaleMs || (startUpRule && (temp.hostId === undefined || temp.hostId === thisHost()));
        if (!stranded) continue;
        await answerStranded(partner, file, temp.originalName, Math.floor(st.mtimeMs), (size) => `The upload of "${temp.originalName}" was cut off when the drop zone stopped (${size} bytes received); nothing was applied. Upload the file again.`, report);
      } catch (err) {
        report.errors.push(`${file}: ${(err as Error).message}`);
      }
    }
    for (const name of (await readdir(dirs.quarantine).catch(() => [] as string[])).sort()) {
      const file = path.join(dirs.quarantine, name);
      if (deps.staging?.has(file)) continue;
      const st = await lstat(file).catch(() => null);
      if (!st?.isFile()) continue;
      // The drop zone may be registering it right now (it moved it here a moment ago); at
      // start-up, a partial set aside before this process started (and quiet since) is not.
      // A claimed one (an intake process answering it) is left for the grace period in any case.
      const claim = parseQuarantinedName(name) ? null : parseStagedName(name);
      const beforeStart = !claim && startUp && st.ctimeMs < startedAtMs && now - st.ctimeMs >= startupQuietMs;
      if (!beforeStart && stagedGraceMs > 0 && now - st.ctimeMs < stagedGraceMs) continue;
      const info = parseQuarantinedName(name) ?? (claim ? { originalName: claim.originalName, quarantinedAtMs: claim.receivedAtMs } : { originalName: name, quarantinedAtMs: Math.floor(st.mtimeMs) });
      try {
        await answerStranded(partner, file, info.originalName, info.quarantinedAtMs, (size) => `The upload was interrupted before the file was closed (${size} bytes received); nothing was applied. Upload the file again.`, report);
      } catch (err) {
        report.errors.push(`${file}: ${(err as Error).message}`);
      }
    }
  }

  async function requeueUnfinished(report: ReconcileReport): Promise<void> {
    let rows: SubmissionRow[];
    try {
      rows = await deps.store.ledger.listUnfinishedSubmissions();
    } catch (err) {
      report.errors.push(`ledger: ${(err as Error).message}`);
      return;
    }
    const maxAttempts = Math.max(1, deps.config.queue.attempts);
    for (const sub of rows) {
      try {
        const state = await deps.jobState(sub.partner, sub.id);
        if (FINISHED_JOB.has(state) && sub.attempts >= maxAttempts) {
          // The job ended without the worker finishing the submission — its process died while
          // running it, again and again (BullMQ fails a job that stalls too often). Stop here
          // with an answer for the partner instead of looping.
          const reason = sub.errorMessage ? ` Last error: ${sub.errorMessage}` : '';
          await deps.ledger.quarantine(sub.id, 'E_PROCESSING_FAILED', `Processing was started ${sub.attempts} times and never finished (the worker stopped each time); nothing was applied.${reason}`);
          report.quarantined++;
          continue;
        }
        const outcome = await deps.requeue(sub.partner, sub.id);
        if (outcome !== 'present') {
          report.requeued++;
          deps.log.info({ partner: sub.partner, submissionId: sub.id, state: sub.state, job: state }, 're-queued an unfinished submission');
        }
        redisDownLogged = false;
      } catch (err) {
        report.errors.push(`submission ${sub.id}: ${(err as Error).message}`);
        if (!redisDownLogged) {
          deps.log.warn({ err: (err as Error).message, waiting: rows.length }, 'cannot reach the queue; unfinished submissions stay in the ledger and are queued when Redis is back');
          redisDownLogged = true;
        }
        return;
      }
    }
  }

  async function redriveOwedAcks(report: ReconcileReport): Promise<void> {
    try {
      const r = await deps.ledger.acks(opts.ackRedriveAfterMs ?? 30_000);
      report.acksWritten += r.written;
      report.acksFailed += r.failed;
      if (r.failed) report.errors.push(`${r.failed} acknowledgment(s) still cannot be written (see the log); retried next pass`);
    } catch (err) {
      report.errors.push(`acknowledgments: ${(err as Error).message}`);
    }
  }

  async function recoverReadiness(report: ReconcileReport): Promise<void> {
    if (!deps.recomputeDirty) return;
    try {
      report.readinessRecovered += await deps.recomputeDirty(opts.dirtyAfterMs ?? 30_000);
    } catch (err) {
      report.errors.push(`readiness: ${(err as Error).message}`);
    }
  }

  async function pass(): Promise<ReconcileReport> {
    const report: ReconcileReport = { taken: 0, recovered: 0, stagedRemoved: 0, requeued: 0, quarantined: 0, acksWritten: 0, acksFailed: 0, strandedAnswered: 0, strandedRemoved: 0, waitingForStability: 0, readinessRecovered: 0, errors: [] };
    const alive = new Set<string>();
    const startUp = firstPass;
    firstPass = false;
    for (const partner of await partnerFolders()) {
      await recoverStaged(partner, report);
      await scanInbound(partner, report, alive);
      await recoverStranded(partner, report, startUp);
    }
    for (const k of seen.keys()) if (!alive.has(k)) seen.delete(k);
    // Forget warnings about files that are gone, so the set does not grow forever.
    for (const k of deps.noticed ?? []) if (!alive.has(k)) deps.noticed!.delete(k);
    await requeueUnfinished(report);
    await redriveOwedAcks(report);
    await recoverReadiness(report);
    // Mapped rows of files whose process was killed while reading them (pipeline/ingest/spool.ts).
    const spools = removeStaleSpools(path.join(deps.config.dataDir, 'tmp'));
    if (spools) deps.log.info({ removed: spools }, 'removed spool files of stopped processes');
    const did = report.taken + report.recovered + report.stagedRemoved + report.requeued + report.quarantined + report.acksWritten + report.strandedAnswered + report.strandedRemoved + report.readinessRecovered;
    if (did || report.errors.length) deps.log.info({ ...report, errors: report.errors.slice(0, 5) }, 'reconcile pass');
    return report;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void scan()
        .catch((err) => deps.log.error({ err }, 'reconcile pass failed'))
        .finally(schedule);
    }, Math.max(1, deps.config.intake.reconcileSeconds) * 1000);
    timer.unref();
  }

  function scan(): Promise<ReconcileReport> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    scan,
    start() {
      stopped = false;
      void scan()
        .catch((err) => deps.log.error({ err }, 'reconcile pass failed'))
        .finally(schedule);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}

function knownPartner(deps: IntakeDeps, partner: string): boolean {
  try {
    return deps.partners().has(partner);
  } catch {
    return false;
  }
}
