import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpConnector } from '../../pipeline/outbound/connectors/http.js';
import { OutboundConfigError } from '../../pipeline/outbound/errors.js';
import { lotReadinessMessage } from '../../pipeline/outbound/messages.js';
import { AT, blocked, LOT, startHttpServer, type TestServer } from './helpers.js';

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
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"accepted":true}');
  };
});

const msg = lotReadinessMessage(LOT, blocked(), AT);
const env = { ERP_TOKEN: 'tok-123', ERP_USER: 'lotgate', ERP_PASS: 'p:ss wörd' };

function connector(over: Record<string, unknown> = {}) {
  return createHttpConnector(
    { name: 'erp-http', type: 'http', url: `${server.url}/api/lots?client=7`, topics: ['erp.*'], auth: { type: 'bearer', tokenEnv: 'ERP_TOKEN' }, ...over },
    env,
  );
}

describe('HTTP connector', () => {
  it('POSTs the message as JSON with the idempotency key, topic and bearer token', async () => {
    const result = await connector().deliver(msg);
    expect(result).toEqual({ ok: true });
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/api/lots?client=7');
    expect(req.headers['idempotency-key']).toBe(msg.id);
    expect(req.headers['x-lotgate-topic']).toBe('erp.lot_readiness');
    expect(req.headers['x-lotgate-key']).toBe(encodeURIComponent(msg.key));
    expect(req.headers.authorization).toBe('Bearer tok-123');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(req.body)).toEqual(msg);
  });

  it('sends the same idempotency key when a message is delivered again', async () => {
    const c = connector();
    await c.deliver(msg);
    await c.deliver(JSON.parse(JSON.stringify(msg)));
    expect(server.requests.map((r) => r.headers['idempotency-key'])).toEqual([msg.id, msg.id]);
  });

  it('uses basic auth and API-key headers from the environment', async () => {
    await connector({ auth: { type: 'basic', userEnv: 'ERP_USER', passwordEnv: 'ERP_PASS' } }).deliver(msg);
    expect(server.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('lotgate:p:ss wörd').toString('base64')}`);
    await connector({ auth: { type: 'header', header: 'X-API-Key', valueEnv: 'ERP_TOKEN' } }).deliver(msg);
    expect(server.requests[1].headers['x-api-key']).toBe('tok-123');
    expect(server.requests[1].headers.authorization).toBeUndefined();
  });

  it('treats 503 as retryable and passes on Retry-After', async () => {
    server.respond = (_req, res) => {
      res.writeHead(503, { 'retry-after': '120' });
      res.end('maintenance window');
    };
    const result = await connector().deliver(msg);
    expect(result).toEqual({ ok: false, retryable: true, retryAfterMs: 120_000, error: expect.stringMatching(/HTTP 503.*maintenance window/) });
  });

  it.each([408, 425, 429, 500, 502])('treats %i as retryable', async (status) => {
    server.respond = (_req, res) => {
      res.writeHead(status);
      res.end();
    };
    expect(await connector().deliver(msg)).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining(`HTTP ${status}`) });
  });

  it('treats 400 as refused (dead at once) and reports what the receiver said', async () => {
    server.respond = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'unknown material 000100234' }));
    };
    const result = await connector().deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(/erp-http \(127\.0\.0\.1:\d+\): HTTP 400 Bad Request: .*unknown material 000100234/);
    expect(result.ok === false && result.error).not.toContain('client=7');
  });

  it.each([401, 403, 404, 409, 422])('treats %i as not retryable', async (status) => {
    server.respond = (_req, res) => {
      res.writeHead(status);
      res.end();
    };
    expect(await connector().deliver(msg)).toMatchObject({ ok: false, retryable: false });
  });

  it('does not follow a redirect with the POST', async () => {
    server.respond = (req, res) => {
      if (req.url === '/elsewhere') {
        res.writeHead(200);
        res.end();
        return;
      }
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    };
    const result = await connector().deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('redirect to /elsewhere not followed') });
    expect(server.requests).toHaveLength(1);
  });

  it('treats a timeout as retryable', async () => {
    server.respond = () => {
      /* never answers */
    };
    const result = await connector({ timeoutMs: 150 }).deliver(msg);
    expect(result).toEqual({ ok: false, retryable: true, error: expect.stringContaining('no response within 150 ms') });
  });

  it('treats a refused connection as retryable', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const result = await connector({ url: `http://127.0.0.1:${port}/x` }).deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/network error: .*ECONNREFUSED/) });
  });

  it('fails at construction, naming the variable, when a secret is missing from the environment', () => {
    try {
      createHttpConnector({ name: 'erp-http', type: 'http', url: 'https://erp.example.com/x', topics: ['erp.*'], auth: { type: 'basic', userEnv: 'ERP_USER', passwordEnv: 'NOPE_PASS' } }, { ERP_USER: 'u' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(OutboundConfigError);
      const e = err as OutboundConfigError;
      expect(e.problems).toEqual([
        { code: 'E_CONFIG_ENV_MISSING', path: 'connector "erp-http".auth.passwordEnv', message: expect.stringContaining('NOPE_PASS is not set') },
      ]);
      expect(e.message).toContain('NOPE_PASS');
    }
    expect(() => createHttpConnector({ name: 'x', type: 'http', url: 'https://e/x', topics: ['*'], auth: { type: 'bearer', tokenEnv: 'ERP_TOKEN' } }, { ERP_TOKEN: '' })).toThrow(/ERP_TOKEN is not set/);
  });

  it('refuses to send credentials over plain http to another host, and bad URLs', () => {
    expect(() => createHttpConnector({ name: 'x', type: 'http', url: 'http://erp.example.com/x', topics: ['*'], auth: { type: 'bearer', tokenEnv: 'ERP_TOKEN' } }, env)).toThrow(
      /clear text to erp\.example\.com/,
    );
    expect(() =>
      createHttpConnector({ name: 'x', type: 'http', url: 'http://erp.example.com/x', topics: ['*'], auth: { type: 'bearer', tokenEnv: 'ERP_TOKEN' }, allowInsecureHttp: true }, env),
    ).not.toThrow();
    expect(() => createHttpConnector({ name: 'x', type: 'http', url: 'ftp://erp/x', topics: ['*'] }, env)).toThrow(/http\(s\) URL/);
    expect(() => createHttpConnector({ name: 'x', type: 'http', url: 'not a url', topics: ['*'] }, env)).toThrow(/not a valid URL/);
  });
});
