// A real crash between a file's commit and its readiness step: a child process ingests a file and
// is killed with SIGKILL at the `readiness` crash point (after the commit and the acknowledgment,
// before the touched lots are recomputed). The file stays applied and acknowledged, its lots stay
// marked dirty (shown as recomputing); after a restart (`lotgate readiness recompute` in a new
// process) every touched lot is recomputed exactly once — one audit event and one readiness
// message per change, caused by the submission — and running it again changes nothing.

import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { spawnLotgate } from '../jobs/helpers/child.js';
import { testLog } from '../runtime/helpers/log.js';
import { ROOT } from '../jobs/helpers/world.js';
import { lotsCsv, makeWorld, MATERIAL, type World } from '../runtime/helpers/world.js';

let w: World;
let lg: Lotgate | undefined;

afterEach(async () => {
  await lg?.close();
  lg = undefined;
  w?.cleanup();
});

function crashChild(partner: string, file: string): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  const child = spawn(process.execPath, ['--import', path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs'), path.join(ROOT, 'test/ingest/helpers/readiness-crash-child.ts'), w.configPath, partner, file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve({ signal, out })));
}

describe('SIGKILL between a file commit and its readiness step', () => {
  it('after restart every touched lot is recomputed exactly once', async () => {
    w = makeWorld();
    const lots = ['L1', 'L2', 'L3'];
    const file = path.join(w.dir, 'LOTS_1.csv');
    writeFileSync(file, lotsCsv(lots));

    const crashed = await crashChild('erp', file);
    expect(crashed.signal, crashed.out).toBe('SIGKILL');
    expect(crashed.out).toContain('crashing at readiness');

    lg = await createLotgate(w.config, { log: testLog() });
    const [sub] = await lg.store.ledger.listSubmissions({ partner: 'erp' });
    // The file is applied and acknowledged: the ack did not wait for readiness.
    expect(sub).toMatchObject({ state: 'applied', applied: 3, ackPending: false });
    expect(readdirSync(w.outbound('erp')).some((f) => f.includes('LOTS_1'))).toBe(true);
    // Its lots are marked, shown as recomputing, with no readiness and nothing audited or sent yet.
    const ids = (await lg.store.reads.listLots()).map((l) => l.lotId);
    expect(ids).toHaveLength(3);
    expect(await lg.store.readiness.countDirtyLots()).toBe(3);
    for (const id of ids) {
      expect(await lg.store.readiness.getReadiness(id)).toBeNull();
      expect(await lg.store.readiness.isLotDirty(id)).toBe(true);
    }
    expect(await lg.store.audit.listAudit({ action: 'lot.readiness_changed' })).toHaveLength(0);
    expect(await lg.store.outbox.listOutbox({ topic: 'erp.lot_readiness' })).toHaveLength(0);
    await lg.close();
    lg = undefined;

    // Restart: a new process recovers the markers.
    const restart = spawnLotgate(['--config', w.configPath, 'readiness', 'recompute', '--json']);
    const exited = await restart.exited;
    expect(exited.code, restart.stderr()).toBe(0);
    expect(JSON.parse(restart.stdout())).toMatchObject({ status: 'ok', counts: { dirtyLots: 3 } });

    lg = await createLotgate(w.config, { log: testLog() });
    expect(await lg.store.readiness.countDirtyLots()).toBe(0);
    const check = async () => {
      for (const lot of lots) {
        const events = await lg!.store.audit.listAudit({ subject: `lot:${MATERIAL}/${lot}`, action: 'lot.readiness_changed' });
        expect(events, lot).toHaveLength(1);
        expect(events[0].actor).toBe(`submission:${sub.id}`);
      }
      const msgs = await lg!.store.outbox.listOutbox({ topic: 'erp.lot_readiness' });
      expect(msgs).toHaveLength(3);
      expect(new Set(msgs.map((m) => m.key)).size).toBe(3);
      expect(msgs.every((m) => m.submissionId === sub.id)).toBe(true);
    };
    await check();
    for (const id of ids) expect(await lg.store.readiness.getReadiness(id)).not.toBeNull();

    // Another recovery (a second restart, the reconciler, the sweep) finds nothing to do.
    const again = spawnLotgate(['--config', w.configPath, 'readiness', 'recompute', '--json']);
    expect((await again.exited).code, again.stderr()).toBe(0);
    expect(JSON.parse(again.stdout())).toMatchObject({ status: 'ok', counts: { dirtyLots: 0, changed: 0 } });
    await check();
  }, 120_000);
});
