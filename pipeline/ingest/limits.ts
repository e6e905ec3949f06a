// How much one file may ask of lotgate: rows and row errors per file, per feed / partner, with
// defaults from config.yaml. A file beyond a limit is rejected as a whole (never half-applied),
// so one huge or hopeless file cannot hold the single SQLite writer for every other partner.

import type { LotgateConfig } from '../config/config.js';
import type { PartnerConfig } from '../model/types.js';

export interface FileLimits {
  /** Data rows a file may have (filtered rows count: they are read and mapped too). */
  maxRows: number;
  /** Rows with errors a file may have before it is rejected as a whole. */
  maxErrors: number;
}

export interface LimitsSetting {
  maxRows?: number;
  maxErrors?: number;
}

/** The partner file's `limits:` block: defaults for all its feeds, and per-feed overrides. */
export interface PartnerLimits extends LimitsSetting {
  feeds?: Record<string, LimitsSetting>;
}

export const DEFAULT_LIMITS: FileLimits = { maxRows: 5_000_000, maxErrors: 10_000 };

/** Pure: feed setting over partner setting over config.yaml `ingest.limits` over the built-in defaults. */
export function limitsFor(config: Pick<LotgateConfig, 'ingest'>, partner: Pick<PartnerConfig, 'limits'>, feed: string): FileLimits {
  const layers: (LimitsSetting | undefined)[] = [DEFAULT_LIMITS, config.ingest?.limits, partner.limits, partner.limits?.feeds?.[feed]];
  const out = { ...DEFAULT_LIMITS };
  for (const l of layers) {
    if (l?.maxRows !== undefined) out.maxRows = l.maxRows;
    if (l?.maxErrors !== undefined) out.maxErrors = l.maxErrors;
  }
  return out;
}

export function tooManyRowsMessage(limits: FileLimits, partner: string, feed: string): string {
  return (
    `The file has more than ${limits.maxRows.toLocaleString('en-US')} data rows, the limit for feed "${feed}" of partner "${partner}"; nothing was applied. ` +
    `Send the data in several smaller files, or ask the sponsor to raise limits.maxRows in partners/${partner}.yaml.`
  );
}

export function tooManyErrorsMessage(limits: FileLimits, partner: string, feed: string, atLine?: number): string {
  return (
    `More than ${limits.maxErrors.toLocaleString('en-US')} rows have errors${atLine ? ` (limit reached at line ${atLine})` : ''}, the limit for feed "${feed}" of partner "${partner}"; nothing was applied. ` +
    `The first errors are listed: the file probably does not match the agreed format. Correct it and send it again.`
  );
}
