// The mappings a running lotgate uses, per partner, compiled once and reloaded when a mapping
// file changes on disk (analysts fix a mapping and replay; no restart). Owned by the
// composition root (pipeline/lotgate.ts) and handed to the ingest path.

import { statSync } from 'node:fs';
import type { PartnerConfig } from '../model/types.js';
import { compileMapping, type CompiledMapping } from './compile.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { loadMappings, mappingFilesOf, selectFeed, type MappingEntry } from './registry.js';
import type { MappingSpec } from './spec.js';

export interface SelectedFeed {
  name: string;
  hash: string;
  path: string;
  spec: MappingSpec;
  compiled: CompiledMapping;
  warnings: Diagnostic[];
}

/** A feed whose mapping file matches the file name but has errors, so it cannot be used. */
export interface InvalidFeed {
  name: string;
  hash: string;
  path: string;
  /** Formatted `file:line:col: error CODE: message` lines. */
  diagnostics: string[];
}

interface PartnerMappings {
  signature: string;
  entries: MappingEntry[];
  compiled: Map<string, CompiledMapping>;
}

export class MappingCatalog {
  private readonly partners = new Map<string, PartnerMappings>();

  constructor(private readonly mappingsDir: string) {}

  /** The partner's mappings, reloaded when any of its files was added, removed or changed. */
  entries(partnerId: string): MappingEntry[] {
    return this.load(partnerId).entries;
  }

  select(partner: PartnerConfig, fileName: string): SelectedFeed | InvalidFeed | undefined {
    const pm = this.load(partner.id);
    const entry = selectFeed(pm.entries, fileName, partner.feeds);
    if (entry === undefined) return undefined;
    if (entry.spec === undefined) {
      return {
        name: entry.name,
        hash: entry.hash,
        path: entry.path,
        diagnostics: entry.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic),
      };
    }
    let compiled = pm.compiled.get(entry.path);
    if (compiled === undefined) {
      compiled = compileMapping(entry.spec, entry.hash);
      pm.compiled.set(entry.path, compiled);
    }
    return { name: entry.name, hash: entry.hash, path: entry.path, spec: entry.spec, compiled, warnings: entry.diagnostics };
  }

  /** "batch-status: Chargenstatus_*.csv, batch_status_*.csv; coa: COA_*_v*.pdf" for messages. */
  describe(partner: PartnerConfig): string {
    const entries = this.load(partner.id).entries;
    const feeds = partner.feeds.length > 0 ? partner.feeds : entries.map((e) => e.feed);
    return feeds
      .map((f) => {
        const e = entries.find((x) => x.feed === f);
        if (e === undefined) return `${f}: (no mapping file mappings/${partner.id}/${f}.yaml)`;
        return `${f}: ${(e.spec?.match ?? e.match ?? []).join(', ') || '(no match globs)'}${e.spec === undefined ? ' (mapping has errors)' : ''}`;
      })
      .join('; ');
  }

  private load(partnerId: string): PartnerMappings {
    const signature = mappingFilesOf(this.mappingsDir, partnerId)
      .map((p) => {
        try {
          const st = statSync(p);
          return `${p}:${st.size}:${st.mtimeMs}`;
        } catch {
          return `${p}:gone`;
        }
      })
      .join('|');
    const cached = this.partners.get(partnerId);
    if (cached !== undefined && cached.signature === signature) return cached;
    const entries = loadMappings(this.mappingsDir, partnerId).mappings;
    // Compiled mappings survive a reload when their content (hash) did not change.
    const compiled = new Map<string, CompiledMapping>();
    for (const e of entries) {
      const prev = cached?.compiled.get(e.path);
      if (prev !== undefined && prev.hash === e.hash) compiled.set(e.path, prev);
    }
    const pm: PartnerMappings = { signature, entries, compiled };
    this.partners.set(partnerId, pm);
    return pm;
  }
}
