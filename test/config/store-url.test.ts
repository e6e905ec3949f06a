// Which database a lotgate opens: store.url in config.yaml (a relative SQLite path is the config
// file's, as every other path in it), a PostgreSQL URL as written, LOTGATE_DATABASE_URL over
// both, and <dataDir>/lotgate.db when nothing is set.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function configFile(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lotgate-store-url-'));
  dirs.push(dir);
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

const PG = 'postgres://lotgate@db.example:5432/lotgate';

describe('store.url', () => {
  it('defaults to lotgate.db in the data dir', () => {
    const { dir, file } = configFile('dataDir: ./data\n');
    expect(loadConfig({ configPath: file, env: {} }).store).toEqual({ url: path.join(dir, 'data', 'lotgate.db'), fromEnv: false });
  });

  it('resolves a relative SQLite path (with or without sqlite:) against the config file, not the working directory', () => {
    const { dir, file } = configFile('dataDir: ./data\nstore: { url: db/main.db }\n');
    expect(loadConfig({ configPath: file, env: {} }).store).toEqual({ url: path.join(dir, 'db', 'main.db'), fromEnv: false });
    const prefixed = configFile('store: { url: "sqlite:other.db" }\n');
    expect(loadConfig({ configPath: prefixed.file, env: {} }).store.url).toBe(path.join(prefixed.dir, 'other.db'));
  });

  it('keeps a PostgreSQL URL as written', () => {
    const { file } = configFile(`store: { url: "${PG}" }\n`);
    expect(loadConfig({ configPath: file, env: {} }).store).toEqual({ url: PG, fromEnv: false });
  });

  it('takes LOTGATE_DATABASE_URL over the file and the default', () => {
    const { file } = configFile('store: { url: db/main.db }\n');
    expect(loadConfig({ configPath: file, env: { LOTGATE_DATABASE_URL: PG } }).store).toEqual({ url: PG, fromEnv: true });
    const plain = configFile('dataDir: ./data\n');
    expect(loadConfig({ configPath: plain.file, env: { LOTGATE_DATABASE_URL: '/srv/lotgate/x.db' } }).store).toEqual({ url: '/srv/lotgate/x.db', fromEnv: true });
  });
});
