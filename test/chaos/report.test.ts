// The comparison behind `npm run chaos`: a fault run's ledger, acknowledgments, facts and audit
// trail against the clean run of the same files.

import { describe, expect, it } from 'vitest';
import { baseName, compare, fileOutcomes, leftoverOf, renderDiscrepancies, renderTable, summarize, type SentFile, type Snapshot, type SubmissionSeen } from '../../chaos/report.js';

const sent: SentFile[] = [
  { partner: 'lab-a', name: 'A_0001.csv', kind: 'good' },
  { partner: 'lab-a', name: 'A_errors.csv', kind: 'row-errors' },
  { partner: 'lab-b', name: 'B_broken.csv', kind: 'bad' },
  { partner: 'lab-a', name: 'A_0001_resend.csv', kind: 'duplicate' },
];

function sub(id: number, partner: string, name: string, state: string, rows = 10, applied = rows, rejected = 0): SubmissionSeen {
  return { id, partner, name, state, rows, applied, rejected };
}

/** The clean run: every file as its kind says, each terminal submission acknowledged. */
function cleanSnap(): Snapshot {
  const submissions = [sub(1, 'lab-a', 'A_0001.csv', 'applied'), sub(2, 'lab-a', 'A_errors.csv', 'applied_with_errors', 10, 8, 2), sub(3, 'lab-b', 'B_broken.csv', 'rejected', 0, 0, 0), sub(4, 'lab-a', 'A_0001_resend.csv', 'duplicate', 0, 0, 0)];
  return {
    submissions,
    acks: submissions.map((s) => ({ partner: s.partner, submissionId: s.id, state: s.state, file: s.name })),
    factTotals: { test_results: 118, lots: 5 },
    factsBySubmission: { 1: { test_results: 10 }, 2: { test_results: 8 }, 99: { test_results: 100 } },
    terminalHistory: { 1: ['applied'], 2: ['applied_with_errors'], 3: ['rejected'], 4: ['duplicate'] },
  };
}

const clean = { sent, snap: cleanSnap() };

describe('chaos report: one outcome per sent file', () => {
  it('takes the last applied submission of a file, else its newest, and sums facts over all of them', () => {
    const snap = cleanSnap();
    // An interrupted upload (quarantined) then the resend that was applied under the same name.
    snap.submissions = [sub(5, 'lab-a', 'A_0001.csv', 'quarantined', 0, 0, 0), sub(6, 'lab-a', 'A_0001.csv', 'applied'), sub(7, 'lab-b', 'B_broken.csv', 'rejected', 0, 0, 0), sub(8, 'lab-b', 'B_broken (2).csv', 'quarantined', 0, 0, 0)];
    snap.factsBySubmission = { 5: { test_results: 1 }, 6: { test_results: 9 } };
    const [a, , b] = fileOutcomes(sent, snap);
    expect(a).toMatchObject({ state: 'applied', submissionId: 6, submissions: 2, facts: { test_results: 10 } });
    expect(b).toMatchObject({ state: 'quarantined', submissionId: 8, submissions: 2 });
    expect(fileOutcomes(sent, snap)[3].state).toBe('missing');
  });

  it('strips the " (2)" the drop zone adds to a second upload of a name', () => {
    expect(baseName('LIMS (2).csv')).toBe('LIMS.csv');
    expect(baseName('LIMS (12)')).toBe('LIMS');
    expect(baseName('LIMS_2.csv')).toBe('LIMS_2.csv');
  });
});

describe('chaos report: compare with the clean run', () => {
  it('finds nothing when the run reproduces the clean run', () => {
    const c = compare(sent, cleanSnap(), clean);
    expect(c.discrepancies).toEqual([]);
    expect(c.expectedTotals).toEqual({ test_results: 118, lots: 5 });
    expect(`${c.acksPresent}/${c.acksWanted}`).toBe('4/4');
  });

  it('checks the clean run itself against what each kind of file must become', () => {
    const snap = cleanSnap();
    snap.submissions[1] = sub(2, 'lab-a', 'A_errors.csv', 'applied');
    snap.acks[1].state = 'applied';
    snap.terminalHistory[2] = ['applied'];
    const c = compare(sent, snap, null);
    expect(c.discrepancies.map((d) => d.kind)).toEqual(['state']);
    expect(c.discrepancies[0].detail).toContain('file kind says applied_with_errors');
  });

  it('reports missing and non-terminal files, and where a missing one lies', () => {
    const snap = cleanSnap();
    snap.submissions = snap.submissions.filter((s) => s.id !== 3).map((s) => (s.id === 1 ? { ...s, state: 'processing' } : s));
    snap.leftovers = [{ partner: 'lab-b', where: '.intake', name: 'mx1-ab~B_broken.csv' }];
    const c = compare(sent, snap, clean);
    const kinds = c.discrepancies.map((d) => d.kind);
    expect(kinds).toContain('missing');
    expect(kinds).toContain('not-terminal');
    expect(c.discrepancies.find((d) => d.kind === 'missing')!.detail).toContain('drop/lab-b/.intake/mx1-ab~B_broken.csv');
    // The leftover explains the missing file: not reported a second time as stranded.
    expect(kinds).not.toContain('stranded');
  });

  it('reports a changed state, changed counts and facts, and the store totals', () => {
    const snap = cleanSnap();
    snap.submissions[0] = sub(1, 'lab-a', 'A_0001.csv', 'applied', 10, 9, 0);
    snap.factsBySubmission[1] = { test_results: 9 };
    snap.factTotals = { test_results: 117, lots: 5 };
    snap.submissions[1] = sub(2, 'lab-a', 'A_errors.csv', 'quarantined', 0, 0, 0);
    snap.acks[1].state = 'quarantined';
    snap.terminalHistory[2] = ['quarantined'];
    delete snap.factsBySubmission[2];
    snap.factTotals.test_results -= 8;
    const c = compare(sent, snap, clean);
    const byKind = (k: string) => c.discrepancies.filter((d) => d.kind === k).map((d) => d.detail);
    expect(byKind('state')).toEqual([expect.stringContaining('lab-a/A_errors.csv: quarantined (submission 2), the clean run says applied_with_errors')]);
    expect(byKind('counts')).toEqual([expect.stringContaining('10/9/0, clean run 10/10/0')]);
    expect(byKind('facts')).toEqual([expect.stringContaining('test_results 9; clean run test_results 10')]);
    expect(byKind('totals')).toEqual(['test_results: 109 rows in the store, a clean run of these files gives 118 (-9)']);
  });

  it('reports a terminal submission without an acknowledgment in its state (an overwritten ack)', () => {
    const snap = cleanSnap();
    // A resend under the same name replaced the ack of the first, quarantined submission.
    snap.submissions.push(sub(5, 'lab-a', 'A_0001.csv', 'quarantined', 0, 0, 0));
    snap.terminalHistory[5] = ['quarantined'];
    snap.acks[0] = { partner: 'lab-a', submissionId: 5, state: 'quarantined', file: 'A_0001.csv' };
    const c = compare(sent, snap, clean);
    expect(c.discrepancies.filter((d) => d.kind === 'ack').map((d) => d.detail)).toEqual(['lab-a/A_0001.csv: submission 1 is applied but no acknowledgment names it (the acknowledgment of that name now answers submission 5)']);
    expect(`${c.acksPresent}/${c.acksWanted}`).toBe('4/5');
  });

  it('reports an applied submission that was later turned quarantined', () => {
    const snap = cleanSnap();
    snap.submissions[0] = sub(1, 'lab-a', 'A_0001.csv', 'quarantined');
    snap.terminalHistory[1] = ['applied', 'quarantined'];
    snap.acks[0].state = 'quarantined';
    const c = compare(sent, snap, clean);
    expect(c.rewritten).toBe(1);
    expect(c.discrepancies.find((d) => d.kind === 'rewritten')!.detail).toBe('lab-a/A_0001.csv: submission 1 terminal state rewritten: audit applied → quarantined, ledger now quarantined');
  });

  it('reports bytes stranded in the drop zone and findings of the fault itself', () => {
    const snap = cleanSnap();
    snap.leftovers = [{ partner: 'lab-a', where: '.quarantine', name: '.A_0001.csv.3f2a.part' }];
    const c = compare(sent, snap, clean, ['lotgate did not exit within 45 s of SIGTERM']);
    expect(c.discrepancies.map((d) => [d.kind, d.file])).toEqual([
      ['stranded', 'lab-a/A_0001.csv'],
      ['fault', undefined],
    ]);
  });

  it('tells a file from another whose name extends its stem', () => {
    expect(leftoverOf({ partner: 'lab-a', where: '.intake', name: 'x~A_0001_resend.csv' }, { partner: 'lab-a', name: 'A_0001.csv' })).toBe(false);
    expect(leftoverOf({ partner: 'lab-a', where: '.intake', name: 'x~A_0001_resend.csv' }, { partner: 'lab-a', name: 'A_0001_resend.csv' })).toBe(true);
    expect(leftoverOf({ partner: 'lab-a', where: 'inbound', name: '.A_0001.csv.9c1d.part' }, { partner: 'lab-a', name: 'A_0001.csv' })).toBe(true);
    expect(leftoverOf({ partner: 'lab-b', where: 'inbound', name: '.A_0001.csv.9c1d.part' }, { partner: 'lab-a', name: 'A_0001.csv' })).toBe(false);
  });
});

describe('chaos report: the printed table', () => {
  it('puts the clean run beside the fault run and marks what differs', () => {
    const snap = cleanSnap();
    snap.submissions[0] = sub(1, 'lab-a', 'A_0001.csv', 'received');
    const c = compare(sent, snap, clean);
    const table = renderTable(summarize(sent, snap, c), summarize(sent, clean.snap, compare(sent, clean.snap, null)), c.expectedTotals);
    const line = (label: string) => table.split('\n').find((l) => l.startsWith(`| ${label}`))!;
    expect(line('files sent')).toMatch(/\|\s+4 \| 4\s+\|$/);
    expect(line('  applied ')).toMatch(/\|\s+1 \| 0  DIFF\s+\|$/);
    expect(line('  not terminal')).toMatch(/\|\s+0 \| 1  DIFF\s+\|$/);
    expect(line('acks present')).toMatch(/4\/4 \| 3\/3\s+\|$/);
    expect(line('facts: test_results')).not.toContain('DIFF');
    expect(renderDiscrepancies(c.discrepancies)).toContain('[not-terminal] lab-a/A_0001.csv: still received');
    expect(renderDiscrepancies([])).toBe('no discrepancy');
  });
});

describe('chaos report: fact tables in the table', () => {
  it('leaves out fact tables that are empty in both runs and keeps one that differs', () => {
    const snap = cleanSnap();
    snap.factTotals = { ...snap.factTotals, documents: 0, deviations: 3 };
    const c = compare(sent, snap, clean);
    const table = renderTable(summarize(sent, snap, c), summarize(sent, clean.snap, compare(sent, clean.snap, null)), c.expectedTotals);
    expect(table).not.toContain('facts: documents');
    expect(table).toMatch(/\| facts: deviations\s+\|\s+0 \| 3  DIFF\s+\|/);
    expect(c.discrepancies.map((d) => d.detail)).toContain('deviations: 3 rows in the store, a clean run of these files gives 0 (+3)');
  });
});
