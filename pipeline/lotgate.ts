// The composition root: builds every part from the configuration and hands dependencies in as
// plain parameters. No module-level singletons — tests build whole instances in temp dirs.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { LotgateConfig } from './config/config.js';
import { loadPartners } from './config/partners.js';
import { fsArchive } from './intake/archive.js';
import type { IngestDeps } from './ingest/deps.js';
import { MappingCatalog } from './mapping/catalog.js';
import type { PartnerConfig } from './model/types.js';
import { openStore, type OpenStore } from './store/store.js';

export interface Lotgate extends IngestDeps {
  store: OpenStore;
  close(): Promise<void>;
}

export interface LotgateOptions {
  log?: Logger;
  now?: () => Date;
  /** PostgreSQL: connections of this lotgate's pool (default 10; a worker thread, which runs one file at a time, needs 2). */
  poolMax?: number;
  /** SQLite: how long a write waits for another process's lock before SQLITE_BUSY (default 30 s; tests shorten it). */
  busyTimeoutMs?: number;
}

export function createLogger(level = process.env.LOTGATE_LOG_LEVEL ?? 'info'): Logger {
  // Logs go to stderr so that stdout stays clean for --json output.
  return pino({ level, base: { app: 'lotgate' } }, pino.destination(2));
}

/** Opens the store config.store.url names (SQLite under the data dir unless set) and builds the rest around it. */
export async function createLotgate(config: LotgateConfig, opts: LotgateOptions = {}): Promise<Lotgate> {
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(config.dropDir, { recursive: true });
  const now = opts.now ?? (() => new Date());
  const store = await openStore(config.store.url, { busyTimeoutMs: opts.busyTimeoutMs, max: opts.poolMax });
  const log = opts.log ?? createLogger();
  // Partner files are re-read when they change on disk, so `lotgate partner add` and key
  // rotations take effect without a restart.
  let partnerCache: { at: number; map: Map<string, PartnerConfig> } | null = null;
  const partners = () => {
    const now = Date.now();
    if (!partnerCache || now - partnerCache.at > 2000) partnerCache = { at: now, map: loadPartners(config.partnersDir) };
    return partnerCache.map;
  };
  const mappings = new MappingCatalog(config.mappingsDir);
  return {
    config,
    store,
    archive: fsArchive(config.archiveDir),
    partners,
    mappings,
    now,
    log,
    close: () => store.close(),
  };
}
