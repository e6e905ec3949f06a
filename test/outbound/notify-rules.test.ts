import { describe, expect, it } from 'vitest';
import { eventNotification, label, notificationHtml, notificationText, safeLink } from '../../pipeline/outbound/notify/render.js';
import { dedupKey, plannedSends, route, validateNotifyRules, type NotifyEvent, type NotifyRule } from '../../pipeline/outbound/notify/rules.js';

const rules: NotifyRule[] = [
  { on: ['lot_blocked', 'lot_late'], to: ['qa-teams', 'qa-mail'] },
  { on: ['file_rejected', 'file_quarantined'], to: ['integration-mail'] },
  { on: ['lot_blocked'], to: ['qa-mail', 'supply-teams'] },
  { on: ['*'], to: ['audit-mail'] },
];

const blockedEvent: NotifyEvent = {
  type: 'lot_blocked',
  subject: '000100234 / L2026-001',
  at: '2026-03-02T08:15:00.000Z',
  details: { message: 'Open major deviation DEV-14 <filter>.', reasons: 'R_DEVIATION_OPEN_MAJOR', partner: 'acme-cmo', lateStages: undefined, quantity: 12000, late: false },
  link: 'https://lotgate.example.com/lots/000100234/L2026-001',
};

describe('route', () => {
  it('sends an event to each channel of each matching rule, once, in rule order', () => {
    expect(route(blockedEvent, rules)).toEqual(['qa-teams', 'qa-mail', 'supply-teams', 'audit-mail']);
    expect(route({ type: 'file_quarantined' }, rules)).toEqual(['integration-mail', 'audit-mail']);
    expect(route({ type: 'partner_silent' }, rules)).toEqual(['audit-mail']);
    expect(route({ type: 'partner_silent' }, rules.slice(0, 3))).toEqual([]);
  });
});

describe('dedupKey', () => {
  it('is the same for the same event found again, different for another event', () => {
    const again = { ...blockedEvent, details: { message: 'worded differently' }, link: null };
    expect(dedupKey(again)).toBe(dedupKey(blockedEvent));
    expect(dedupKey({ ...blockedEvent, at: '2026-03-09T00:00:00.000Z' })).not.toBe(dedupKey(blockedEvent));
    expect(dedupKey({ ...blockedEvent, subject: '000100234 / L2026-002' })).not.toBe(dedupKey(blockedEvent));
    expect(dedupKey({ ...blockedEvent, type: 'lot_late' })).not.toBe(dedupKey(blockedEvent));
    expect(dedupKey(blockedEvent)).toMatch(/^lot_blocked:[0-9a-f]{32}$/);
  });

  it('gives one key per (event, channel)', () => {
    const sends = plannedSends(blockedEvent, rules);
    expect(sends.map((s) => s.channel)).toEqual(['qa-teams', 'qa-mail', 'supply-teams', 'audit-mail']);
    expect(new Set(sends.map((s) => s.key)).size).toBe(4);
    expect(sends[0].key).toBe(`${dedupKey(blockedEvent)}@qa-teams`);
  });
});

describe('validateNotifyRules', () => {
  it('names unknown event types, channels and keys', () => {
    const problems = validateNotifyRules(
      [
        { on: ['lot_blocked', 'lot_exploded'], to: ['qa-teams', 'nobody'] },
        { on: [], to: [] },
        { on: ['*'], to: ['qa-teams'], when: 'always' },
        'not a rule',
      ],
      ['qa-teams'],
    );
    expect(problems.map((p) => p.path)).toEqual([
      'notifications.rules[0].on[1]',
      'notifications.rules[0].to[1]',
      'notifications.rules[1].on',
      'notifications.rules[1].to',
      'notifications.rules[2].when',
      'notifications.rules[3]',
    ]);
    expect(problems[1].message).toBe('no channel named "nobody"; defined: qa-teams');
    expect(validateNotifyRules(rules.slice(0, 1), ['qa-teams', 'qa-mail'])).toEqual([]);
    expect(validateNotifyRules({}, [])).toHaveLength(1);
  });
});

describe('eventNotification', () => {
  it('turns an event into a title, a summary, facts and a link', () => {
    const n = eventNotification(blockedEvent);
    expect(n).toEqual({
      title: 'Lot BLOCKED: 000100234 / L2026-001',
      summary: 'Open major deviation DEV-14 <filter>.',
      facts: [
        { name: 'Reasons', value: 'R_DEVIATION_OPEN_MAJOR' },
        { name: 'Partner', value: 'acme-cmo' },
        { name: 'Quantity', value: '12000' },
        { name: 'Late', value: 'false' },
        { name: 'When', value: '2026-03-02T08:15:00.000Z' },
      ],
      link: 'https://lotgate.example.com/lots/000100234/L2026-001',
      linkLabel: 'Open lot',
      severity: 'critical',
    });
    expect(notificationText(n)).toContain('Open lot: https://lotgate.example.com/lots/000100234/L2026-001');
    const html = notificationHtml(n);
    expect(html).toContain('DEV-14 &lt;filter&gt;.');
    expect(html).toContain('<a href="https://lotgate.example.com/lots/000100234/L2026-001">Open lot</a>');
  });

  it('has default wording per type and drops links that are not http(s)', () => {
    const n = eventNotification({ type: 'partner_silent', subject: 'acme-lab', at: '2026-03-01T00:00:00Z', details: {}, link: 'javascript:alert(1)' });
    expect(n.title).toBe('No files from acme-lab');
    expect(n.summary).toMatch(/acme-lab has not delivered/);
    expect(n.link).toBeNull();
    expect(notificationText(n)).not.toContain('javascript');
    expect(safeLink('file:///etc/passwd')).toBeNull();
    expect(safeLink('not a url')).toBeNull();
    expect(label('lateStages')).toBe('Late stages');
    expect(label('partner_id')).toBe('Partner id');
  });
});
