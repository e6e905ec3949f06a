// pull: fetches new files from the partners that have a `pull:` section in partners/<id>.yaml
// (their own SFTP server) into the same intake as uploads: a temp file under the data dir, then
// registerFile (source 'pull') and the partner's queue — or processSubmission right here when no
// queue runs (`lotgate job run pull`). A remote file (path, size, mtime) is fetched once; a fetch
// interrupted half-way is fetched again on the next run and never registered twice (see
// store/areas/pulls.ts). One partner's unreachable server does not stop the others.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { processSubmission } from '../pipeline/ingest/process-submission.js';
import { hashFile } from '../pipeline/intake/archive.js';
import { ignoredReason } from '../pipeline/intake/names.js';
import { registerFile } from '../pipeline/intake/register-file.js';
import { checkAborted, defineJob, type JobContext } from '../pipeline/scheduler/job.js';
import { pullSources, type PullSource } from './pull-config.js';
import { connectPull, defaultPullClient, download, type PullClient, type RemoteEntry } from './pull-remote.js';
import type { RemoteFileKey } from '../pipeline/store/store.js';

declare module '../pipeline/scheduler/job.js' {
  interface JobServices {
    /** The SFTP client the pull job uses (tests hand in fakes). */
    pullClient?: () => PullClient;
  }
}

type Counts = { partners: number; listed: number; fetched: number; alreadyFetched: number; waiting: number; recovered: number };

export const pullJob = defineJob<Record<string, never>>({
  name: 'pull',
  description: "Fetch new files from partners' own SFTP servers (partners/<id>.yaml `pull:`).",
  defaultSchedule: '*/5 * * * *',
  optionsSchema: {},
  defaults: {},
  async run(ctx) {
    const { lg } = ctx;
    const { sources, problems: configProblems } = pullSources(lg.partners().values(), ctx.env, lg.config.baseDir);
    const problems = configProblems.map((p) => `${p.path}: ${p.message} [${p.code}]`);
    const counts: Counts = { partners: sources.length, listed: 0, fetched: 0, alreadyFetched: 0, waiting: 0, recovered: 0 };
    for (const src of sources) {
      checkAborted(ctx.signal);
      try {
        await pullPartner(ctx, src, counts);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const msg = `${src.partner}: ${(err as Error).message}`;
        problems.push(msg);
        ctx.log.error({ partner: src.partner, err }, 'pull from the partner failed; the next run tries again');
      }
    }
    return { counts, problems };
  },
});

async function pullPartner(ctx: JobContext, src: PullSource, counts: Counts): Promise<void> {
  await removeLeftovers(path.join(ctx.lg.config.dataDir, 'pull', src.partner));
  const client = (ctx.services.pullClient ?? defaultPullClient)();
  await connectPull(client, src);
  try {
    const entries = await client.list(src.folder);
    const names = new Set(entries.map((e) => e.name));
    const candidates = entries
      .filter((e) => e.type === '-' && ignoredReason(e.name) === null && src.matches(e.name))
      .filter((e) => !(src.doneMarker && e.name.endsWith(src.doneMarker)))
      .sort((a, b) => a.modifyTime - b.modifyTime || a.name.localeCompare(b.name));
    counts.listed += candidates.length;
    let fetchedHere = 0;
    for (const entry of candidates) {
      checkAborted(ctx.signal);
      if (fetchedHere >= src.maxFiles) break;
      const key: RemoteFileKey = { partner: src.partner, remotePath: path.posix.join(src.folder, entry.name), size: entry.size, mtime: Math.trunc(entry.modifyTime) };
      const known = await ctx.lg.store.pulls.getPulledFile(key);
      if (known?.state === 'fetched') {
        counts.alreadyFetched++;
        // A crash between registration and the after-action leaves it to do now.
        if (!known.afterDone && src.after !== 'leave') await afterPull(ctx, client, src, entry, key, names);
        continue;
      }
      if (known?.state !== 'fetching' && !(await isReady(ctx, src, entry, key, names))) {
        counts.waiting++;
        continue;
      }
      if (known?.state === 'fetching') counts.recovered++;
      await fetchOne(ctx, client, src, entry, key);
      fetchedHere++;
      counts.fetched++;
      if (src.after !== 'leave') await afterPull(ctx, client, src, entry, key, names);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Complete when its done marker exists, or when size and mtime held still for stableSeconds. */
async function isReady(ctx: JobContext, src: PullSource, entry: RemoteEntry, key: RemoteFileKey, names: Set<string>): Promise<boolean> {
  if (src.doneMarker) return names.has(entry.name + src.doneMarker);
  const seen = await ctx.lg.store.pulls.notePulledSeen(key, ctx.now());
  return ctx.now().getTime() - Date.parse(seen.firstSeenAt) >= src.stableSeconds * 1000;
}

async function fetchOne(ctx: JobContext, client: PullClient, src: PullSource, entry: RemoteEntry, key: RemoteFileKey): Promise<void> {
  const { lg } = ctx;
  const row = await lg.store.pulls.startPullFetch(key, ctx.now());
  const dir = path.join(lg.config.dataDir, 'pull', src.partner);
  await mkdir(dir, { recursive: true });
  // A hidden temp name next to the archive's volume: archiving can then hard-link it.
  const tmp = path.join(dir, `.${randomBytes(6).toString('hex')}.part`);
  let submissionId: number;
  try {
    await download(client, key.remotePath, tmp);
    await ctx.services.crashPoint?.('pull:after-download', { partner: src.partner, remotePath: key.remotePath, tmp });
    const got = (await stat(tmp)).size;
    if (got !== entry.size) throw new Error(`${key.remotePath} changed while it was fetched (listed ${entry.size} bytes, got ${got}); it is fetched again next time`);
    const digest = await hashFile(tmp);
    // A crashed earlier attempt may have put this very file in the ledger already.
    const earlier = await lg.store.pulls.findPulledSubmission(src.partner, entry.name, digest.sha256, row.ledgerMark ?? 0);
    if (earlier !== undefined) {
      submissionId = earlier;
      await rm(tmp, { force: true });
      ctx.log.info({ partner: src.partner, file: entry.name, submissionId }, 'pulled file was already in the ledger from an interrupted run; not registered again');
    } else {
      submissionId = await registerFile(lg, {
        partner: src.partner,
        path: tmp,
        name: entry.name,
        source: 'pull',
        sha256: digest.sha256,
        size: digest.size,
        removeSource: true,
      });
    }
    await ctx.services.crashPoint?.('pull:after-register', { partner: src.partner, remotePath: key.remotePath, submissionId });
    await lg.store.pulls.finishPullFetch(key, { sha256: digest.sha256, submissionId }, ctx.now());
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  ctx.log.info({ partner: src.partner, file: entry.name, size: entry.size, submissionId }, 'pulled file registered');
  if (ctx.enqueue) {
    // Redis down: the submission stays `received` and the reconciler queues it later.
    await ctx.enqueue(src.partner, submissionId).catch((err: unknown) => ctx.log.warn({ err, submissionId }, 'pulled file could not be queued; the reconciler will'));
  } else {
    await processSubmission(lg, submissionId);
  }
}

async function afterPull(ctx: JobContext, client: PullClient, src: PullSource, entry: RemoteEntry, key: RemoteFileKey, names: Set<string>): Promise<void> {
  const marker = src.doneMarker && names.has(entry.name + src.doneMarker) ? path.posix.join(src.folder, entry.name + src.doneMarker) : null;
  if (src.after === 'delete') {
    await client.delete(key.remotePath, true);
    if (marker) await client.delete(marker, true);
  } else if (src.after === 'move') {
    if (!(await client.exists(src.moveTo))) await client.mkdir(src.moveTo, true);
    await moveRemote(client, key.remotePath, path.posix.join(src.moveTo, entry.name));
    if (marker) await moveRemote(client, marker, path.posix.join(src.moveTo, entry.name + src.doneMarker));
  }
  await ctx.lg.store.pulls.markPullAfterDone(key, ctx.now());
}

async function moveRemote(client: PullClient, from: string, to: string): Promise<void> {
  try {
    // Replaces a file of the same name from an earlier delivery.
    await client.posixRename(from, to);
  } catch {
    await client.delete(to, true).catch(() => undefined);
    await client.rename(from, to);
  }
}

/** Temp files of a run that died mid-download. Only one pull runs at a time (the lease), so none is in use. */
async function removeLeftovers(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (n.startsWith('.') && n.endsWith('.part')) await rm(path.join(dir, n), { force: true });
}
