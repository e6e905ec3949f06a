// A whole lotgate in a temp dir with a copy of the project's mappings (optionally edited), the
// ERP master data ingested, the clock at 2026-11-20.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { vi } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { loadConfig } from '../../pipeline/config/config.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import type { Store } from '../../pipeline/store/store.js';

export const root = path.resolve(import.meta.dirname, '../..');
const NOW = new Date('2026-11-20T12:00:00Z');
const ERP_FILES = ['ZMM_MATERIALS_20261120.csv', 'ZMM_PO_20261120.csv', 'ZMM_BATCHES_20261120.csv'];

export interface World {
  lg: Lotgate;
  dir: string;
  mappingsDir: string;
  close(): Promise<void>;
}

/** edits: mapping path under mappings/ → function of its text. */
export async function world(edits: Record<string, (yaml: string) => string> = {}): Promise<World> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-ingest-'));
  const mappingsDir = path.join(dir, 'mappings');
  cpSync(path.join(root, 'mappings'), mappingsDir, { recursive: true });
  for (const [rel, edit] of Object.entries(edits)) {
    const file = path.join(mappingsDir, rel);
    const before = readFileSync(file, 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`edit of ${rel} changed nothing`);
    writeFileSync(file, after);
  }
  const config = loadConfig({ configPath: path.join(root, 'config.yaml'), dataDir: dir, env: {} });
  const lg = await createLotgate({ ...config, mappingsDir, dropDir: path.join(dir, 'drop') }, { now: () => NOW, log: pino({ level: 'silent' }) });
  mkdirSync(path.join(dir, 'up'));
  await ingestFiles(lg, 'erp', ERP_FILES.map((f) => copyUp(dir, path.join(root, 'fixtures/erp', f))));
  return {
    lg,
    dir,
    mappingsDir,
    async close() {
      await lg.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A copy of a file in the world's upload folder (the archive may hard-link what it ingests). */
export function copyUp(dir: string, file: string, as = path.basename(file)): string {
  const to = path.join(dir, 'up', as);
  cpSync(file, to);
  return to;
}

/** A project fixture copied into the world's upload folder as `name`, its text edited on the way (bytes: see `uploadBytes`). */
export function upload(dir: string, fixture: string, name: string, edit: (text: string) => string = (t) => t): string {
  return uploadBytes(dir, fixture, name, (b) => edit(b.toString('utf8')));
}

/** The same for files whose bytes matter (another encoding, a workbook). */
export function uploadBytes(dir: string, fixture: string, name: string, edit: (bytes: Buffer) => Buffer | string = (b) => b): string {
  const to = path.join(dir, 'up', name);
  writeFileSync(to, edit(readFileSync(path.join(root, fixture))));
  return to;
}

/** A fixtures/shapes mapping installed in place of an existing feed: that partner and feed name, the given file-name pattern. */
export function shapeAsFeed(file: string, partner: string, feed: string, match: string): () => string {
  const text = readFileSync(path.join(root, file), 'utf8');
  return () => text.replace(/^partner: .*$/m, `partner: ${partner}`).replace(/^feed: .*$/m, `feed: ${feed}`).replace(/^match: .*$/m, `match: ["${match}"]`) + '\n';
}

/**
 * The process "dies" between a file's commit and its readiness recompute: every
 * readiness.stillDirty of the store fails, on the root store and in every transaction (a
 * transaction's store is a new value, so its areas are wrapped as they are handed out).
 * Returns the restore.
 */
export function failStillDirty(store: Store): () => void {
  const killed = () => Promise.reject(new Error('killed'));
  const failing = (s: Store): Store => ({
    ...s,
    readiness: { ...s.readiness, stillDirty: killed },
    transaction: (fn) => s.transaction((tx) => fn(failing(tx))),
  });
  const transaction = store.transaction;
  const spies = [
    vi.spyOn(store.readiness, 'stillDirty').mockImplementation(killed),
    vi.spyOn(store, 'transaction').mockImplementation((fn) => transaction((tx) => fn(failing(tx)))),
  ];
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}
