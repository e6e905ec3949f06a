// `lotgate submission approve|reject --user <name>`: review decisions signed like dispositions.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../pipeline/auth/service.js';
import { totpCode } from '../../pipeline/auth/totp.js';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { canonicalJson } from '../../pipeline/store/canonical-json.js';
import { sha256Hex } from '../../pipeline/sign/record.js';
import { verifySignatures } from '../../pipeline/sign/verify.js';
import { fixtureFiles, installation, root, type Installation } from '../api/helpers.js';

const PW = 'a long test password';
let inst: Installation;
let secret: string;
let held: number;

beforeAll(async () => {
  inst = await installation({ story: false });
  const file = path.join(inst.work, 'partners', 'bravo-lab.yaml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, /^mode:/m.test(text) ? text.replace(/^mode:.*$/m, 'mode: review') : `${text.trimEnd()}\nmode: review\n`);
  const erp = fixtureFiles(inst.work, 'erp');
  await ingestFiles(inst.lg, 'erp', ['MATERIALS', 'PO', 'BATCHES'].map((k) => erp.find((x) => path.basename(x).includes(`_${k}_`))!));
  await new Promise((r) => setTimeout(r, 2100)); // the partner cache re-reads files every 2 s
  const [r] = await ingestFiles(inst.lg, 'bravo-lab', [path.join(inst.work, 'fixtures', 'bravo-lab', 'LIMS_EXPORT_20261118_0200.csv')]);
  expect(r.state).toBe('pending_review');
  held = r.submissionId;
  const past = new Date(Date.now() - 5 * 60_000);
  const auth = new AuthService(inst.lg.store, inst.lg.config, () => past);
  for (const [u, role] of [['quinn', 'qa'], ['rita', 'receiving']]) {
    await auth.addUser({ username: u, displayName: `Test ${u}`, kind: 'user' }, 'test');
    await auth.completeReset(u, (await auth.issueReset(u, 'test')).code, PW);
    await auth.grant(u, role, { sites: '*', materials: '*', partners: '*' }, 'test');
  }
  const id = (await inst.lg.store.auth.getPrincipalByName('quinn'))!.id;
  secret = (await auth.startEnrolment(id)).secret;
  await auth.confirmEnrolment(id, totpCode(secret, past));
}, 120_000);
afterAll(() => inst?.cleanup());

const approve = (user: string, input: string) =>
  spawnSync(process.execPath, [path.join(root, 'bin/lotgate.js'), '--config', path.join(inst.work, 'config.yaml'), '--data-dir', inst.lg.config.dataDir, 'submission', 'approve', String(held), '--reason', 'checked against the LIMS printout', '--user', user, '--json'], { encoding: 'utf8', input });

describe('signed review approval', () => {
  it('refuses a signer without submissions:review, and a wrong code, without deciding anything', async () => {
    expect(approve('rita', `${PW}\n000000\n`).stderr).toMatch(/E_SIGN_NOT_ALLOWED/);
    expect(approve('quinn', `${PW}\n000000\n`).stderr).toMatch(/E_AUTH_FAILED/);
    expect((await inst.lg.store.ledger.getSubmission(held))!.state).toBe('pending_review');
  });

  it('approves with password + TOTP; the signature and its audit event carry the record hash', async () => {
    const r = approve('quinn', `${PW}\n${totpCode(secret, new Date())}\n`);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ changed: true, by: 'Test quinn', signature: { decision: 'approve', meaning: 'approval', signer: { printedName: 'Test quinn' }, valid: true } });
    const ev = (await inst.lg.store.audit.listAudit({ action: 'signature.applied' }))[0];
    expect(ev.subject).toBe(`submission:${held}`);
    expect((ev.details as any).recordHash).toBe(out.signature.recordHash);
    expect(sha256Hex(canonicalJson((ev.details as any).record))).toBe(out.signature.recordHash);
    expect(await verifySignatures(inst.lg.store)).toEqual({ checked: 1, bad: [] });
  });
});
