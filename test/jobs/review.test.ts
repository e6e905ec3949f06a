// Onboarding mode `review`: a partner's files are parsed and validated, but their facts do not
// count until `lotgate submission approve` applies them — once, with who/when/why in the audit
// trail — or `lotgate submission reject` turns them down.

import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnLotgate } from './helpers/child.js';
import { cli } from './helpers/cli.js';
import { closeWorlds, FIXTURES, makeWorld, ROOT, type World } from './helpers/world.js';

afterEach(() => closeWorlds());

type Board = Record<string, { state: string | null; reasons: string[] }>;
async function board(w: World): Promise<Board> {
  const out: Board = {};
  for (const l of await w.lg.store.reads.listLots()) out[l.lotNumber] = { state: l.readiness, reasons: [...l.reasonCodes].sort() };
  return out;
}
const testCount = async (w: World) => {
  let n = 0;
  for (const l of await w.lg.store.reads.listLots()) n += (await w.lg.store.readiness.loadLotFacts(l.lotId)).testResults.length;
  return n;
};

async function reviewWorld(): Promise<World> {
  const w = await makeWorld({ partners: { 'bravo-lab': { mode: 'review' } } });
  for (const p of ['erp', 'acme-cmo', 'delta-cmo']) await w.ingest(p);
  return w;
}

describe('onboarding mode review', () => {
  it('holds the facts until approval, then applies them once; a second approval changes nothing', async () => {
    const w = await reviewWorld();
    const before = await board(w);
    const testsBefore = await testCount(w);
    const outboxBefore = await w.lg.store.outbox.countOutbox();

    const [held] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    expect(held.state).toBe('pending_review');
    // The partner is told: parsed, what would count, and that it waits for the sponsor.
    const ack = JSON.parse(readFileSync(held.ackPath, 'utf8')) as { state: string; message: string; counts: { applied: number; rejected: number }; errors: { code: string; line: number }[] };
    expect(ack.state).toBe('pending_review');
    expect(ack.message).toMatch(/waits for review by the sponsor/);
    expect(ack.message).toMatch(/row\(s\) would be applied and 1 rejected once the sponsor approves/);
    expect(ack.errors).toEqual([expect.objectContaining({ code: 'E_BAD_DATE', line: 14 })]);
    // Nothing counts: no test results, the same board, nothing in the outbox.
    expect(await testCount(w)).toBe(testsBefore);
    expect(await board(w)).toEqual(before);
    expect(await w.lg.store.outbox.countOutbox()).toEqual(outboxBefore);
    expect((await w.lg.store.ledger.listRejectedRows(held.submissionId)).map((r) => r.code)).toEqual(['E_BAD_DATE']);

    const approved = await cli(w.configPath, ['submission', 'approve', String(held.submissionId), '--reason', 'checked against the LIMS printout', '--by', 'qa.anna', '--json']);
    expect(approved.exitCode, approved.stderr).toBe(0);
    const out = JSON.parse(approved.stdout) as { changed: boolean; state: string; ack: { state: string; message: string } };
    expect(out).toMatchObject({ changed: true, state: 'applied_with_errors' });
    expect(out.ack.message).toContain('Approved by qa.anna: checked against the LIMS printout');
    const after = await board(w);
    expect(after).not.toEqual(before);
    expect(after['NW26-0411']).toEqual({ state: 'READY', reasons: [] });
    const testsAfter = await testCount(w);
    expect(testsAfter).toBeGreaterThan(testsBefore);
    // The row errors are recorded once, not once for the preview and once for the apply.
    expect((await w.lg.store.ledger.listRejectedRows(held.submissionId)).map((r) => r.code)).toEqual(['E_BAD_DATE']);
    const audit = await w.lg.store.audit.listAudit({ subject: `submission:${held.submissionId}` });
    expect(audit.map((e) => e.action)).toEqual(['submission.applied_with_errors', 'submission.approved', 'submission.pending_review', 'submission.received']);
    expect(audit[1]).toMatchObject({ actor: 'operator:qa.anna', details: { by: 'qa.anna', reason: 'checked against the LIMS printout', partner: 'bravo-lab' } });
    expect(Date.parse((audit[1].details as { at: string }).at)).not.toBeNaN();
    // What the approved file changed goes out now (caused by it, not held).
    expect((await w.lg.store.outbox.listOutbox({ submissionId: held.submissionId, limit: 1000 })).length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(held.ackPath, 'utf8'))).toMatchObject({ state: 'applied_with_errors' });

    const twice = await cli(w.configPath, ['submission', 'approve', String(held.submissionId), '--reason', 'again', '--by', 'qa.bob']);
    expect(twice.exitCode).toBe(0);
    expect(twice.stdout).toContain('already decided (applied_with_errors); nothing changed');
    expect(await testCount(w)).toBe(testsAfter);
    expect(await w.lg.store.audit.listAudit({ action: 'submission.approved' })).toHaveLength(1);
    expect(await board(w)).toEqual(after);
  });

  it('rejects a held file on the reviewer’s word: nothing applied, who and why recorded; approval afterwards is a no-op', async () => {
    const w = await reviewWorld();
    const before = await board(w);
    const [held] = await w.ingest('bravo-lab', ['LIMS_SUMMARY_20261118.csv']);
    expect(held.state).toBe('pending_review');
    const noReason = await cli(w.configPath, ['submission', 'reject', String(held.submissionId), '--reason', '  ', '--by', 'qa.anna']);
    expect(noReason.exitCode).toBe(2);
    expect(noReason.stderr).toContain('--reason');

    const rejected = await cli(w.configPath, ['submission', 'reject', String(held.submissionId), '--reason', 'wrong sample plan', '--by', 'qa.anna', '--json']);
    expect(rejected.exitCode, rejected.stderr).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ changed: true, state: 'rejected', ack: { state: 'rejected' } });
    expect(await w.lg.store.ledger.getSubmission(held.submissionId)).toMatchObject({ state: 'rejected', errorCode: 'E_REVIEW_REJECTED', errorMessage: 'Rejected in review by qa.anna: wrong sample plan' });
    expect((await w.lg.store.audit.listAudit({ action: 'submission.review_rejected' }))[0]).toMatchObject({ actor: 'operator:qa.anna', details: { reason: 'wrong sample plan' } });
    const late = await cli(w.configPath, ['submission', 'approve', String(held.submissionId), '--reason', 'changed my mind', '--by', 'qa.anna', '--json']);
    expect(JSON.parse(late.stdout)).toMatchObject({ changed: false, state: 'rejected' });
    expect(await board(w)).toEqual(before);
    // Only files waiting for review can be decided on.
    const live = await w.ingest('acme-cmo', ['COA_AC-24125_v1.pdf']);
    const notHeld = await cli(w.configPath, ['submission', 'approve', String(live[0].submissionId), '--reason', 'x', '--by', 'qa.anna', '--json']);
    expect(JSON.parse(notHeld.stdout)).toMatchObject({ changed: false });
    expect((await cli(w.configPath, ['submission', 'approve', '9999', '--reason', 'x', '--by', 'a'])).exitCode).toBe(4);
  });

  it('applies a file once when two processes approve it at the same time', async () => {
    const w = await reviewWorld();
    const [held] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    const testsBefore = await testCount(w);
    const a = spawnLotgate(['-c', w.configPath, 'submission', 'approve', String(held.submissionId), '--reason', 'ok', '--by', 'one', '--json']);
    const b = spawnLotgate(['-c', w.configPath, 'submission', 'approve', String(held.submissionId), '--reason', 'ok', '--by', 'two', '--json']);
    await Promise.all([a.exited, b.exited]);
    const results = [a, b].map((c) => JSON.parse(c.stdout()) as { changed: boolean; state: string });
    expect(results.map((r) => r.changed).sort()).toEqual([false, true]);
    expect(results.every((r) => r.state === 'applied_with_errors')).toBe(true);
    expect(await w.lg.store.audit.listAudit({ action: 'submission.approved' })).toHaveLength(1);
    expect(await testCount(w)).toBeGreaterThan(testsBefore);
    expect(await w.lg.store.ledger.listRejectedRows(held.submissionId)).toHaveLength(1);
  });
});

describe('two processes on one submission', () => {
  const processIn = (w: World, id: number) =>
    new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['--import', path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs'), path.join(ROOT, 'test/jobs/helpers/process-child.ts'), w.configPath, String(id)], { cwd: ROOT });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.once('exit', () => resolve(out));
    });
  async function registered(w: World, partner: string, name: string): Promise<number> {
    const dir = path.join(w.dir, 'incoming');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(FIXTURES, partner, name), path.join(dir, name));
    return registerFile(w.lg, { partner, path: path.join(dir, name), name, source: 'cli', removeSource: false });
  }

  it('applies a submission once when two workers take it at the same time', async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const id = await registered(w, 'acme-cmo', 'Abweichungen_20261119.csv');
    const outs = await Promise.all([processIn(w, id), processIn(w, id)]);
    expect(outs.map((o) => JSON.parse(o).state)).toEqual(['applied', 'applied']);
    expect((await w.lg.store.audit.listAudit({ subject: `submission:${id}` })).map((e) => e.action)).toEqual(['submission.applied', 'submission.received']);
  });

  it('previews a review-mode file once when two workers take it at the same time', async () => {
    const w = await reviewWorld();
    const id = await registered(w, 'bravo-lab', 'LIMS_EXPORT_20261118_0200.csv');
    const outs = await Promise.all([processIn(w, id), processIn(w, id)]);
    expect(outs.map((o) => JSON.parse(o).state)).toEqual(['pending_review', 'pending_review']);
    expect((await w.lg.store.audit.listAudit({ subject: `submission:${id}` })).map((e) => e.action)).toEqual(['submission.pending_review', 'submission.received']);
    expect(await w.lg.store.ledger.listRejectedRows(id)).toHaveLength(1);
  });
});
