import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboundConfigError } from '../../pipeline/outbound/errors.js';
import { eventNotification } from '../../pipeline/outbound/notify/render.js';
import type { NotifyEvent } from '../../pipeline/outbound/notify/rules.js';
import { createTeamsChannel, teamsCardPayload } from '../../pipeline/outbound/notify/teams.js';
import { startHttpServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.respond = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('1');
  };
});

const event: NotifyEvent = {
  type: 'file_quarantined',
  subject: 'acme-lab: lims_0412.csv',
  at: '2026-03-02T08:15:00.000Z',
  details: { code: 'E_XML_ENTITY', submission: 4711 },
  link: 'https://lotgate.example.com/submissions/4711',
};

const channel = () => createTeamsChannel({ name: 'qa-teams', type: 'teams', urlEnv: 'TEAMS_QA_URL' }, { TEAMS_QA_URL: `${server.url}/webhookb2/abc?sig=secret` });

describe('Teams channel', () => {
  it('posts an Adaptive Card with title, facts and an Open link', async () => {
    expect(await channel().send(eventNotification(event))).toEqual({ ok: true });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/webhookb2/abc?sig=secret');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(req.body);
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const att = body.attachments[0];
    expect(att.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = att.content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'File quarantined: acme-lab: lims_0412.csv', weight: 'Bolder', color: 'Attention' });
    expect(card.body[2]).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Code', value: 'E_XML_ENTITY' },
        { title: 'Submission', value: '4711' },
        { title: 'When', value: '2026-03-02T08:15:00.000Z' },
      ],
    });
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open submission', url: 'https://lotgate.example.com/submissions/4711' }]);
  });

  it('leaves out the action when there is no usable link', () => {
    const card = teamsCardPayload(eventNotification({ ...event, link: 'javascript:void(0)' })) as { attachments: { content: Record<string, unknown> }[] };
    expect(card.attachments[0].content.actions).toBeUndefined();
  });

  it('reports throttling as retryable and never puts the webhook URL in the error', async () => {
    server.respond = (_req, res) => {
      res.writeHead(429, { 'retry-after': '30' });
      res.end('slow down');
    };
    const result = await channel().send(eventNotification(event));
    expect(result).toMatchObject({ ok: false, retryable: true, retryAfterMs: 30_000 });
    expect(result.ok === false && result.error).toContain('TEAMS_QA_URL');
    expect(result.ok === false && result.error).not.toContain('sig=secret');
    expect(result.ok === false && result.error).not.toContain(server.url);
  });

  it('reports a refused card as not retryable', async () => {
    server.respond = (_req, res) => {
      res.writeHead(400);
      res.end('Bad payload');
    };
    expect(await channel().send(eventNotification(event))).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('Bad payload') });
  });

  it('recognizes a failure the classic connector reports inside a 200', async () => {
    server.respond = (_req, res) => {
      res.writeHead(200);
      res.end('Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0');
    };
    expect(await channel().send(eventNotification(event))).toMatchObject({ ok: false, retryable: true });
  });

  it('needs the webhook URL in the named environment variable', () => {
    expect(() => createTeamsChannel({ name: 'qa-teams', type: 'teams', urlEnv: 'TEAMS_QA_URL' }, {})).toThrow(OutboundConfigError);
    expect(() => createTeamsChannel({ name: 'qa-teams', type: 'teams', urlEnv: 'TEAMS_QA_URL' }, {})).toThrow(/TEAMS_QA_URL is not set/);
    expect(() => createTeamsChannel({ name: 'qa-teams', type: 'teams', urlEnv: 'TEAMS_QA_URL' }, { TEAMS_QA_URL: 'teams' })).toThrow(/does not hold an http\(s\) URL/);
  });
});
