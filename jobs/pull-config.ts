// The `pull:` section of a partner file (partners/<id>.yaml): where lotgate fetches the files of
// a partner that will not upload, from the partner's own SFTP server. Validated here (the partner
// loader only checks it is a map), with every problem reported at once.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import picomatch from 'picomatch';
import type { PartnerConfig } from '../pipeline/model/types.js';
import { envSecret, type ConfigProblem } from '../pipeline/outbound/errors.js';
import { schemaProblem } from '../pipeline/outbound/schema-problems.js';

export type AfterPull = 'leave' | 'move' | 'delete';

/** As written in the partner file. */
export interface PullConfig {
  host: string;
  port?: number;
  user: string;
  /** Private key file; relative paths are resolved against config.yaml's folder. */
  keyPath?: string;
  passphraseEnv?: string;
  passwordEnv?: string;
  /** The server's host key fingerprint(s), `SHA256:…` as `ssh-keygen -lf` prints them. */
  hostFingerprint?: string | string[];
  /** Test systems only: accept any host key. */
  allowUnknownHostKey?: boolean;
  /** Remote folder to fetch from. */
  folder: string;
  /** Glob(s) on the file name, e.g. "*.csv". Default: every file. */
  pattern?: string | string[];
  /**
   * When a file is complete: `doneMarker: ".done"` — the partner writes `<name>.done` after the
   * file; or `stableSeconds: 60` — the size and mtime did not change for that long (default).
   */
  doneMarker?: string;
  stableSeconds?: number;
  /** What happens to the remote file once it is in the ledger. Default leave. */
  after?: AfterPull;
  /** Folder for after: move. Default <folder>/processed. */
  moveTo?: string;
  /** Files fetched per run at most. Default 100. */
  maxFiles?: number;
  /** Connect/handshake timeout. Default 20 s. */
  timeoutMs?: number;
}

/** Ready to connect: secrets read, key loaded, globs compiled. */
export interface PullSource {
  partner: string;
  host: string;
  port: number;
  user: string;
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  fingerprints: string[];
  allowUnknownHostKey: boolean;
  folder: string;
  matches: (name: string) => boolean;
  doneMarker: string | null;
  stableSeconds: number;
  after: AfterPull;
  moveTo: string;
  maxFiles: number;
  timeoutMs: number;
}

const envName = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } as const;
const fingerprint = { type: 'string', pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$' } as const;

export const PULL_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'user', 'folder'],
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    user: { type: 'string', minLength: 1 },
    keyPath: { type: 'string', minLength: 1 },
    passphraseEnv: envName,
    passwordEnv: envName,
    hostFingerprint: { anyOf: [fingerprint, { type: 'array', minItems: 1, items: fingerprint }] },
    allowUnknownHostKey: { type: 'boolean' },
    folder: { type: 'string', pattern: '^/' },
    pattern: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] },
    doneMarker: { type: 'string', pattern: '^[^/]+$' },
    stableSeconds: { type: 'integer', minimum: 0 },
    after: { enum: ['leave', 'move', 'delete'] },
    moveTo: { type: 'string', pattern: '^/' },
    maxFiles: { type: 'integer', minimum: 1 },
    timeoutMs: { type: 'integer', minimum: 1 },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: false }).compile(PULL_CONFIG_SCHEMA);

export function normalizeFingerprint(fp: string): string {
  const t = fp.trim().replace(/=+$/, '');
  return t.startsWith('SHA256:') ? t : `SHA256:${t}`;
}

/** The partners with a `pull:` section, each as a source or with its problems. */
export function pullSources(
  partners: Iterable<PartnerConfig>,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): { sources: PullSource[]; problems: ConfigProblem[] } {
  const sources: PullSource[] = [];
  const problems: ConfigProblem[] = [];
  for (const p of partners) {
    const raw = (p as PartnerConfig & { pull?: unknown }).pull;
    if (raw === undefined || raw === null) continue;
    const where = `${p.source ? path.basename(p.source) : p.id}: pull`;
    const r = pullSource(p.id, raw, env, baseDir, where);
    if ('problems' in r) problems.push(...r.problems);
    else sources.push(r.source);
  }
  return { sources, problems };
}

export function pullSource(partner: string, raw: unknown, env: NodeJS.ProcessEnv, baseDir: string, where: string): { source: PullSource } | { problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const inline = raw !== null && typeof raw === 'object' ? ['password', 'passphrase', 'privateKey'].filter((k) => k in raw) : [];
  for (const k of inline) {
    problems.push({ code: 'E_CONFIG_SECRET_INLINE', path: `${where}.${k}`, message: 'secrets are never written in partner files; name an environment variable with passwordEnv / passphraseEnv, or a key file with keyPath' });
  }
  if (!validate(raw)) {
    const schema = (validate.errors ?? []).filter((e) => !(e.keyword === 'additionalProperties' && inline.includes(String((e.params as { additionalProperty?: string }).additionalProperty))));
    return { problems: [...problems, ...schema.map((e) => schemaProblem(e, where))] };
  }
  const c = raw as PullConfig;
  let privateKey: Buffer | undefined;
  if (c.keyPath) {
    const file = path.resolve(baseDir, c.keyPath);
    try {
      privateKey = readFileSync(file);
    } catch (err) {
      problems.push({ code: 'E_CONFIG_KEY_UNREADABLE', path: `${where}.keyPath`, message: `cannot read private key ${file}: ${(err as Error).message}` });
    }
  }
  if (!c.keyPath && !c.passwordEnv) problems.push({ code: 'E_CONFIG_INVALID', path: where, message: 'needs keyPath or passwordEnv to log in' });
  const passphrase = c.passphraseEnv ? envSecret(env, c.passphraseEnv, `${where}.passphraseEnv`, 'private key passphrase', problems) : undefined;
  const password = c.passwordEnv ? envSecret(env, c.passwordEnv, `${where}.passwordEnv`, 'SFTP password', problems) : undefined;
  const fingerprints = (c.hostFingerprint === undefined ? [] : Array.isArray(c.hostFingerprint) ? c.hostFingerprint : [c.hostFingerprint]).map(normalizeFingerprint);
  if (fingerprints.length === 0 && !c.allowUnknownHostKey) {
    problems.push({
      code: 'E_CONFIG_HOST_KEY',
      path: `${where}.hostFingerprint`,
      message: `the server's host key fingerprint is required (ssh-keyscan -p ${c.port ?? 22} ${c.host} | ssh-keygen -lf -); allowUnknownHostKey: true skips the check on test systems`,
    });
  }
  if (c.doneMarker !== undefined && c.stableSeconds !== undefined) {
    problems.push({ code: 'E_CONFIG_INVALID', path: where, message: 'give doneMarker or stableSeconds, not both' });
  }
  if (c.moveTo !== undefined && c.after !== 'move') problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.moveTo`, message: 'only used with after: move' });
  if (problems.length) return { problems };
  const globs = c.pattern === undefined ? ['*'] : Array.isArray(c.pattern) ? c.pattern : [c.pattern];
  const matchers = globs.map((g) => picomatch(g, { dot: false, nocase: true }));
  const folder = c.folder.replace(/\/+$/, '') || '/';
  return {
    source: {
      partner,
      host: c.host,
      port: c.port ?? 22,
      user: c.user,
      privateKey,
      passphrase,
      password,
      fingerprints,
      allowUnknownHostKey: c.allowUnknownHostKey === true,
      folder,
      matches: (name) => matchers.some((m) => m(name)),
      doneMarker: c.doneMarker ?? null,
      stableSeconds: c.doneMarker !== undefined ? 0 : c.stableSeconds ?? 60,
      after: c.after ?? 'leave',
      moveTo: (c.moveTo ?? path.posix.join(folder, 'processed')).replace(/\/+$/, ''),
      maxFiles: c.maxFiles ?? 100,
      timeoutMs: c.timeoutMs ?? 20_000,
    },
  };
}
