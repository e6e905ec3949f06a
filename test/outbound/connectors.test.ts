import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildConnectors, CONNECTOR_CONFIG_SCHEMA, validateConnectorConfig, type ConnectorConfig } from '../../pipeline/outbound/connectors/connectors.js';
import { connectorsFor, DEFAULT_RETRY } from '../../pipeline/outbound/delivery.js';
import { OutboundConfigError, type ConfigProblem } from '../../pipeline/outbound/errors.js';
import { lotReadinessMessage } from '../../pipeline/outbound/messages.js';
import { AT, LOT, ready } from './helpers.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(path.join(tmpdir(), 'lotgate-conn-'));
  writeFileSync(path.join(base, 'erp_key'), 'not parsed until connect');
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const yamlConfig = `
- name: erp-http
  type: http
  url: https://erp.example.com/api/lotgate
  topics: ['erp.*']
  auth: { type: bearer, tokenEnv: ERP_TOKEN }
  timeoutMs: 5000
  maxAttempts: 4
  backoffMs: 1000
- name: erp-drop
  type: file
  dir: ./data/outbound/erp
  format: csv
  csv: { delimiter: ';', bom: true }
  topics: ['erp.lot_readiness', 'erp.planned_receipt_status']
- name: qms-sftp
  type: sftp
  host: qms.example.com
  port: 2022
  user: lotgate
  keyPath: ./erp_key
  dir: /inbound/lotgate
  format: xml
  topics: ['qms.*']
  hostFingerprints: ['SHA256:${'b'.repeat(43)}']
`;

function problemsOf(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof OutboundConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected an OutboundConfigError');
}

describe('buildConnectors', () => {
  it('builds every connector type from YAML config, with retry policies and topic routing', async () => {
    const cfg = YAML.parse(yamlConfig) as ConnectorConfig[];
    const connectors = buildConnectors(cfg, { ERP_TOKEN: 't' }, base);
    expect(connectors.map((c) => [c.name, c.type])).toEqual([
      ['erp-http', 'http'],
      ['erp-drop', 'file'],
      ['qms-sftp', 'sftp'],
    ]);
    expect(connectors[0].retry).toEqual({ maxAttempts: 4, baseMs: 1000, maxMs: DEFAULT_RETRY.maxMs });
    expect(connectors[1].retry).toEqual(DEFAULT_RETRY);
    expect(connectorsFor(connectors, 'erp.lot_readiness').map((c) => c.name)).toEqual(['erp-http', 'erp-drop']);
    expect(connectorsFor(connectors, 'erp.batch_master').map((c) => c.name)).toEqual(['erp-http']);
    expect(connectorsFor(connectors, 'qms.deviation').map((c) => c.name)).toEqual(['qms-sftp']);
    expect(connectorsFor(connectors, 'audit.x')).toEqual([]);
    expect(typeof connectors[2].open).toBe('function');

    // The file drop's relative folder is resolved against the config folder, not the cwd.
    expect(await connectors[1].deliver(lotReadinessMessage(LOT, ready(), AT))).toEqual({ ok: true });
    expect(readdirSync(path.join(base, 'data/outbound/erp'))).toHaveLength(1);
  });

  it('reports every problem of the list at once, with paths', () => {
    const cfg = YAML.parse(yamlConfig) as ConnectorConfig[];
    const problems = problemsOf(() => buildConnectors(cfg, {}, path.join(base, 'elsewhere')));
    expect(problems).toEqual([
      { code: 'E_CONFIG_ENV_MISSING', path: 'connectors[0].auth.tokenEnv', message: expect.stringContaining('ERP_TOKEN is not set') },
      { code: 'E_CONFIG_KEY_UNREADABLE', path: 'connectors[2].keyPath', message: expect.stringContaining(path.join(base, 'elsewhere', 'erp_key')) },
    ]);
  });

  it('rejects secrets written in the config, saying where they go instead', () => {
    const problems = validateConnectorConfig([
      { name: 'erp', type: 'http', url: 'https://e/x', topics: ['*'], auth: { type: 'bearer', token: 'abc' } },
      { name: 'q', type: 'sftp', host: 'h', user: 'u', password: 'pw', dir: '/', format: 'csv', topics: ['*'], allowUnknownHostKey: true },
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        { code: 'E_CONFIG_SECRET_INLINE', path: 'connectors[0].auth.token', message: expect.stringContaining('tokenEnv') },
        { code: 'E_CONFIG_SECRET_INLINE', path: 'connectors[1].password', message: expect.stringContaining('passwordEnv') },
        { code: 'E_CONFIG_INVALID', path: 'connectors[0].auth', message: 'missing required key "tokenEnv"' },
      ]),
    );
  });

  it('explains schema mistakes', () => {
    const problems = validateConnectorConfig(
      [
        { name: 'a', type: 'ftp', topics: ['*'] },
        { name: 'b', type: 'file', dir: './x', format: 'pdf', topics: [] },
        { name: 'c', type: 'http', url: 'https://x', topics: ['*'], auth: { type: 'digest' } },
        { name: 'd', type: 'http', url: 'https://x', topics: ['*'], retries: 3 },
        { name: 'd', type: 'http', topics: ['*'], auth: { type: 'basic', userEnv: 'lower-case-bad', passwordEnv: 'P' } },
      ],
      'outbound.connectors',
    );
    const byPath = (p: string) => problems.filter((x) => x.path === p).map((x) => x.message);
    expect(byPath('outbound.connectors[0]')).toEqual(['type must be one of "http", "file", "sftp", got "ftp"']);
    expect(byPath('outbound.connectors[1].format')).toEqual(['must be one of "json", "csv", "xml"']);
    expect(byPath('outbound.connectors[1].topics')).toEqual(['must NOT have fewer than 1 items']);
    expect(byPath('outbound.connectors[2].auth')).toEqual(['type must be one of "none", "bearer", "basic", "header", got "digest"']);
    expect(byPath('outbound.connectors[3]')).toEqual(['unknown key "retries"']);
    expect(byPath('outbound.connectors[4]')).toEqual(['missing required key "url"']);
    expect(byPath('outbound.connectors[4].auth.userEnv')).toEqual([expect.stringContaining('must match pattern')]);
    expect(byPath('outbound.connectors[4].name')).toEqual(['"d" is already used by outbound.connectors[3]']);
    expect(problems.every((p) => p.code.startsWith('E_CONFIG_'))).toBe(true);
    expect(validateConnectorConfig({ name: 'x' })).toEqual([{ code: 'E_CONFIG_INVALID', path: 'connectors', message: 'must be a list of connectors' }]);
  });

  it('requires a host key fingerprint and a login method for SFTP', () => {
    const problems = problemsOf(() => buildConnectors([{ name: 's', type: 'sftp', host: 'h', user: 'u', dir: '/', format: 'csv', topics: ['*'] }], {}, base));
    expect(problems.map((p) => p.code).sort()).toEqual(['E_CONFIG_HOST_KEY', 'E_CONFIG_INVALID']);
    expect(problems.find((p) => p.code === 'E_CONFIG_HOST_KEY')?.message).toContain('ssh-keyscan -p 22 h');
    expect(problemsOf(() => buildConnectors([{ name: 's', type: 'sftp', host: 'h', user: 'u', passwordEnv: 'SFTP_PW', dir: '/', format: 'csv', topics: ['*'], allowUnknownHostKey: true }], {}, base))).toEqual([
      { code: 'E_CONFIG_ENV_MISSING', path: 'connectors[0].passwordEnv', message: expect.stringContaining('SFTP_PW') },
    ]);
  });

  it('publishes a schema that ajv compiles and that accepts the documented example', () => {
    const validate = new Ajv({ strict: false, discriminator: true }).compile(CONNECTOR_CONFIG_SCHEMA);
    expect(validate(YAML.parse(yamlConfig))).toBe(true);
    expect(JSON.parse(JSON.stringify(CONNECTOR_CONFIG_SCHEMA))).toEqual(CONNECTOR_CONFIG_SCHEMA);
  });
});
