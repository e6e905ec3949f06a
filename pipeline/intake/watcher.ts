// Watches every partner's inbound/ folder for files written by anything — our drop zone, another
// SFTP server (OpenSSH, SFTPGo), a mounted share, `cp` — and hands each complete file to intake.
// "Complete" for a writer we do not control means: it stopped growing for intake.stableMs
// (chokidar's awaitWriteFinish). Partner folders created later are picked up as they appear.
// The watcher is an accelerator, not the guarantee: the reconcile scan finds anything it missed.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { inboundFileOf } from './names.js';

export interface WatcherOptions {
  dropDir: string;
  stableMs: number;
  log: Logger;
  /** Called once per file that appeared complete in <dropDir>/<partner>/inbound/. */
  onFile: (file: { partner: string; path: string }) => Promise<unknown>;
}

export interface InboundWatcher {
  /** Resolves once the initial directory walk is done and events flow. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** True for paths the watcher must descend into or report; everything else is not even read. */
export function watchedPath(dropDir: string, p: string): boolean {
  const rel = path.relative(dropDir, p);
  if (rel === '') return true;
  if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
  const parts = rel.split(path.sep);
  if (parts[0].startsWith('.')) return false; // .intake etc. of other tools at the top level
  if (parts.length === 1) return true; // <partner>
  if (parts[1] !== 'inbound') return false; // outbound/, .intake/, .quarantine/
  return parts.length <= 3;
}

export function startWatcher(opts: WatcherOptions): InboundWatcher {
  mkdirSync(opts.dropDir, { recursive: true });
  const awf = { stabilityThreshold: Math.max(50, opts.stableMs), pollInterval: Math.max(25, Math.min(250, Math.floor(opts.stableMs / 4))) };
  const w: FSWatcher = watch(opts.dropDir, {
    // Files already there at start-up belong to the reconcile scan, which runs right away.
    ignoreInitial: true,
    depth: 2,
    awaitWriteFinish: awf,
    ignored: (p: string) => !watchedPath(opts.dropDir, p),
    ignorePermissionErrors: true,
  });
  const inFlight = new Set<Promise<unknown>>();
  w.on('add', (p: string) => {
    const f = inboundFileOf(opts.dropDir, p);
    if (!f) return;
    const job = opts
      .onFile({ partner: f.partner, path: p })
      .catch((err) => opts.log.error({ err, file: p }, 'intake of a watched file failed; the reconcile scan will retry it'))
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  });
  w.on('error', (err: unknown) => opts.log.error({ err }, 'inbound watcher error'));
  const ready = new Promise<void>((resolve) => w.once('ready', () => resolve()));
  return {
    ready,
    close: async () => {
      await w.close();
      await Promise.allSettled([...inFlight]);
    },
  };
}
