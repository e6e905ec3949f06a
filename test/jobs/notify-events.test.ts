// Which audit events become which notifications (pure), and the digest's view of the board.

import { describe, expect, it } from 'vitest';
import type { PartnerConfig } from '../../pipeline/model/types.js';
import { changesByLot, digestLots, follows } from '../../jobs/digest-lots.js';
import { links, publicUrlProblem } from '../../pipeline/outbound/notify/links.js';
import { eventsFromAudit, silentPartners } from '../../jobs/notify-events.js';
import type { AuditRow, BoardLot, SubmissionRow } from '../../pipeline/store/store.js';

const l = links('https://lotgate.example/');
const partner = (id: string, extra: Partial<PartnerConfig> & Record<string, unknown> = {}): PartnerConfig => ({ id, name: id, role: 'cmo', mode: 'live', sites: [], products: [], feeds: [], ...extra });
const audit = (seq: number, action: string, subject: string, details: unknown, actor = 'lotgate', at = `2026-11-20T10:00:0${seq}.000Z`): AuditRow => ({ seq, at, actor, action, subject, details, prevHash: '', hash: '' });
const change = (from: { state: string; late: boolean } | null, to: { state: string; late: boolean }) => ({ from, to, reasons: ['R_DEVIATION_OPEN_MAJOR'] });
const look = (subs: Record<number, Partial<SubmissionRow>> = {}, partners = [partner('acme-cmo'), partner('shadowy', { mode: 'shadow' })]) => ({
  links: l,
  partners: new Map(partners.map((p) => [p.id, p])),
  submission: (id: number) => subs[id] as SubmissionRow | undefined,
});

describe('notification events from the audit trail', () => {
  it('reports a lot when it becomes BLOCKED or late, not while it stays so', () => {
    const subject = 'lot:000123/L1';
    expect(eventsFromAudit(audit(1, 'lot.readiness_changed', subject, change(null, { state: 'BLOCKED', late: true })), look()).map((e) => e.type)).toEqual(['lot_blocked', 'lot_late']);
    expect(eventsFromAudit(audit(2, 'lot.readiness_changed', subject, change({ state: 'BLOCKED', late: true }, { state: 'BLOCKED', late: true })), look())).toEqual([]);
    const [e] = eventsFromAudit(audit(3, 'lot.readiness_changed', subject, change({ state: 'NOT_READY', late: false }, { state: 'BLOCKED', late: false })), look());
    expect(e).toEqual({
      type: 'lot_blocked',
      subject: '000123 / L1',
      at: '2026-11-20T10:00:03.000Z',
      link: 'https://lotgate.example/lots/000123/L1',
      details: { previous: 'NOT_READY', reasons: 'R_DEVIATION_OPEN_MAJOR' },
    });
  });

  it('stays quiet about changes a shadow partner’s file caused', () => {
    const row = audit(1, 'lot.readiness_changed', 'lot:000123/L1', change(null, { state: 'BLOCKED', late: false }), 'submission:7');
    expect(eventsFromAudit(row, look({ 7: { partner: 'shadowy' } }))).toEqual([]);
    expect(eventsFromAudit(row, look({ 7: { partner: 'acme-cmo' } }))).toHaveLength(1);
  });

  it('reports rejected and quarantined files with a link to the submission', () => {
    const sub = { id: 9, partner: 'acme-cmo', originalName: 'batch.csv', receivedAt: '2026-11-20T09:00:00Z', errorCode: 'E_NO_FEED', errorMessage: 'no feed' };
    const [e] = eventsFromAudit(audit(4, 'submission.quarantined', 'submission:9', { code: 'E_PARTIAL_UPLOAD', message: 'upload interrupted' }), look({ 9: sub }));
    expect(e).toMatchObject({ type: 'file_quarantined', subject: 'acme-cmo: batch.csv', link: 'https://lotgate.example/submissions/9', details: { code: 'E_PARTIAL_UPLOAD', error: 'upload interrupted' } });
    expect(eventsFromAudit(audit(5, 'submission.rejected', 'submission:10', {}), look())).toEqual([]);
  });

  it('dates a silence from when the partner became overdue, so it is one event until a file arrives', () => {
    const partners = [partner('lab', { expectedCadenceHours: 24, name: 'Lab One' }), partner('quiet'), partner('never', { expectedCadenceHours: 1 })];
    const last = new Map([['lab', '2026-11-18T06:00:00.000Z'], ['quiet', '2026-01-01T00:00:00.000Z']]);
    const a = silentPartners(partners, last, new Date('2026-11-20T06:00:00Z'), l);
    const b = silentPartners(partners, last, new Date('2026-11-20T18:00:00Z'), l);
    expect(a).toEqual([expect.objectContaining({ type: 'partner_silent', subject: 'Lab One (lab)', at: '2026-11-19T06:00:00.000Z', link: 'https://lotgate.example/partners/lab' })]);
    expect(b.map((e) => e.at)).toEqual(a.map((e) => e.at));
    expect(silentPartners(partners, last, new Date('2026-11-19T05:59:59Z'), l)).toEqual([]);
  });

  it('says when publicUrl cannot make links', () => {
    expect(publicUrlProblem('https://lotgate.example')).toBeNull();
    expect(publicUrlProblem('lotgate.example')).toContain('is not an http(s) URL');
  });
});

describe('digest view of the board', () => {
  const lot = (lotNumber: string, over: Partial<BoardLot> = {}): BoardLot => ({
    lotId: 1,
    materialId: 'M1',
    lotNumber,
    vendor: 'acme-cmo',
    site: 'Lörrach',
    description: 'Tablet',
    productFamily: 'oral-solid',
    state: 'BLOCKED',
    late: false,
    readiness: { state: 'BLOCKED', late: false, reasons: [{ code: 'R_DEVIATION_OPEN_MAJOR', message: 'x', severity: 'BLOCKED', evidence: [] }] },
    computedAt: '2026-11-20T10:00:00Z',
    ...over,
  });

  it('keeps the state before the first change in the window and the time of the last', () => {
    const rows = [
      audit(1, 'lot.readiness_changed', 'lot:M1/A', change({ state: 'NOT_READY', late: false }, { state: 'READY', late: false })),
      audit(2, 'lot.readiness_changed', 'lot:M1/A', change({ state: 'READY', late: false }, { state: 'BLOCKED', late: false })),
    ];
    expect(changesByLot(rows).get('M1/A')).toEqual({ previousState: 'NOT_READY', changedAt: '2026-11-20T10:00:02.000Z' });
    const [summary] = digestLots([lot('A'), lot('B', { vendor: 'delta-cmo' })], changesByLot(rows), [{ name: 'acme', to: ['m'], vendors: ['acme-cmo'] }, { name: 'all', to: ['m'] }], l);
    expect(summary).toMatchObject({ lotNumber: 'A', previousState: 'NOT_READY', state: 'BLOCKED', groups: ['acme', 'all'], link: 'https://lotgate.example/lots/M1/A' });
  });

  it('matches a group by every filter it has', () => {
    expect(follows({ name: 'g', to: [], families: ['oral-solid'], sites: ['Lörrach'] }, lot('A'))).toBe(true);
    expect(follows({ name: 'g', to: [], families: ['sterile-injectable'] }, lot('A'))).toBe(false);
    expect(follows({ name: 'g', to: [], materials: ['M2'] }, lot('A'))).toBe(false);
    expect(follows({ name: 'g', to: [], vendors: ['acme-cmo'] }, lot('A', { vendor: null }))).toBe(false);
  });
});
