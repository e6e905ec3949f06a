// Resends: only content that counts (applied, or held for review) makes a later upload of the
// same bytes a `duplicate`. A file that was rejected or quarantined can be sent again — under
// any name — and is processed again; the ledger links the resend to what it resends.

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../pipeline/codes.js';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { processSubmission, quarantine } from '../../pipeline/ingest/process-submission.js';
import { registerFile } from '../../pipeline/intake/register-file.js';
import { cli } from '../jobs/helpers/cli.js';
import { closeWorlds, FIXTURES, makeWorld, type World } from '../jobs/helpers/world.js';

afterEach(() => closeWorlds());

/** Ingests a fixture's bytes under another name. */
async function ingestAs(w: World, partner: string, fixture: string, name: string) {
  const dir = path.join(w.dir, 'uploads', `${partner}-${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(FIXTURES, fixture), path.join(dir, name));
  return (await ingestFiles(w.lg, partner, [path.join(dir, name)]))[0];
}

describe('resending a file', () => {
  it('processes again a file rejected because master data had not arrived, and links the two', async () => {
    const w = await makeWorld();
    const [early] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    expect(early.state).toBe('rejected');
    await w.ingest('erp');
    const [again] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    expect(again.state).toBe('applied_with_errors');
    expect(again.ack.counts.applied).toBeGreaterThan(0);
    expect(await w.lg.store.ledger.getSubmission(again.submissionId)).toMatchObject({ resendOf: early.submissionId, duplicateOf: null });
    expect(again.ack).toMatchObject({ resendOf: early.submissionId, previous: { submissionId: early.submissionId, state: 'rejected', file: 'LIMS_EXPORT_20261118_0200.csv' } });
    expect(again.ack.message).toContain(`submission ${early.submissionId}, rejected`);

    // A third copy of content that now counts is a duplicate of the applied one, not of the rejected one.
    const [third] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    expect(third.state).toBe('duplicate');
    expect(third.ack).toMatchObject({ duplicateOf: again.submissionId, original: { submissionId: again.submissionId, state: 'applied_with_errors' } });

    // `lotgate submission` shows both directions of the link.
    const shown = await cli(w.configPath, ['submission', String(early.submissionId), '--json']);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'rejected', resentAs: [again.submissionId] });
    const human = await cli(w.configPath, ['submission', String(again.submissionId)]);
    expect(human.stdout).toMatch(new RegExp(`resendOf\\s+${early.submissionId} \\(rejected\\)`));
  });

  it('processes again the same bytes under another name after a rejection for the name (no feed)', async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const wrong = await ingestAs(w, 'acme-cmo', 'acme-cmo/Chargenstatus_20261119.csv', 'status-export.csv');
    expect(wrong.state).toBe('rejected');
    expect(wrong.ack.errors[0].code).toBe('E_NO_FEED');
    const right = await ingestAs(w, 'acme-cmo', 'acme-cmo/Chargenstatus_20261119.csv', 'Chargenstatus_20261119.csv');
    expect(right.state).not.toBe('duplicate');
    expect(right.ack.counts.applied).toBeGreaterThan(0);
    expect(right.ack.resendOf).toBe(wrong.submissionId);
  });

  it('processes again a quarantined file, linked to the quarantined submission', async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const dir = path.join(w.dir, 'partial');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(FIXTURES, 'acme-cmo/Chargenstatus_20261119.csv'), path.join(dir, 'Chargenstatus_20261119.csv'));
    const partial: { code: ErrorCode; message: string } = { code: 'E_PARTIAL_UPLOAD', message: 'The upload was interrupted.' };
    const qid = await registerFile(w.lg, { partner: 'acme-cmo', path: path.join(dir, 'Chargenstatus_20261119.csv'), name: 'Chargenstatus_20261119.csv', source: 'sftp', removeSource: false, quarantined: partial });
    await quarantine(w.lg, qid, partial.code, partial.message);
    const again = await ingestAs(w, 'acme-cmo', 'acme-cmo/Chargenstatus_20261119.csv', 'Chargenstatus_20261119.csv');
    expect(again.state).not.toBe('duplicate');
    expect(again.ack.counts.applied).toBeGreaterThan(0);
    expect(again.ack).toMatchObject({ resendOf: qid, previous: { submissionId: qid, state: 'quarantined' } });
  });

  it('still answers a resend of applied content or content pending review as duplicate', async () => {
    const w = await makeWorld({ partners: { 'bravo-lab': { mode: 'review' } } });
    await w.ingest('erp');
    const [held] = await w.ingest('bravo-lab', ['LIMS_EXPORT_20261118_0200.csv']);
    expect(held.state).toBe('pending_review');
    const copy = await ingestAs(w, 'bravo-lab', 'bravo-lab/LIMS_EXPORT_20261118_0200.csv', 'LIMS_EXPORT_20261118_0201.csv');
    expect(copy.state).toBe('duplicate');
    expect(copy.ack).toMatchObject({ duplicateOf: held.submissionId, original: { state: 'pending_review', file: 'LIMS_EXPORT_20261118_0200.csv' } });
    expect(copy.ack.counts.applied).toBe(0);
    expect(JSON.parse(readFileSync(copy.ackPath, 'utf8')).duplicateOf).toBe(held.submissionId);
  });

  it('applies the same bytes once whichever of two queued copies runs first', async () => {
    const w = await makeWorld();
    await w.ingest('erp');
    const dir = path.join(w.dir, 'twice');
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(FIXTURES, 'acme-cmo/Chargenstatus_20261119.csv'), path.join(dir, 'Chargenstatus_20261119.csv'));
    const reg = () => registerFile(w.lg, { partner: 'acme-cmo', path: path.join(dir, 'Chargenstatus_20261119.csv'), name: 'Chargenstatus_20261119.csv', source: 'watch', removeSource: false });
    const older = await reg();
    const newer = await reg();
    // The queue ran the newer copy first (a retry, another worker): the older one must not apply again.
    const first = await processSubmission(w.lg, newer);
    expect(first.ack.counts.applied).toBeGreaterThan(0);
    const second = await processSubmission(w.lg, older);
    expect(second.state).toBe('duplicate');
    expect(second.ack).toMatchObject({ duplicateOf: newer, counts: { applied: 0 } });
    expect((await w.lg.store.audit.listAudit({ subject: `submission:${older}`, limit: 10 })).map((e: { action: string }) => e.action)).not.toContain('submission.applied');
  });
});
