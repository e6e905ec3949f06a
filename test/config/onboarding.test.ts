// `npm test` stays green after an operator onboards a partner as docs/onboarding.md says:
// `npx lotgate partner add kappa-lab --name "Kappa Labs" --role lab --key kappa.pub --feeds
// lims-results` plus a mapping. The tests that read the repository's own partners/ and mappings/
// run here against a scratch copy of the repository with that partner added.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
/** The test files that read partners/ and mappings/ of the repository itself. */
const REPO_DATA_TESTS = ['test/fixtures/partners.test.ts', 'test/fixtures/mappings.test.ts', 'test/fixtures/bad-inputs.test.ts'];
const KAPPA_PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM2rVup9L9FsVKEYjaqhiCpsZJnSObkFFb9UKw3hl1Y0 kappa@lab';

let scratch: string;
afterAll(() => scratch && rmSync(scratch, { recursive: true, force: true }));

it('the repository tests that read partners/ and mappings/ pass after a partner is onboarded', () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'lotgate-onboard-'));
  // Code and fixtures are shared read-only; partners/ and mappings/ are the operator's to change.
  for (const d of ['pipeline', 'jobs', 'fixtures', 'node_modules', 'bin', 'dist']) symlinkSync(path.join(root, d), path.join(scratch, d));
  for (const d of ['partners', 'mappings']) cpSync(path.join(root, d), path.join(scratch, d), { recursive: true });
  for (const f of ['config.yaml', 'package.json', 'tsconfig.json', 'vitest.config.ts']) cpSync(path.join(root, f), path.join(scratch, f));
  cpSync(path.join(root, 'test/setup'), path.join(scratch, 'test/setup'), { recursive: true }); // npm run test:postgres
  for (const f of REPO_DATA_TESTS) {
    mkdirSync(path.dirname(path.join(scratch, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(scratch, f));
  }
  writeFileSync(path.join(scratch, 'kappa.pub'), KAPPA_PUB + '\n');

  // As the operator does it (docs/onboarding.md).
  const add = spawnSync(process.execPath, ['bin/lotgate.js', 'partner', 'add', 'kappa-lab', '--name', 'Kappa Labs', '--role', 'lab', '--key', 'kappa.pub', '--feeds', 'lims-results'], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, LOTGATE_CONFIG: '', LOTGATE_DATA_DIR: path.join(scratch, 'data') },
  });
  expect(add.status, add.stderr).toBe(0);
  mkdirSync(path.join(scratch, 'mappings/kappa-lab'), { recursive: true });
  const bravo = readFileSync(path.join(root, 'mappings/bravo-lab/lims-results.yaml'), 'utf8');
  writeFileSync(
    path.join(scratch, 'mappings/kappa-lab/lims-results.yaml'),
    bravo
      .replace(/^partner: bravo-lab$/m, 'partner: kappa-lab')
      .replace(/^tests:[\s\S]*$/m, ''), // their own sample files come later
  );

  const run = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...REPO_DATA_TESTS], {
    cwd: scratch,
    encoding: 'utf8',
    env: { ...process.env, CI: '1', NO_COLOR: '1' },
    timeout: 240_000,
  });
  expect(run.status, `${run.stdout}\n${run.stderr}`.slice(-4000)).toBe(0);
}, 300_000);
