import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWatcher, type InboundWatcher } from '../../pipeline/intake/watcher.js';
import { testLog } from '../runtime/helpers/log.js';

let drop: string;
let watcher: InboundWatcher | null;
let seen: { partner: string; path: string; size: number }[];

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(async () => {
  drop = mkdtempSync(path.join(os.tmpdir(), 'lotgate-watch-'));
  mkdirSync(path.join(drop, 'lab-a', 'inbound'), { recursive: true });
  seen = [];
  watcher = startWatcher({
    dropDir: drop,
    stableMs: 300,
    log: testLog(),
    onFile: async (f) => {
      seen.push({ ...f, size: statSync(f.path).size });
    },
  });
  await watcher.ready;
});

afterEach(async () => {
  await watcher?.close();
  rmSync(drop, { recursive: true, force: true });
});

describe('inbound watcher', () => {
  it('reports a file written slowly in chunks once, when it is complete', async () => {
    const file = path.join(drop, 'lab-a', 'inbound', 'RESULTS_slow.csv');
    const chunk = 'L1,000000000010012345,S-1,ASSAY,99.1\n'.repeat(200);
    writeFileSync(file, 'Lot,Material,Sample,Test,Value\n');
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 80));
      appendFileSync(file, chunk);
    }
    const full = statSync(file).size;
    await until(() => seen.length > 0, 'the file to be reported');
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toEqual([{ partner: 'lab-a', path: file, size: full }]);
  });

  it('picks up partner folders created after it started', async () => {
    const inbound = path.join(drop, 'new-lab', 'inbound');
    mkdirSync(inbound, { recursive: true });
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(path.join(inbound, 'RESULTS_1.csv'), 'x\n');
    await until(() => seen.length > 0, 'the new partner folder to be watched');
    expect(seen.map((s) => s.partner)).toEqual(['new-lab']);
  });

  it('ignores outbound/, staging folders and nested folders', async () => {
    for (const dir of ['outbound', '.intake', '.quarantine', path.join('inbound', 'sub')]) {
      mkdirSync(path.join(drop, 'lab-a', dir), { recursive: true });
      writeFileSync(path.join(drop, 'lab-a', dir, 'RESULTS_x.csv'), 'x\n');
    }
    writeFileSync(path.join(drop, 'lab-a', 'inbound', 'RESULTS_ok.csv'), 'x\n');
    await until(() => seen.length > 0, 'the inbound file');
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.map((s) => path.relative(drop, s.path))).toEqual([path.join('lab-a', 'inbound', 'RESULTS_ok.csv')]);
  });
});
