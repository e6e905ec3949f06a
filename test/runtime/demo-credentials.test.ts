// `lotgate start` refuses to serve the published demo keys and password unless demo mode is
// explicit (LOTGATE_DEMO=1, `demo: true`, `lotgate demo`), naming the partner files.

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadPartners } from '../../pipeline/config/partners.js';
import { parseAuthorizedKey } from '../../pipeline/sftp/keys.js';
import { demoCredentials, findDemoCredentials, PUBLISHED_DEMO_KEYS } from '../../pipeline/sftp/demo-credentials.js';
import { runCli, type Child } from './helpers/child.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
let redis: TestRedis;
let work: string;
const children: Child[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGTERM');
      await c.exited;
    }
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

function installation(): NodeJS.ProcessEnv {
  work = mkdtempSync(path.join(os.tmpdir(), 'lotgate-demo-creds-'));
  for (const d of ['partners', 'mappings']) cpSync(path.join(root, d), path.join(work, d), { recursive: true });
  writeFileSync(path.join(work, 'config.yaml'), 'dataDir: ./data\npartnersDir: ./partners\nmappingsDir: ./mappings\nsftp: { host: 127.0.0.1, port: 0 }\n');
  return { ...process.env, LOTGATE_CONFIG: path.join(work, 'config.yaml'), LOTGATE_LOG_LEVEL: 'warn', REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `demo-${randomBytes(4).toString('hex')}`, LOTGATE_DEMO: '' };
}

function start(env: NodeJS.ProcessEnv, args: string[] = []): Child {
  const c = runCli(['start', ...args], env);
  children.push(c);
  return c;
}

describe('demo credentials', () => {
  it('the published fingerprints are those of fixtures/keys/*.pub', () => {
    const dir = path.join(root, 'fixtures', 'keys');
    const fromFiles = readdirSync(dir).filter((n) => n.endsWith('.pub')).map((n) => {
      const r = parseAuthorizedKey(readFileSync(path.join(dir, n), 'utf8').trim());
      if (!r.ok) throw new Error(r.message);
      return r.key.fingerprint;
    });
    expect(Object.keys(PUBLISHED_DEMO_KEYS).sort()).toEqual(fromFiles.sort());
  });

  it('finds every demo partner, the key and the password, in the partner files', async () => {
    const found = await findDemoCredentials(loadPartners(path.join(root, 'partners')), demoCredentials(), path.join(root, 'partners'));
    expect(found.map((f) => `${f.partner}:${f.kind}`)).toEqual(['acme-cmo:key', 'acme-cmo:password', 'bravo-lab:key', 'delta-cmo:key', 'erp:key']);
    expect(found[0].file).toBe(path.join(root, 'partners', 'acme-cmo.yaml'));
  });

  it('lotgate start refuses, naming the partner files and what to do; nothing is listening', async () => {
    const env = installation();
    const c = start(env);
    const { code } = await c.exited;
    expect(code).toBe(2);
    const err = c.stderr();
    expect(err).toContain('E_DEMO_CREDENTIALS');
    for (const p of ['acme-cmo', 'bravo-lab', 'delta-cmo', 'erp']) expect(err).toContain(path.join(work, 'partners', `${p}.yaml`));
    expect(err).toContain('the published demo password "demo-acme"');
    expect(err).toMatch(/lotgate partner add/);
    expect(err).toMatch(/LOTGATE_DEMO=1/);
    expect(err).not.toMatch(/sftp drop zone listening|upload {5}sftp/);
  });

  it('serves them in explicit demo mode (LOTGATE_DEMO=1 or demo: true), with a warning in the banner', async () => {
    const env = installation();
    const c = start({ ...env, LOTGATE_DEMO: '1' });
    const banner = await c.waitForStderr(/DEMO MODE/, 60_000);
    expect(banner).toMatch(/DEMO MODE {2}acme-cmo, bravo-lab, delta-cmo, erp log in with the published demo credentials/);
    c.proc.kill('SIGINT');
    expect((await c.exited).code).toBe(0);
    writeFileSync(path.join(work, 'config.yaml'), readFileSync(path.join(work, 'config.yaml'), 'utf8') + 'demo: true\n');
    const d = start(env, ['--role', 'sftp']);
    await d.waitForStderr(/DEMO MODE/, 60_000);
    d.proc.kill('SIGINT');
    expect((await d.exited).code).toBe(0);
  });

  it('a drop zone without demo credentials starts as before', async () => {
    const env = installation();
    for (const f of readdirSync(path.join(work, 'partners'))) rmSync(path.join(work, 'partners', f));
    writeFileSync(path.join(work, 'partners', 'lab.yaml'), 'id: lab\nname: Lab\nrole: lab\nfeeds: []\n');
    const c = start(env, ['--role', 'sftp']);
    const banner = await c.waitForStderr(/sftp {7}127\.0\.0\.1:\d+/, 60_000);
    expect(banner).not.toMatch(/DEMO MODE/);
    c.proc.kill('SIGINT');
    expect((await c.exited).code).toBe(0);
  });
});
