// Builds the connectors from the `connectors:` list of config.yaml. Every problem in the list
// (schema, secrets written inline, missing environment variables, unreadable key files,
// duplicate names) is reported in one OutboundConfigError.

import path from 'node:path';
import { Ajv } from 'ajv';
import { retryPolicy, type Connector } from '../delivery.js';
import { OutboundConfigError, type ConfigProblem } from '../errors.js';
import { schemaProblem } from '../schema-problems.js';
import type { CsvOptions } from '../render/csv.js';
import type { FileFormat } from '../render/render.js';
import { createFileDropConnector } from './file-drop.js';
import { createHttpConnector, type HttpConnectorConfig } from './http.js';
import { createSftpConnector, type SftpClientLike, type SftpConnectorConfig } from './sftp-push.js';

export type { HttpAuthConfig, HttpConnectorConfig } from './http.js';
export type { SftpConnectorConfig } from './sftp-push.js';

export interface FileConnectorConfig {
  name: string;
  type: 'file';
  /** Folder, relative to the config folder. */
  dir: string;
  format: FileFormat;
  topics: string[];
  csv?: CsvOptions;
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export type ConnectorConfig = HttpConnectorConfig | FileConnectorConfig | SftpConnectorConfig;

const envName = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } as const;
const common = {
  name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
  topics: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  maxAttempts: { type: 'integer', minimum: 1 },
  backoffMs: { type: 'integer', minimum: 0 },
  maxBackoffMs: { type: 'integer', minimum: 0 },
} as const;
const csvOptions = {
  type: 'object',
  additionalProperties: false,
  properties: { delimiter: { enum: [',', ';', '\t'] }, bom: { type: 'boolean' } },
} as const;
const format = { enum: ['json', 'csv', 'xml'] } as const;

/** JSON Schema of the `connectors:` list (published for editors; used by buildConnectors). */
export const CONNECTOR_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'lotgate outbound connectors',
  type: 'array',
  items: {
    type: 'object',
    required: ['type'],
    discriminator: { propertyName: 'type' },
    oneOf: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'url', 'topics'],
        properties: {
          ...common,
          type: { const: 'http' },
          url: { type: 'string', pattern: '^https?://' },
          timeoutMs: { type: 'integer', minimum: 1 },
          allowInsecureHttp: { type: 'boolean' },
          auth: {
            type: 'object',
            required: ['type'],
            discriminator: { propertyName: 'type' },
            oneOf: [
              { type: 'object', additionalProperties: false, properties: { type: { const: 'none' } } },
              { type: 'object', additionalProperties: false, required: ['tokenEnv'], properties: { type: { const: 'bearer' }, tokenEnv: envName } },
              {
                type: 'object',
                additionalProperties: false,
                required: ['userEnv', 'passwordEnv'],
                properties: { type: { const: 'basic' }, userEnv: envName, passwordEnv: envName },
              },
              {
                type: 'object',
                additionalProperties: false,
                required: ['header', 'valueEnv'],
                properties: { type: { const: 'header' }, header: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }, valueEnv: envName },
              },
            ],
          },
        },
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'dir', 'format', 'topics'],
        properties: { ...common, type: { const: 'file' }, dir: { type: 'string', minLength: 1 }, format, csv: csvOptions },
      },
      {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'host', 'user', 'dir', 'format', 'topics'],
        properties: {
          ...common,
          type: { const: 'sftp' },
          host: { type: 'string', minLength: 1 },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          user: { type: 'string', minLength: 1 },
          keyPath: { type: 'string', minLength: 1 },
          passphraseEnv: envName,
          passwordEnv: envName,
          dir: { type: 'string', minLength: 1 },
          format,
          csv: csvOptions,
          hostFingerprints: { type: 'array', items: { type: 'string', pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$' } },
          allowUnknownHostKey: { type: 'boolean' },
          timeoutMs: { type: 'integer', minimum: 1 },
        },
      },
    ],
  },
} as const;

const DISCRIMINATOR_VALUES = { '': ['http', 'file', 'sftp'], auth: ['none', 'bearer', 'basic', 'header'] };

export interface BuildOptions {
  /** Where the list sits in the config, for messages. Default `connectors`. */
  path?: string;
  fetch?: typeof fetch;
  sftpClientFactory?: (onLost: () => void) => SftpClientLike;
}

/** Schema and secret checks only (no environment, no files): for `lotgate config check` and editors. */
export function validateConnectorConfig(cfg: unknown, where = 'connectors'): ConfigProblem[] {
  if (!Array.isArray(cfg)) return [{ code: 'E_CONFIG_INVALID', path: where, message: 'must be a list of connectors' }];
  const problems: ConfigProblem[] = [];
  cfg.forEach((item, i) => problems.push(...inlineSecrets(item, `${where}[${i}]`)));
  const validate = compile();
  if (!validate(cfg)) problems.push(...(validate.errors ?? []).map((e) => schemaProblem(e, where, DISCRIMINATOR_VALUES)));
  const seen = new Map<string, number>();
  cfg.forEach((item, i) => {
    const name = (item as { name?: unknown })?.name;
    if (typeof name !== 'string') return;
    if (seen.has(name)) problems.push({ code: 'E_CONFIG_DUPLICATE', path: `${where}[${i}].name`, message: `"${name}" is already used by ${where}[${seen.get(name)}]` });
    else seen.set(name, i);
  });
  return dedupe(problems);
}

export function buildConnectors(cfg: ConnectorConfig[], env: NodeJS.ProcessEnv, baseDir: string, opts: BuildOptions = {}): Connector[] {
  const where = opts.path ?? 'connectors';
  const problems = validateConnectorConfig(cfg, where);
  if (problems.length) throw new OutboundConfigError(problems);
  const connectors: Connector[] = [];
  cfg.forEach((c, i) => {
    const at = `${where}[${i}]`;
    try {
      switch (c.type) {
        case 'http':
          connectors.push(createHttpConnector(c, env, { path: at, fetch: opts.fetch }));
          break;
        case 'file':
          connectors.push(
            createFileDropConnector({
              name: c.name,
              dir: path.resolve(baseDir, c.dir),
              format: c.format,
              topics: c.topics,
              csv: c.csv,
              retry: retryPolicy(c),
            }),
          );
          break;
        case 'sftp':
          connectors.push(createSftpConnector(c, env, { path: at, baseDir, clientFactory: opts.sftpClientFactory }));
          break;
      }
    } catch (err) {
      if (err instanceof OutboundConfigError) problems.push(...err.problems);
      else throw err;
    }
  });
  if (problems.length) throw new OutboundConfigError(problems);
  return connectors;
}

// ---------------------------------------------------------------------------

function compile(): ReturnType<Ajv['compile']> {
  return new Ajv({ allErrors: true, strict: false, discriminator: true }).compile(CONNECTOR_CONFIG_SCHEMA);
}

const SECRET_KEYS: Record<string, string> = {
  token: 'tokenEnv',
  password: 'passwordEnv',
  passwd: 'passwordEnv',
  passphrase: 'passphraseEnv',
  secret: 'an environment variable',
  apikey: 'auth: { type: header, header, valueEnv }',
  privatekey: 'keyPath (a file)',
};

/** Catches `token: abc123` and the like with a message that says where secrets go instead. */
function inlineSecrets(item: unknown, at: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const walk = (v: unknown, p: string) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
    for (const [k, child] of Object.entries(v)) {
      // `value` is only a credential inside `auth` (a header's value).
      const instead = SECRET_KEYS[k.toLowerCase()] ?? (k === 'value' && p.endsWith('.auth') ? 'valueEnv' : undefined);
      if (instead !== undefined) {
        out.push({
          code: 'E_CONFIG_SECRET_INLINE',
          path: `${p}.${k}`,
          message: `secrets are never written in the config file; put it in an environment variable and name it with ${instead}`,
        });
      }
      walk(child, `${p}.${k}`);
    }
  };
  walk(item, at);
  return out;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
