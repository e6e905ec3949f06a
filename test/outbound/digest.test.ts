import { describe, expect, it } from 'vitest';
import { digestNotification, digestsByGroup, renderDigest, type LotSummary } from '../../pipeline/outbound/notify/digest.js';

const opts = { date: '2026-03-02', since: '2026-03-01T06:00:00.000Z', boardLink: 'https://lotgate.example.com/lots' };

const lots: LotSummary[] = [
  {
    materialId: '000100234',
    lotNumber: 'L2',
    description: 'Tabs <10 mg>',
    vendor: 'acme-cmo',
    state: 'BLOCKED',
    previousState: 'NOT_READY',
    changedAt: '2026-03-01T09:00:00.000Z',
    late: true,
    lateStages: [{ stage: 'packaging', dueDate: '2026-02-20' }],
    reasons: [{ code: 'R_DEVIATION_OPEN_MAJOR', message: 'Open major deviation DEV-14 & retest' }],
    link: 'https://lotgate.example.com/lots/000100234/L2',
    groups: ['qa', 'supply'],
  },
  {
    materialId: '000100234',
    lotNumber: 'L1',
    state: 'READY',
    previousState: 'CONDITIONAL',
    changedAt: '2026-03-01T12:00:00.000Z',
    late: false,
    link: 'javascript:alert(1)',
    groups: ['qa'],
  },
  {
    materialId: '000100111',
    lotNumber: 'X9',
    state: 'NOT_READY',
    previousState: 'NOT_READY',
    changedAt: '2026-02-20T00:00:00.000Z',
    late: true,
    lateStages: [{ stage: 'filling', dueDate: '2026-02-25' }],
    groups: ['supply'],
  },
  { materialId: '000100111', lotNumber: 'X8', state: 'CONDITIONAL', previousState: 'NOT_READY', changedAt: '2026-02-28T00:00:00.000Z', late: false, groups: ['supply'] },
];

describe('renderDigest', () => {
  it('lists blocked, late and changed lots with counts', () => {
    const d = renderDigest('qa', lots.filter((l) => l.groups.includes('qa')), opts);
    expect(d.counts).toEqual({ blocked: 1, late: 1, changed: 2 });
    expect(d.empty).toBe(false);
    expect(d.subject).toBe('lotgate daily summary 2026-03-02 (qa): 1 blocked, 1 late, 2 changed');
    expect(d.text).toContain('BLOCKED (1)\n-----------\n* 000100234 / L2 (Tabs <10 mg>) — acme-cmo\n  R_DEVIATION_OPEN_MAJOR: Open major deviation DEV-14 & retest\n  https://lotgate.example.com/lots/000100234/L2');
    expect(d.text).toContain('Late (1)');
    expect(d.text).toContain('BLOCKED; packaging due 2026-02-20');
    // Changed: sorted by material then lot; the unsafe link is not shown.
    const changed = d.text.slice(d.text.indexOf('Changed since'));
    expect(changed.indexOf('L1')).toBeLessThan(changed.indexOf('L2'));
    expect(changed).toContain('CONDITIONAL → READY at 2026-03-01T12:00:00.000Z');
    expect(d.text).not.toContain('javascript');
    expect(d.text).toContain('Lot board: https://lotgate.example.com/lots');
  });

  it('escapes HTML and links the lots', () => {
    const d = renderDigest('qa', lots.slice(0, 2), opts);
    expect(d.html).toContain('<a href="https://lotgate.example.com/lots/000100234/L2">000100234 / L2 (Tabs &lt;10 mg&gt;) — acme-cmo</a>');
    expect(d.html).toContain('DEV-14 &amp; retest');
    expect(d.html).toContain('BLOCKED (late)');
    expect(d.html).not.toContain('<10 mg>');
    expect(d.html).not.toContain('javascript');
  });

  it('counts only changes since the last digest, and a state that did not change is no change', () => {
    const d = renderDigest('supply', lots.filter((l) => l.groups.includes('supply')), opts);
    expect(d.counts).toEqual({ blocked: 1, late: 2, changed: 1 });
    expect(d.text).not.toContain('X8');
  });

  it('says so when there is nothing to report', () => {
    const d = renderDigest('qa', [{ materialId: 'M', lotNumber: 'L', state: 'READY', late: false, groups: ['qa'] }], opts);
    expect(d.empty).toBe(true);
    expect(d.text).toContain('Nothing needs attention');
    expect(digestNotification(d).summary).toBe('Nothing needs attention today.');
  });
});

describe('digestsByGroup', () => {
  it('makes one digest per recipient group', () => {
    const ds = digestsByGroup(lots, opts);
    expect(ds.map((d) => [d.group, d.counts])).toEqual([
      ['qa', { blocked: 1, late: 1, changed: 2 }],
      ['supply', { blocked: 1, late: 2, changed: 1 }],
    ]);
    const n = digestNotification(ds[0], opts.boardLink);
    expect(n).toMatchObject({ title: ds[0].subject, text: ds[0].text, html: ds[0].html, link: 'https://lotgate.example.com/lots', severity: 'warning' });
    expect(n.facts).toEqual([
      { name: 'Blocked', value: '1' },
      { name: 'Late', value: '1' },
      { name: 'Changed', value: '2' },
    ]);
  });
});
