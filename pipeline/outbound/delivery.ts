// The contract between the push job and the connectors, plus the HTTP outcome rules shared by
// the HTTP connector and the Teams webhook.

import picomatch from 'picomatch';
import type { OutboundMessage } from './messages.js';

/**
 * What happened to one delivery. Connectors never throw: every failure comes back as a value.
 * `retryable: false` means retrying cannot help (the receiver refused this message): dead letter
 * at once. `retryAfterMs` is the receiver's own hint (HTTP Retry-After), when it gave one.
 */
export type DeliveryResult = { ok: true } | { ok: false; retryable: boolean; error: string; retryAfterMs?: number };

export interface RetryPolicy {
  /** Attempts before the message goes to the dead letter state. */
  maxAttempts: number;
  /** Backoff after the first failure; doubles per attempt. */
  baseMs: number;
  /** Backoff cap. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 10, baseMs: 30_000, maxMs: 3_600_000 };

/** The retry keys every connector config may carry, with defaults. */
export interface RetryConfig {
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export function retryPolicy(cfg: RetryConfig): RetryPolicy {
  return {
    maxAttempts: cfg.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
    baseMs: cfg.backoffMs ?? DEFAULT_RETRY.baseMs,
    maxMs: cfg.maxBackoffMs ?? DEFAULT_RETRY.maxMs,
  };
}

export interface Connector {
  name: string;
  type: string;
  /** Topic globs this connector takes, e.g. `erp.*`. */
  topics: string[];
  retry: RetryPolicy;
  deliver(msg: OutboundMessage): Promise<DeliveryResult>;
  /**
   * Connectors holding a connection (SFTP) reuse it between open() and close(); without open()
   * each deliver() connects and disconnects on its own. open() never throws: a failure comes
   * back as a result so the push job can skip the batch for this connector.
   */
  open?(): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

/** A predicate for a connector's topic globs (topics hold no `/`, so `erp.*` also takes `erp.a.b`). */
export function topicMatcher(globs: string[]): (topic: string) => boolean {
  const matchers = globs.map((g) => picomatch(g, { dot: true }));
  return (topic) => matchers.some((m) => m(topic));
}

/** The connectors a message of this topic goes to, in configuration order. */
export function connectorsFor<C extends Pick<Connector, 'topics'>>(connectors: C[], topic: string): C[] {
  return connectors.filter((c) => topicMatcher(c.topics)(topic));
}

// ---------------------------------------------------------------------------
// HTTP outcome rules.

/** 408 Request Timeout, 425 Too Early, 429 Too Many Requests and 5xx are worth retrying. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/** Reads at most `max` characters of a response body (for error messages), then lets it go. */
export async function bodySnippet(res: Response, max = 300): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < max) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // A body that fails mid-read does not change the outcome already known from the status.
  } finally {
    reader.cancel().catch(() => undefined);
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A failed HTTP response as a delivery result. */
export async function httpFailure(res: Response, what: string, now: number): Promise<DeliveryResult> {
  const snippet = await bodySnippet(res);
  const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.status >= 300 && res.status < 400) {
    return {
      ok: false,
      retryable: false,
      error: `${what}: ${status}: redirect to ${res.headers.get('location') ?? '(no location)'} not followed (a POST must not be redirected; fix the URL)`,
    };
  }
  const retryable = isRetryableStatus(res.status);
  const retryAfterMs = retryable ? parseRetryAfter(res.headers.get('retry-after'), now) : undefined;
  return {
    ok: false,
    retryable,
    error: `${what}: ${status}${snippet ? `: ${snippet}` : ''}`,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** fetch() threw: timeout, refused connection, DNS, TLS. All transient from our side. */
export function fetchFailure(err: unknown, what: string, timeoutMs: number): DeliveryResult {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { ok: false, retryable: true, error: `${what}: no response within ${timeoutMs} ms` };
  }
  const cause = e?.cause ? [e.cause.code, e.cause.message].filter(Boolean).join(' ') : '';
  return { ok: false, retryable: true, error: `${what}: network error: ${cause || e?.message || String(err)}` };
}

/** True for loopback hosts, where plain http/SMTP cannot be sniffed on a network. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
