import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSftpConnector, type SftpClientLike, type SftpConnectorConfig } from '../../pipeline/outbound/connectors/sftp-push.js';
import { lotReadinessMessage } from '../../pipeline/outbound/messages.js';
import { renderMessage } from '../../pipeline/outbound/render/render.js';
import { AT, blocked, LOT, ready } from './helpers.js';
import { startSshd } from './sshd.js';

const started = await startSshd();
if (!started.ok) console.warn(`[sftp-push] skipping the tests against a real SFTP server: ${started.why}`);

const msg = lotReadinessMessage(LOT, blocked(), AT);

describe.skipIf(!started.ok)('SFTP push against OpenSSH', () => {
  const sshd = started.ok ? started.sshd : (null as never);
  let remote: string;

  afterAll(async () => {
    await sshd.stop();
  });
  beforeEach(() => {
    remote = path.join(sshd.dir, 'remote', `erp-${Math.random().toString(36).slice(2)}`);
    mkdirSync(remote, { recursive: true });
  });
  afterEach(() => {
    rmSync(remote, { recursive: true, force: true });
  });

  const cfg = (over: Partial<SftpConnectorConfig> = {}): SftpConnectorConfig => ({
    name: 'erp-sftp',
    type: 'sftp',
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    keyPath: sshd.clientKeyPath,
    dir: remote,
    format: 'csv',
    topics: ['erp.*'],
    hostFingerprints: [sshd.hostFingerprint],
    timeoutMs: 5000,
    ...over,
  });
  const accepted = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;

  it('uploads the rendered file under its final name, byte for byte, with no temp file left', async () => {
    const c = createSftpConnector(cfg(), {});
    expect(await c.deliver(msg)).toEqual({ ok: true });
    const expected = renderMessage(msg, 'csv');
    expect(readdirSync(remote)).toEqual([expected.name]);
    expect(readFileSync(path.join(remote, expected.name))).toEqual(expected.content);
  });

  it('reuses one connection for a batch between open() and close()', async () => {
    const c = createSftpConnector(cfg({ format: 'xml' }), {});
    const before = accepted();
    expect(await c.open()).toEqual({ ok: true });
    const batch = [msg, lotReadinessMessage({ ...LOT, lotNumber: 'L2' }, ready(), AT), lotReadinessMessage({ ...LOT, lotNumber: 'L3' }, ready(), AT)];
    for (const m of batch) expect(await c.deliver(m)).toEqual({ ok: true });
    await c.close();
    expect(accepted() - before).toBe(1);
    expect(readdirSync(remote).sort()).toEqual(batch.map((m) => renderMessage(m, 'xml').name).sort());
  });

  it('replaces the file when the same message is delivered again', async () => {
    const c = createSftpConnector(cfg({ format: 'json' }), {});
    await c.open();
    expect(await c.deliver(msg)).toEqual({ ok: true });
    expect(await c.deliver(msg)).toEqual({ ok: true });
    await c.close();
    expect(readdirSync(remote)).toEqual([renderMessage(msg, 'json').name]);
  });

  it('refuses a server whose host key does not match, and writes nothing', async () => {
    const c = createSftpConnector(cfg({ hostFingerprints: ['SHA256:' + 'A'.repeat(43)] }), {});
    const result = await c.deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining(`host key ${sshd.hostFingerprint} is not one of the configured hostFingerprints`) });
    expect(readdirSync(remote)).toEqual([]);
  });

  it('reports a missing remote folder as retryable', async () => {
    const c = createSftpConnector(cfg({ dir: path.join(remote, 'missing') }), {});
    const result = await c.deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining(renderMessage(msg, 'csv').name) });
    expect(readdirSync(remote)).toEqual([]);
  });

  it('reports a refused login from open() without throwing', async () => {
    const c = createSftpConnector(cfg({ user: 'nobody-here' }), {});
    const result = await c.open();
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('cannot connect') });
    await c.close();
  });
});

// The reconnect path needs a connection that dies between messages, which a double shows best.
describe('SFTP push connection handling', () => {
  function fakeClients(script: { failPut?: boolean }[]) {
    const made: { puts: string[]; renames: [string, string][]; ended: boolean; lost?: () => void }[] = [];
    const factory = (onLost: () => void): SftpClientLike => {
      const i = made.length;
      const rec = { puts: [] as string[], renames: [] as [string, string][], ended: false, lost: onLost };
      made.push(rec);
      const step = script[i] ?? {};
      return {
        connect: async () => undefined,
        put: async (_buf, p) => {
          if (step.failPut) {
            onLost();
            throw new Error('No SFTP connection');
          }
          rec.puts.push(p);
        },
        posixRename: async (a, b) => {
          rec.renames.push([a, b]);
        },
        rename: async () => undefined,
        exists: async () => false,
        delete: async () => undefined,
        end: async () => {
          rec.ended = true;
        },
      };
    };
    return { made, factory };
  }
  const base: SftpConnectorConfig = { name: 's', type: 'sftp', host: 'h', user: 'u', passwordEnv: 'PW', dir: '/in', format: 'json', topics: ['*'], allowUnknownHostKey: true };

  it('reconnects once when a connection kept for the batch has dropped', async () => {
    const { made, factory } = fakeClients([{}, {}]);
    const c = createSftpConnector(base, { PW: 'x' }, { clientFactory: factory });
    await c.open();
    expect(await c.deliver(msg)).toEqual({ ok: true });
    made[0].lost?.(); // server closed the idle connection
    expect(await c.deliver(lotReadinessMessage(LOT, ready(), AT))).toEqual({ ok: true });
    await c.close();
    expect(made).toHaveLength(2);
    expect(made[1].renames[0][1]).toMatch(/^\/in\/erp\.lot_readiness_.*\.json$/);
    expect(made[1].renames[0][0]).toMatch(/^\/in\/\.erp\.lot_readiness_.*\.json\.[0-9a-f]{12}\.part$/);
    expect(made.every((m) => m.ended)).toBe(true);
  });

  it('gives a stale connection one fresh try, then reports the failure', async () => {
    const { made, factory } = fakeClients([{}, { failPut: true }, { failPut: true }]);
    const c = createSftpConnector(base, { PW: 'x' }, { clientFactory: factory });
    await c.open();
    await c.deliver(msg);
    made[0].lost?.();
    const result = await c.deliver(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, error: expect.stringContaining('No SFTP connection') });
    await c.close();
  });

  it('connects and disconnects per message outside a batch', async () => {
    const { made, factory } = fakeClients([{}, {}]);
    const c = createSftpConnector(base, { PW: 'x' }, { clientFactory: factory });
    await Promise.all([c.deliver(msg), c.deliver(lotReadinessMessage(LOT, ready(), AT))]);
    expect(made.length).toBe(1);
    expect(made[0].ended).toBe(true);
    expect(made[0].puts).toHaveLength(2);
  });
});
