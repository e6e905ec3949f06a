// HTTP connector: POSTs each message as JSON to the receiver's endpoint (an ERP/QMS API, an
// integration platform). The message id travels as Idempotency-Key, so the receiver can discard
// the duplicates that at-least-once delivery produces.

import type { Connector, DeliveryResult } from '../delivery.js';
import { fetchFailure, httpFailure, isLoopbackHost, retryPolicy } from '../delivery.js';
import { envSecret, OutboundConfigError, type ConfigProblem } from '../errors.js';
import type { OutboundMessage } from '../messages.js';

/** Secrets are named by environment variable, never written in the config. */
export type HttpAuthConfig =
  | { type: 'none' }
  | { type: 'bearer'; tokenEnv: string }
  | { type: 'basic'; userEnv: string; passwordEnv: string }
  /** An API-key header, as API gateways commonly want (`X-API-Key`, `APIKey`, ...). */
  | { type: 'header'; header: string; valueEnv: string };

export interface HttpConnectorConfig {
  name: string;
  type: 'http';
  url: string;
  topics: string[];
  auth?: HttpAuthConfig;
  /** Per request, including reading the response. Default 15 s. */
  timeoutMs?: number;
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Allow plain http:// with credentials to a non-loopback host (never in production). */
  allowInsecureHttp?: boolean;
}

export interface HttpDeps {
  fetch?: typeof fetch;
  now?: () => number;
  /** Prefix for problem paths, e.g. `connectors[2]`. */
  path?: string;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 15_000;

export function createHttpConnector(cfg: HttpConnectorConfig, env: NodeJS.ProcessEnv, deps: HttpDeps = {}): Connector {
  const where = deps.path ?? `connector "${cfg.name}"`;
  const problems: ConfigProblem[] = [];
  let url: URL | null = null;
  try {
    url = new URL(cfg.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.url`, message: `must be an http(s) URL, got ${url.protocol}` });
    }
  } catch {
    problems.push({ code: 'E_CONFIG_INVALID', path: `${where}.url`, message: `not a valid URL: ${JSON.stringify(cfg.url)}` });
  }
  const headers: Record<string, string> = {};
  const auth = cfg.auth ?? { type: 'none' };
  switch (auth.type) {
    case 'bearer': {
      const token = envSecret(env, auth.tokenEnv, `${where}.auth.tokenEnv`, 'bearer token', problems);
      headers.authorization = `Bearer ${token}`;
      break;
    }
    case 'basic': {
      const user = envSecret(env, auth.userEnv, `${where}.auth.userEnv`, 'basic-auth user', problems);
      const password = envSecret(env, auth.passwordEnv, `${where}.auth.passwordEnv`, 'basic-auth password', problems);
      headers.authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      break;
    }
    case 'header': {
      const value = envSecret(env, auth.valueEnv, `${where}.auth.valueEnv`, `${auth.header} header value`, problems);
      headers[auth.header.toLowerCase()] = value;
      break;
    }
    case 'none':
      break;
  }
  if (url && url.protocol === 'http:' && auth.type !== 'none' && !isLoopbackHost(url.hostname) && !cfg.allowInsecureHttp) {
    problems.push({
      code: 'E_CONFIG_INSECURE',
      path: `${where}.url`,
      message: `credentials would be sent in clear text to ${url.host}; use https:// (or set allowInsecureHttp: true for a test system)`,
    });
  }
  if (problems.length) throw new OutboundConfigError(problems);

  const target = url as URL;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const now = deps.now ?? Date.now;
  const timeoutMs = cfg.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  // The host names the receiver in errors; the full URL may carry a key in its query.
  const what = `${cfg.name} (${target.host})`;

  return {
    name: cfg.name,
    type: 'http',
    topics: cfg.topics,
    retry: retryPolicy(cfg),
    async deliver(msg: OutboundMessage): Promise<DeliveryResult> {
      let body: string;
      try {
        body = JSON.stringify({ id: msg.id, topic: msg.topic, key: msg.key, createdAt: msg.createdAt, payload: msg.payload });
      } catch (err) {
        return { ok: false, retryable: false, error: `${what}: message ${msg.id} is not serializable: ${(err as Error).message}` };
      }
      let res: Response;
      try {
        res = await doFetch(target, {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json; charset=utf-8',
            accept: 'application/json, */*;q=0.5',
            'idempotency-key': msg.id,
            'x-lotgate-topic': msg.topic,
            'x-lotgate-key': encodeURIComponent(msg.key),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        return fetchFailure(err, what, timeoutMs);
      }
      if (res.status >= 200 && res.status < 300) {
        // Drain so the keep-alive connection can serve the next message.
        await res.arrayBuffer().catch(() => undefined);
        return { ok: true };
      }
      return httpFailure(res, what, now());
    },
  };
}
