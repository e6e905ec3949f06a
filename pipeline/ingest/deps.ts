// What the ingest path needs, handed in by the composition root (pipeline/lotgate.ts).

import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import type { Archive } from '../intake/archive.js';
import type { PartnerConfig } from '../model/types.js';
import type { MappingCatalog } from '../mapping/catalog.js';
import type { Store } from '../store/store.js';

export interface IngestDeps {
  config: LotgateConfig;
  store: Store;
  /** Where originals are kept (config.archiveDir). */
  archive: Archive;
  partners: () => Map<string, PartnerConfig>;
  mappings: MappingCatalog;
  now: () => Date;
  log: Logger;
  /**
   * Fault injection for crash tests only (never set in production): called at named points,
   * e.g. `readiness` between a file's commit (and ack) and the recompute of its lots.
   */
  crashPoint?: (name: string, info: Record<string, unknown>) => void;
}
