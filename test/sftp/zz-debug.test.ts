import { it, expect } from 'vitest';
import { connect as netConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startZone, partner, tempDir } from './helpers.js';
it('grace', async () => {
  const h = await startZone({ dir: tempDir(), loginGraceMs: 300, partners: new Map() });
  for (const junk of [null, randomBytes(64 * 1024), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) {
  const sock = netConnect(h.port, '127.0.0.1');
  sock.on('data', (d) => console.log('data', d.length));
  sock.on('error', (e) => console.log('err', e));
  sock.on('end', () => console.log('end'));
  if (junk) sock.write(junk);
  const t0 = Date.now();
  await new Promise<void>((resolve) => sock.once('close', () => resolve()));
  console.log('closed after', Date.now() - t0, h.audit.map(a => a.action), h.zone.connections());
  }
  await h.close();
}, 10000);
