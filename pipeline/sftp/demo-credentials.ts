// The demo credentials are public (fixtures/keys/README.md): the private keys are committed and
// the demo password is printed in the README. A drop zone that trusts them lets anyone in, so
// `lotgate start` refuses partner files carrying them unless demo mode is explicit (`lotgate
// demo`, config `demo: true`, LOTGATE_DEMO=1). Known credentials: every fixtures/keys/*.pub of
// this installation plus the fingerprints and passwords published with lotgate (kept here so a
// copy of partners/*.yaml without fixtures/ is still caught).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PartnerConfig } from '../model/types.js';
import { parseAuthorizedKey, parseAuthorizedKeys } from './keys.js';
import { verifyPassword } from './passwords.js';

/** SHA256 fingerprints of the published demo keys (fixtures/keys/*.pub; a test keeps them equal). */
export const PUBLISHED_DEMO_KEYS: Readonly<Record<string, string>> = {
  'SHA256:2vKT3vD/aahVjl5Pg5mVEJmsq+aJ968Zfu2f5LOR5N8': 'fixtures/keys/acme-cmo.pub',
  'SHA256:qgMjGuV9jRtnrv37e80Y5xg0Znn7e8a7WHMDGi93bKk': 'fixtures/keys/bravo-lab.pub',
  'SHA256:oNU0Y90CNnEvuF1HurQN0hp/N72dCKEUaO686EjSYz0': 'fixtures/keys/delta-cmo.pub',
  'SHA256:/+rElfacsE8e4uELL9uERQWPxXBU6Rbh7ehxM2iHCuQ': 'fixtures/keys/erp.pub',
};

/** Passwords published with the demo (fixtures/keys/README.md). */
export const PUBLISHED_DEMO_PASSWORDS: readonly string[] = ['demo-acme'];

// From dist/pipeline/sftp (compiled) or pipeline/sftp (tests run the sources).
const PACKAGE_ROOT = [new URL('../../../', import.meta.url), new URL('../../', import.meta.url)].map((u) => fileURLToPath(u)).find((d) => existsSync(path.join(d, 'package.json'))) ?? process.cwd();

export interface DemoCredentials {
  /** Fingerprint → where it is published. */
  keys: Map<string, string>;
  passwords: readonly string[];
}

/** The published fingerprints plus every public key in `<root>/fixtures/keys/`. */
export function demoCredentials(root = PACKAGE_ROOT): DemoCredentials {
  const keys = new Map(Object.entries(PUBLISHED_DEMO_KEYS));
  const dir = path.join(root, 'fixtures', 'keys');
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.pub')).sort()) {
      const r = parseAuthorizedKey(readFileSync(path.join(dir, name), 'utf8').trim());
      if (r.ok) keys.set(r.key.fingerprint, `fixtures/keys/${name}`);
    }
  }
  return { keys, passwords: PUBLISHED_DEMO_PASSWORDS };
}

export interface DemoCredentialUse {
  partner: string;
  /** The partner file (partners/<id>.yaml). */
  file: string;
  kind: 'key' | 'password';
  /** Fingerprint and where it is published, or which published password. */
  detail: string;
}

/** Partners whose SFTP login accepts a published demo key or password. */
export async function findDemoCredentials(partners: Map<string, PartnerConfig>, demo: DemoCredentials, partnersDir: string): Promise<DemoCredentialUse[]> {
  const found: DemoCredentialUse[] = [];
  for (const p of [...partners.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const file = p.source ?? path.join(partnersDir, `${p.id}.yaml`);
    for (const k of parseAuthorizedKeys(p.sftp?.publicKeys).keys) {
      const where = demo.keys.get(k.fingerprint);
      if (where) found.push({ partner: p.id, file, kind: 'key', detail: `demo key ${k.fingerprint} (${where})` });
    }
    const hash = p.sftp?.passwordHash;
    if (hash) {
      for (const pw of demo.passwords) {
        if (await verifyPassword(pw, hash)) found.push({ partner: p.id, file, kind: 'password', detail: `the published demo password "${pw}"` });
      }
    }
  }
  return found;
}

/** E_DEMO_CREDENTIALS: what `lotgate start` says when it refuses. */
export function demoCredentialsMessage(found: readonly DemoCredentialUse[], configPath: string | null): string {
  const byFile = new Map<string, string[]>();
  for (const f of found) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f.detail]);
  const lines = [...byFile].map(([file, what]) => `  ${file}: ${what.join('; ')}`);
  return [
    `E_DEMO_CREDENTIALS: refusing to serve the SFTP drop zone: ${byFile.size} partner file(s) accept the published demo credentials, with which anyone can log in:`,
    ...lines,
    'Give each partner its own key (the partner sends you its public key: `lotgate partner add <id> --key <file.pub>`, or replace sftp.publicKeys) and remove the demo password hash;',
    `or, on a laptop only, run the demo on purpose: \`npx lotgate demo\`, \`demo: true\` in ${configPath ?? 'config.yaml'}, or LOTGATE_DEMO=1.`,
  ].join('\n');
}
