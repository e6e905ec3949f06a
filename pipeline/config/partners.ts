// Partner files (partners/<id>.yaml): identity, role, onboarding mode, scope, SFTP auth, feeds.
// Validated on load; a broken partner file stops start-up with file:line:col.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter, isMap, isSeq, type Node } from 'yaml';
import { Ajv } from 'ajv';
import { isValidZone } from '../model/local-time.js';
import type { PartnerConfig } from '../model/types.js';

export const PARTNER_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

const partnerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'role'],
  properties: {
    id: { type: 'string', pattern: PARTNER_ID.source },
    name: { type: 'string', minLength: 1 },
    role: { enum: ['cmo', 'lab', 'erp', 'qms'] },
    mode: { enum: ['live', 'shadow', 'review'] },
    sites: { type: 'array', items: { type: 'string' } },
    products: { type: 'array', items: { type: 'string' } },
    feeds: { type: 'array', items: { type: 'string' } },
    expectedCadenceHours: { type: 'number', minimum: 0 },
    contacts: { type: 'array', items: { type: 'string', pattern: '^[^@\\s<>]+@[^@\\s<>]+$' } },
    sftp: {
      type: 'object',
      additionalProperties: false,
      properties: {
        publicKeys: { type: 'array', items: { type: 'string', pattern: '^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|rsa-sha2-(256|512)) ' } },
        passwordHash: { type: 'string', pattern: '^scrypt\\$' },
        twoStep: { type: 'boolean' },
      },
    },
    pull: { type: 'object' },
    ack: {
      type: 'object',
      additionalProperties: false,
      properties: {
        csvDelimiter: { enum: [',', ';', '\t', '|'] },
        bom: { type: 'boolean' },
      },
    },
    timezone: { type: 'string', minLength: 1 },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxRows: { type: 'integer', minimum: 1 },
        maxErrors: { type: 'integer', minimum: 0 },
        feeds: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            properties: { maxRows: { type: 'integer', minimum: 1 }, maxErrors: { type: 'integer', minimum: 0 } },
          },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validatePartner = ajv.compile(partnerSchema);

export class PartnerFileError extends Error {
  constructor(public readonly diagnostics: string[]) {
    super(diagnostics.join('\n'));
    this.name = 'PartnerFileError';
  }
}

/** Finds the YAML node at a JSON pointer (ajv's instancePath) for line:col reporting. */
export function nodeAt(root: Node | null | undefined, pointer: string): Node | undefined {
  let node: Node | null | undefined = root;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (isMap(node)) node = node.get(key, true) as Node | undefined;
    else if (isSeq(node)) node = node.get(Number(key), true) as Node | undefined;
    else return undefined;
  }
  return node ?? undefined;
}

export function parsePartnerText(text: string, file: string): PartnerConfig {
  const lc = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc });
  const where = (offset: number | undefined) => {
    const p = lc.linePos(offset ?? 0);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length) throw new PartnerFileError(doc.errors.map((e) => `${where(e.pos[0])}: ${e.message.split('\n')[0]}`));
  const data = doc.toJS() as Record<string, unknown> | null;
  if (!validatePartner(data)) {
    throw new PartnerFileError(
      (validatePartner.errors ?? []).map((e) => {
        const node = nodeAt(doc.contents, e.instancePath);
        const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
        return `${where(node?.range?.[0])}: ${e.instancePath || '/'} ${e.message}${extra}`;
      }),
    );
  }
  const expectedId = path.basename(file).replace(/\.ya?ml$/, '');
  const p = data as unknown as PartnerConfig;
  if (p.timezone !== undefined && !isValidZone(p.timezone)) {
    const node = nodeAt(doc.contents, '/timezone');
    throw new PartnerFileError([`${where(node?.range?.[0])}: /timezone "${p.timezone}" is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)`]);
  }
  if (p.id !== expectedId) {
    const node = nodeAt(doc.contents, '/id');
    throw new PartnerFileError([`${where(node?.range?.[0])}: id "${p.id}" must match the file name "${expectedId}.yaml"`]);
  }
  return {
    ...p,
    mode: p.mode ?? 'live',
    sites: p.sites ?? [],
    products: p.products ?? [],
    feeds: p.feeds ?? [],
    source: file,
  };
}

/** Loads every partners/*.yaml. Throws PartnerFileError listing every broken file. */
export function loadPartners(dir: string): Map<string, PartnerConfig> {
  const out = new Map<string, PartnerConfig>();
  if (!existsSync(dir)) return out;
  const problems: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const p = parsePartnerText(readFileSync(file, 'utf8'), file);
      out.set(p.id, p);
    } catch (err) {
      if (err instanceof PartnerFileError) problems.push(...err.diagnostics);
      else throw err;
    }
  }
  if (problems.length) throw new PartnerFileError(problems);
  return out;
}
