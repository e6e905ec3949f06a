// Microsoft Teams incoming webhook (classic connector or a Workflows "post to a channel when a
// webhook request is received" flow): one Adaptive Card per notification. The webhook URL is a
// credential (anyone holding it can post), so it comes from an environment variable and never
// appears in errors.

import type { DeliveryResult } from '../delivery.js';
import { fetchFailure, httpFailure } from '../delivery.js';
import { envSecret, OutboundConfigError, type ConfigProblem } from '../errors.js';
import type { Notification, NotifyChannel } from './render.js';

export interface TeamsChannelConfig {
  name: string;
  type: 'teams';
  /** Environment variable holding the webhook URL. */
  urlEnv: string;
  timeoutMs?: number;
}

export interface TeamsDeps {
  fetch?: typeof fetch;
  now?: () => number;
  path?: string;
}

const COLOR = { info: 'Default', warning: 'Warning', critical: 'Attention' } as const;

/** The webhook payload: a message whose first attachment is an Adaptive Card. */
export function teamsCardPayload(n: Notification): Record<string, unknown> {
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: n.title, weight: 'Bolder', size: 'Medium', wrap: true, color: COLOR[n.severity], style: 'heading' },
    { type: 'TextBlock', text: n.summary, wrap: true },
  ];
  if (n.facts.length) body.push({ type: 'FactSet', facts: n.facts.map((f) => ({ title: f.name, value: f.value })) });
  const card: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  };
  if (n.link) card.actions = [{ type: 'Action.OpenUrl', title: n.linkLabel, url: n.link }];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}

export function createTeamsChannel(cfg: TeamsChannelConfig, env: NodeJS.ProcessEnv, deps: TeamsDeps = {}): NotifyChannel {
  const where = deps.path ?? `channel "${cfg.name}"`;
  const problems: ConfigProblem[] = [];
  const raw = envSecret(env, cfg.urlEnv, `${where}.urlEnv`, 'Teams webhook URL', problems);
  let url: URL | null = null;
  if (raw) {
    try {
      url = new URL(raw);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.urlEnv`, message: `environment variable ${cfg.urlEnv} does not hold an http(s) URL` });
    }
  }
  if (problems.length) throw new OutboundConfigError(problems);
  const target = url as URL;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const now = deps.now ?? Date.now;
  const timeoutMs = cfg.timeoutMs ?? 15_000;
  const what = `${cfg.name} (Teams webhook from ${cfg.urlEnv})`;
  return {
    name: cfg.name,
    type: 'teams',
    async send(n: Notification): Promise<DeliveryResult> {
      let res: Response;
      try {
        res = await doFetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(teamsCardPayload(n)),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        return fetchFailure(err, what, timeoutMs);
      }
      if (res.status >= 200 && res.status < 300) {
        // The classic connector answers 200 with "1" but reports some failures in that body.
        const text = await res.text().catch(() => '');
        if (/^\s*(Microsoft Teams endpoint returned HTTP error|Webhook message delivery failed)/i.test(text)) {
          return { ok: false, retryable: /429|5\d\d/.test(text), error: `${what}: ${text.slice(0, 300)}` };
        }
        return { ok: true };
      }
      return httpFailure(res, what, now());
    },
  };
}
