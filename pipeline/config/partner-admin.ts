// Partner administration shared by `lotgate partner add|passwd|mode|key` and the admin API:
// writes partners/<id>.yaml (validated exactly as start-up reads it, comments kept) and the
// partner's drop-zone folders. Passwords are stored as scrypt hashes, never returned.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PARTNER_ID, parsePartnerText } from './partners.js';
import { partnerDirs } from '../intake/names.js';
import type { PartnerConfig } from '../model/types.js';
import { parseAuthorizedKey } from '../sftp/keys.js';
import { hashPassword } from '../sftp/passwords.js';

export const MIN_PARTNER_PASSWORD = 12;
export const PARTNER_MODES = ['review', 'shadow', 'live'] as const;
export type PartnerMode = (typeof PARTNER_MODES)[number];

/** A refused partner change: `code` says which, `message` what to do. */
export class PartnerAdminError extends Error {
  constructor(
    readonly code: 'E_PARTNER_ID' | 'E_PARTNER_EXISTS' | 'E_PARTNER_NOT_FOUND' | 'E_PARTNER_LOGIN' | 'E_PARTNER_PASSWORD' | 'E_PARTNER_KEY_NOT_FOUND' | 'E_KEY_FORMAT' | 'E_KEY_TYPE' | 'E_KEY_WEAK' | 'E_PARTNER_FILE',
    message: string,
  ) {
    super(message);
    this.name = 'PartnerAdminError';
  }
}

export interface NewPartner {
  id: string;
  name: string;
  role: string;
  mode?: string;
  /** OpenSSH public key lines. */
  publicKeys?: string[];
  password?: string;
  twoStep?: boolean;
  feeds?: string[];
  products?: string[];
  sites?: string[];
}

export interface PartnerDirs {
  partnersDir: string;
  dropDir: string;
}

function partnerFile(dirs: PartnerDirs, id: string): string {
  if (!PARTNER_ID.test(id)) throw new PartnerAdminError('E_PARTNER_ID', `"${id}" is not a valid partner id: use lower case letters, digits and dashes (2–63 characters)`);
  return path.join(dirs.partnersDir, `${id}.yaml`);
}

/** The key line, validated; throws E_KEY_* with what is wrong. */
export function checkPublicKey(line: string, where = 'public key'): { line: string; fingerprint: string } {
  const trimmed = line.trim().split('\n')[0];
  const parsed = parseAuthorizedKey(trimmed);
  if (!parsed.ok) throw new PartnerAdminError(parsed.code as 'E_KEY_FORMAT', `${where}: ${parsed.message}`);
  return { line: trimmed, fingerprint: parsed.key.fingerprint };
}

export function checkPartnerPassword(pw: string): string {
  if (pw.length < MIN_PARTNER_PASSWORD) throw new PartnerAdminError('E_PARTNER_PASSWORD', `the password must have at least ${MIN_PARTNER_PASSWORD} characters`);
  return pw;
}

/** Writes the YAML after validating it exactly as start-up will read it. */
function writePartnerFile(file: string, text: string): PartnerConfig {
  let p: PartnerConfig;
  try {
    p = parsePartnerText(text, file);
  } catch (err) {
    const lines = (err as { diagnostics?: string[] }).diagnostics;
    throw new PartnerAdminError('E_PARTNER_FILE', `the partner file would not be valid: ${lines?.join('; ') ?? (err as Error).message}`);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return p;
}

/** Creates partners/<id>.yaml and the partner's inbound/outbound folders. */
export function addPartner(dirs: PartnerDirs, input: NewPartner): { partner: PartnerConfig; file: string; inbound: string; outbound: string } {
  const file = partnerFile(dirs, input.id);
  if (existsSync(file)) throw new PartnerAdminError('E_PARTNER_EXISTS', `partner ${input.id} exists already (${path.basename(file)}); change its mode, keys or password instead`);
  const keys = (input.publicKeys ?? []).map((k, i) => checkPublicKey(k, `public key ${i + 1}`).line);
  if (!keys.length && input.password === undefined) throw new PartnerAdminError('E_PARTNER_LOGIN', 'give the partner a way to log in: a public key and/or a password');
  if (input.twoStep && (!keys.length || input.password === undefined)) throw new PartnerAdminError('E_PARTNER_LOGIN', 'two-step login needs both a public key and a password');
  const sftp: Record<string, unknown> = {};
  if (keys.length) sftp.publicKeys = keys;
  if (input.password !== undefined) sftp.passwordHash = hashPassword(checkPartnerPassword(input.password));
  if (input.twoStep) sftp.twoStep = true;
  const doc = new YAML.Document({
    id: input.id,
    name: input.name,
    role: input.role,
    mode: input.mode ?? 'review',
    sites: input.sites ?? [],
    products: input.products ?? [],
    feeds: input.feeds ?? [],
    sftp,
  });
  doc.commentBefore = ` Partner ${input.name}, added with \`lotgate partner add\`. Fields: see docs/onboarding.md.`;
  const partner = writePartnerFile(file, doc.toString({ lineWidth: 0 }));
  const d = partnerDirs(dirs.dropDir, input.id);
  mkdirSync(d.inbound, { recursive: true });
  mkdirSync(d.outbound, { recursive: true });
  return { partner, file, inbound: d.inbound, outbound: d.outbound };
}

/** Edits an existing partner file (comments kept), validated before it replaces the old one. */
function editPartner(dirs: PartnerDirs, id: string, edit: (doc: YAML.Document) => void): PartnerConfig {
  const file = partnerFile(dirs, id);
  if (!existsSync(file)) throw new PartnerAdminError('E_PARTNER_NOT_FOUND', `no partner "${id}" (see \`lotgate partner list\`)`);
  const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
  edit(doc);
  return writePartnerFile(file, doc.toString({ lineWidth: 0 }));
}

export function setPartnerPassword(dirs: PartnerDirs, id: string, password: string): PartnerConfig {
  const hash = hashPassword(checkPartnerPassword(password));
  return editPartner(dirs, id, (doc) => doc.setIn(['sftp', 'passwordHash'], hash));
}

export function setPartnerMode(dirs: PartnerDirs, id: string, mode: string): { partner: PartnerConfig; before: string } {
  let before = '';
  const partner = editPartner(dirs, id, (doc) => {
    before = String(doc.getIn(['mode']) ?? '');
    doc.setIn(['mode'], mode);
  });
  return { partner, before };
}

/** Adds an SFTP public key; answers its fingerprint (`added` false when the key was there already). */
export function addPartnerKey(dirs: PartnerDirs, id: string, keyLine: string): { fingerprint: string; added: boolean } {
  const k = checkPublicKey(keyLine);
  let added = false;
  editPartner(dirs, id, (doc) => {
    const keys = ((doc.getIn(['sftp', 'publicKeys']) as YAML.YAMLSeq | undefined)?.toJSON() as string[] | undefined) ?? [];
    if (keys.some((l) => keyFingerprintOf(l) === k.fingerprint)) return;
    doc.setIn(['sftp', 'publicKeys'], [...keys, k.line]);
    added = true;
  });
  return { fingerprint: k.fingerprint, added };
}

/** Removes the SFTP public key with this fingerprint (SHA256:…); refuses to remove the last way to log in. */
export function removePartnerKey(dirs: PartnerDirs, id: string, fingerprint: string): { fingerprint: string } {
  editPartner(dirs, id, (doc) => {
    const keys = ((doc.getIn(['sftp', 'publicKeys']) as YAML.YAMLSeq | undefined)?.toJSON() as string[] | undefined) ?? [];
    const rest = keys.filter((l) => keyFingerprintOf(l) !== fingerprint);
    if (rest.length === keys.length) throw new PartnerAdminError('E_PARTNER_KEY_NOT_FOUND', `partner ${id} has no key with fingerprint ${fingerprint} (the access review lists them)`);
    if (!rest.length && !doc.getIn(['sftp', 'passwordHash'])) throw new PartnerAdminError('E_PARTNER_LOGIN', `that is the last way partner ${id} can log in: add another key or a password first`);
    if (!rest.length && doc.getIn(['sftp', 'twoStep'])) throw new PartnerAdminError('E_PARTNER_LOGIN', `partner ${id} logs in with key AND password: add another key before removing the last one`);
    if (rest.length) doc.setIn(['sftp', 'publicKeys'], rest);
    else doc.deleteIn(['sftp', 'publicKeys']);
  });
  return { fingerprint };
}

function keyFingerprintOf(line: string): string | null {
  const r = parseAuthorizedKey(line);
  return r.ok ? r.key.fingerprint : null;
}
