// Signed review decisions over the API: challenge, then password (+ TOTP first time) → applied.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../pipeline/auth/totp.js';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { verifySignatures } from '../../pipeline/sign/verify.js';
import { apiFixture, PW, type ApiFixture } from './api-helpers.js';
import { fixtureFiles } from './helpers.js';

let f: ApiFixture;
let held: number;
let secret: string;
let h: Record<string, string>;

beforeAll(async () => {
  f = await apiFixture({ story: false });
  const w = f.inst.work;
  const file = path.join(w, 'partners', 'bravo-lab.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^mode:.*$/m, 'mode: review'));
  const erp = fixtureFiles(w, 'erp');
  await ingestFiles(f.inst.lg, 'erp', ['MATERIALS', 'PO', 'BATCHES'].map((k) => erp.find((x) => path.basename(x).includes(`_${k}_`))!));
  await new Promise((r) => setTimeout(r, 2100)); // partner files are re-read every 2 s
  const [r] = await ingestFiles(f.inst.lg, 'bravo-lab', [path.join(w, 'fixtures', 'bravo-lab', 'LIMS_EXPORT_20261118_0200.csv')]);
  expect(r.state).toBe('pending_review');
  held = r.submissionId;
  secret = (await f.user('quinn', [['qa']])).secret!;
  const s = await f.login('quinn');
  h = { cookie: s.cookie, 'x-csrf-token': s.csrf };
}, 120_000);
afterAll(() => f?.close());

describe('POST /api/v1/submissions/{id}/review', () => {
  it('approves a held file with a signature; the file is applied once', async () => {
    const ch = (await f.app.inject({ method: 'POST', url: `/api/v1/submissions/${held}/review/challenge`, headers: h, payload: { decision: 'approve', reason: 'checked against the LIMS printout' } })).json();
    expect(ch.record).toMatchObject({ kind: 'submission_review', decision: 'approve', submission: { id: held, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    f.clock.now = new Date(f.clock.now.getTime() + 30_000);
    const res = await f.app.inject({ method: 'POST', url: `/api/v1/submissions/${held}/review`, headers: h, payload: { challengeId: ch.challengeId, password: PW, totp: totpCode(secret, f.clock.now) } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ changed: true, state: 'applied_with_errors', signature: { decision: 'approve', meaning: 'approval', recordHash: ch.recordHash, signer: { printedName: 'Test quinn' } } });
    expect(await verifySignatures(f.inst.lg.store)).toEqual({ checked: 1, bad: [] });
    const again = await f.app.inject({ method: 'POST', url: `/api/v1/submissions/${held}/review/challenge`, headers: h, payload: { decision: 'approve', reason: 'twice' } });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('E_SIGN_NOT_PENDING');
  });
});
