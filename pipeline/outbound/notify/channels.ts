// Builds notification channels and rules from the `notifications:` section of config.yaml, and
// sends one event through them. Which keys were already sent is the caller's (stored) knowledge.

import { Ajv } from 'ajv';
import type { DeliveryResult } from '../delivery.js';
import { OutboundConfigError, type ConfigProblem } from '../errors.js';
import { schemaProblem } from '../schema-problems.js';
import { createEmailChannel, type EmailChannelConfig, type EmailDeps } from './email.js';
import type { NotifyChannel } from './render.js';
import { eventNotification } from './render.js';
import { NOTIFY_EVENT_TYPES, plannedSends, validateNotifyRules, type NotifyEvent, type NotifyRule } from './rules.js';
import { createTeamsChannel, type TeamsChannelConfig } from './teams.js';

export type ChannelConfig = TeamsChannelConfig | EmailChannelConfig;

export interface NotificationsConfig {
  channels?: ChannelConfig[];
  rules?: NotifyRule[];
}

export interface Notifier {
  channels: NotifyChannel[];
  rules: NotifyRule[];
}

const envName = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } as const;
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' } as const;
const addresses = { type: 'array', minItems: 1, items: { type: 'string', minLength: 3 } } as const;

/** JSON Schema of the `notifications:` section. */
export const NOTIFICATIONS_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'lotgate notifications',
  type: 'object',
  additionalProperties: false,
  properties: {
    channels: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        discriminator: { propertyName: 'type' },
        oneOf: [
          {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'type', 'urlEnv'],
            properties: { name, type: { const: 'teams' }, urlEnv: envName, timeoutMs: { type: 'integer', minimum: 1 } },
          },
          {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'type', 'host', 'from', 'to'],
            properties: {
              name,
              type: { const: 'email' },
              host: { type: 'string', minLength: 1 },
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              secure: { type: 'boolean' },
              requireTLS: { type: 'boolean' },
              from: { type: 'string', minLength: 3 },
              to: addresses,
              cc: addresses,
              userEnv: envName,
              passwordEnv: envName,
              subjectPrefix: { type: 'string' },
              timeoutMs: { type: 'integer', minimum: 1 },
            },
          },
        ],
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['on', 'to'],
        properties: {
          on: { type: 'array', minItems: 1, items: { enum: [...NOTIFY_EVENT_TYPES, '*'] } },
          to: { type: 'array', minItems: 1, items: { type: 'string' } },
        },
      },
    },
  },
} as const;

export interface NotifyBuildOptions {
  path?: string;
  fetch?: typeof fetch;
  mailTransport?: EmailDeps['transport'];
}

export function buildNotifier(cfg: unknown, env: NodeJS.ProcessEnv, opts: NotifyBuildOptions = {}): Notifier {
  const where = opts.path ?? 'notifications';
  const section = (cfg ?? {}) as NotificationsConfig;
  const problems: ConfigProblem[] = [];
  const validate = new Ajv({ allErrors: true, strict: false, discriminator: true }).compile(NOTIFICATIONS_CONFIG_SCHEMA);
  if (!validate(section)) {
    problems.push(...(validate.errors ?? []).map((e) => schemaProblem(e, where, { channels: ['teams', 'email'] })));
    throw new OutboundConfigError(problems);
  }
  const configs = section.channels ?? [];
  const names = configs.map((c) => c.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) problems.push({ code: 'E_CONFIG_DUPLICATE', path: `${where}.channels[${i}].name`, message: `"${n}" is already used` });
  });
  problems.push(...validateNotifyRules(section.rules ?? [], names, `${where}.rules`));
  const channels: NotifyChannel[] = [];
  configs.forEach((c, i) => {
    const at = `${where}.channels[${i}]`;
    try {
      channels.push(c.type === 'teams' ? createTeamsChannel(c, env, { path: at, fetch: opts.fetch }) : createEmailChannel(c, env, { path: at, transport: opts.mailTransport }));
    } catch (err) {
      if (err instanceof OutboundConfigError) problems.push(...err.problems);
      else throw err;
    }
  });
  if (problems.length) throw new OutboundConfigError(problems);
  return { channels, rules: section.rules ?? [] };
}

export interface SendOutcome {
  channel: string;
  /** Store this key once `result.ok` (or once given up on); `alreadySent` gets it next time. */
  key: string;
  result: DeliveryResult | 'already_sent';
}

/** Sends an event to every channel its rules name, skipping (event, channel) keys already sent. */
export async function dispatch(event: NotifyEvent, notifier: Notifier, alreadySent: (key: string) => boolean | Promise<boolean>): Promise<SendOutcome[]> {
  const notification = eventNotification(event);
  const out: SendOutcome[] = [];
  for (const { channel, key } of plannedSends(event, notifier.rules)) {
    if (await alreadySent(key)) {
      out.push({ channel, key, result: 'already_sent' });
      continue;
    }
    const ch = notifier.channels.find((c) => c.name === channel);
    const result: DeliveryResult = ch ? await ch.send(notification) : { ok: false, retryable: false, error: `no channel named ${channel}` };
    out.push({ channel, key, result });
  }
  return out;
}
