// A real HTTP receiver on loopback standing in for the ERP/QMS: it records every request and
// stores each message once per Idempotency-Key, as a receiver that dedups at-least-once delivery
// does. Tests script failures per request.

import type { ServerResponse } from 'node:http';
import { startHttpServer, type Recorded, type TestServer } from '../../outbound/helpers.js';

export interface Receiver {
  url: string;
  /** Every Idempotency-Key received, in order (repeats included). */
  seen: string[];
  /** Stored messages by key, in first-arrival order. */
  stored: Map<string, { topic: string; key: string; body: Record<string, unknown> }>;
  /** Decides the answer to the n-th request (1-based) carrying this key; default 200. */
  answer: (key: string, nth: number, req: Recorded, res: ServerResponse) => 'ok' | number | 'hold';
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const server: TestServer = await startHttpServer();
  const counts = new Map<string, number>();
  const r: Receiver = {
    url: server.url,
    seen: [],
    stored: new Map(),
    answer: () => 'ok',
    requests: server.requests,
    close: () => server.close(),
  };
  server.respond = (req, res) => {
    const key = String(req.headers['idempotency-key'] ?? '');
    const nth = (counts.get(key) ?? 0) + 1;
    counts.set(key, nth);
    r.seen.push(key);
    const a = r.answer(key, nth, req, res);
    if (a === 'hold') return; // never answered: the test ends the sender
    if (a !== 'ok') {
      res.writeHead(a, { 'content-type': 'text/plain' });
      res.end(`scripted failure ${a}`);
      return;
    }
    if (!r.stored.has(key)) {
      const body = JSON.parse(req.body) as { topic: string; key: string };
      r.stored.set(key, { topic: body.topic, key: body.key, body: body as unknown as Record<string, unknown> });
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  };
  return r;
}

export function httpConnector(name: string, url: string, topics: string[], extra: Record<string, unknown> = {}) {
  return { name, type: 'http', url, topics, backoffMs: 1000, maxBackoffMs: 4000, maxAttempts: 5, timeoutMs: 5000, ...extra };
}
