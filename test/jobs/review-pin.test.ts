// Review approvals are pinned to what was reviewed: a mapping changed since the preview makes the
// approval refuse (E_REVIEW_STALE) instead of applying something nobody saw; `replay` makes a new
// preview, which supersedes the old one: one approvable copy per content.

import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/config/config.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { cli } from './helpers/cli.js';
import { closeWorlds, makeWorld, ROOT, silent, type World } from './helpers/world.js';

const opened: Lotgate[] = [];
afterEach(async () => {
  for (const lg of opened.splice(0)) await lg.close();
  await closeWorlds();
});

/** The review world with its own copy of the mappings, so a test can change one. */
async function world(): Promise<{ w: World; mapping: string; lg: () => Promise<Lotgate> }> {
  const w = await makeWorld({ partners: { 'bravo-lab': { mode: 'review' } } });
  const own = path.join(w.dir, 'mappings');
  cpSync(path.join(ROOT, 'mappings'), own, { recursive: true });
  const cfg = YAML.parse(readFileSync(w.configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(w.configPath, YAML.stringify({ ...cfg, mappingsDir: own }));
  for (const p of ['erp', 'acme-cmo', 'delta-cmo']) await w.ingest(p);
  const lg = async () => {
    const l = await createLotgate(loadConfig({ configPath: w.configPath, env: {} }), { log: silent });
    opened.push(l);
    return l;
  };
  return { w, mapping: path.join(own, 'bravo-lab', 'lims-results.yaml'), lg };
}

async function replay(lg: Lotgate, id: number) {
  const sub = (await lg.store.ledger.getSubmission(id))!;
  const newId = await registerFile(lg, { partner: sub.partner, path: sub.archivePath, name: sub.originalName, source: 'replay', removeSource: false, replayOf: id });
  return processSubmission(lg, newId);
}

describe('pinned review approvals', () => {
  it('refuses to approve with a mapping changed since the preview; a replay previews again and only the newest copy is approvable', async () => {
    const { w, mapping, lg } = await world();
    const [held] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    expect(held.state).toBe('pending_review');
    const reviewed = (await w.lg.store.ledger.getSubmission(held.submissionId))!;

    appendFileSync(mapping, '\n# changed after the preview\n');
    const stale = await cli(w.configPath, ['submission', 'approve', String(held.submissionId), '--reason', 'looked fine', '--by', 'qa.anna', '--json']);
    expect(stale.exitCode).toBe(3);
    expect(stale.stderr).toMatch(/E_REVIEW_STALE/);
    expect(stale.stderr).toContain(`lotgate replay ${held.submissionId}`);
    // Nothing applied, still waiting, no approval recorded.
    expect(await w.lg.store.ledger.getSubmission(held.submissionId)).toMatchObject({ state: 'pending_review', mappingHash: reviewed.mappingHash, applied: reviewed.applied });
    expect(await w.lg.store.audit.listAudit({ action: 'submission.approved' })).toHaveLength(0);

    // Two replays: each is a new preview with the current mapping; only the last stays approvable.
    const l = await lg();
    const first = await replay(l, held.submissionId);
    const second = await replay(l, held.submissionId);
    expect([first.state, second.state]).toEqual(['pending_review', 'pending_review']);
    const pending = await w.lg.store.ledger.listSubmissions({ partner: 'bravo-lab', state: 'pending_review' });
    expect(pending.map((s) => s.id)).toEqual([second.submissionId]);
    expect(await w.lg.store.ledger.getSubmission(held.submissionId)).toMatchObject({ state: 'duplicate', duplicateOf: first.submissionId, errorCode: 'W_REVIEW_SUPERSEDED' });
    expect(await w.lg.store.ledger.getSubmission(first.submissionId)).toMatchObject({ state: 'duplicate', duplicateOf: second.submissionId });

    const old = await cli(w.configPath, ['submission', 'approve', String(held.submissionId), '--reason', 'x', '--by', 'qa.anna', '--json']);
    expect(JSON.parse(old.stdout)).toMatchObject({ changed: false, supersededBy: first.submissionId });
    const ok = await cli(w.configPath, ['submission', 'approve', String(second.submissionId), '--reason', 'new preview checked', '--by', 'qa.anna', '--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ changed: true, state: 'applied_with_errors' });
    expect(await w.lg.store.audit.listAudit({ action: 'submission.approved' })).toHaveLength(1);
  });

  it('refuses an approval whose counts differ from the preview, and commits nothing', async () => {
    const { w } = await world();
    const [held] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    const sub = (await w.lg.store.ledger.getSubmission(held.submissionId))!;
    // Pretend the reviewer saw other numbers (what a change of master data since would produce).
    await w.lg.store.ledger.updateSubmission(held.submissionId, { applied: sub.applied + 1, rejected: sub.rejected - 1 });
    const r = await cli(w.configPath, ['submission', 'approve', String(held.submissionId), '--reason', 'x', '--by', 'qa.anna']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/E_REVIEW_STALE: .*the preview showed rows \d+, applied \d+, rejected 0/);
    expect((await w.lg.store.ledger.getSubmission(held.submissionId))?.state).toBe('pending_review');
    expect(await w.lg.store.audit.listAudit({ action: 'submission.approved' })).toHaveLength(0);
    expect((await w.lg.store.ledger.listRejectedRows(held.submissionId)).map((x) => x.code)).toEqual(['E_BAD_DATE']);
  });
});
