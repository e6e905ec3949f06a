// All mapping files of the installation: mappings/<partner>/<feed>.yaml, and which feed a
// dropped file belongs to (the first mapping whose `match` glob accepts its name).

import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import picomatch from 'picomatch';
import type { Diagnostic } from './diagnostics.js';
import { loadMapping, type LoadedMapping } from './load.js';

export interface MappingEntry extends LoadedMapping {
  /** Path of the YAML file. */
  path: string;
  /** Partner id = the folder name. */
  partner: string;
  /** Feed name = the file name without extension. */
  feed: string;
}

export interface MappingSet {
  /** Every mapping file found, valid or not (an invalid one has no `spec`), in partner/feed order. */
  mappings: MappingEntry[];
  /** All diagnostics of all files, plus layout problems (duplicate feed names). */
  diagnostics: Diagnostic[];
}

function isMappingFile(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !name.startsWith('.');
}

function listDir(dir: string): { name: string; isDir: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .map((d) => ({ name: d.name, isDir: d.isDirectory() }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Mapping files of one partner folder (sorted by name). */
export function mappingFilesOf(mappingsDir: string, partnerId: string): string[] {
  return listDir(join(mappingsDir, partnerId))
    .filter((e) => !e.isDir && isMappingFile(e.name))
    .map((e) => join(mappingsDir, partnerId, e.name));
}

/** Loads mappings/<partner>/*.yaml for every partner folder, or only `partnerId`'s. */
export function loadMappings(mappingsDir: string, partnerId?: string): MappingSet {
  const partners = partnerId !== undefined ? [partnerId] : listDir(mappingsDir).filter((e) => e.isDir && !e.name.startsWith('.')).map((e) => e.name);
  const mappings: MappingEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const partner of partners) {
    const byFeed = new Map<string, string>();
    for (const path of mappingFilesOf(mappingsDir, partner)) {
      const feed = basename(path, extname(path));
      const entry: MappingEntry = { ...loadMapping(path), path, partner, feed };
      const other = byFeed.get(feed.toLowerCase());
      if (other !== undefined) {
        entry.diagnostics = [
          ...entry.diagnostics,
          { file: path, line: 1, col: 1, severity: 'error', code: 'E_DUPLICATE_FEED', message: `feed '${feed}' is also defined by ${other}; keep one file per feed` },
        ];
        delete entry.spec;
      }
      byFeed.set(feed.toLowerCase(), path);
      mappings.push(entry);
      diagnostics.push(...entry.diagnostics);
    }
  }
  return { mappings, diagnostics };
}

/** Anything with globs and a feed name: registry entries, or plain specs in tests. */
export interface FeedCandidate {
  feed?: string;
  match?: string[];
  spec?: { feed: string; match: string[] };
}

/**
 * The first mapping whose `match` globs accept the file name (case-insensitive; only the base
 * name counts). With `feedNames` (a partner's `feeds:`), only those feeds, in that order;
 * without, all given mappings in their order. Invalid mappings take part through the globs
 * they declare, so the caller can tell the partner which broken mapping their file needs.
 */
export function selectFeed<T extends FeedCandidate>(mappings: readonly T[], fileName: string, feedNames?: readonly string[]): T | undefined {
  const name = basename(fileName.replace(/\\/g, '/'));
  const feedOf = (m: T): string | undefined => m.spec?.feed ?? m.feed;
  const ordered =
    feedNames !== undefined && feedNames.length > 0
      ? feedNames.flatMap((f) => mappings.filter((m) => feedOf(m) === f))
      : mappings;
  for (const m of ordered) {
    const globs = m.spec?.match ?? m.match ?? [];
    if (globs.length > 0 && picomatch(globs, { nocase: true, dot: true })(name)) return m;
  }
  return undefined;
}
