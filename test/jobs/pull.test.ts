// The pull job against a real OpenSSH SFTP server on loopback (internal-sftp): fetched once,
// registered as source 'pull' and applied through the same intake; done-marker and stable-size
// rules; after: move; a crash half-way through a fetch (a killed process) and a crash after
// registration are recovered without registering the file twice.

import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startSshd } from '../outbound/sshd.js';
import { closeWorlds, FIXTURES, makeWorld, ROOT, type World } from './helpers/world.js';

const started = await startSshd();
if (!started.ok) console.warn(`[pull] skipping the tests against a real SFTP server: ${started.why}`);

describe.skipIf(!started.ok)('pull from a partner’s SFTP server', () => {
  const sshd = started.ok ? started.sshd : (null as never);
  let n = 0;
  afterAll(async () => {
    await sshd.stop();
  });
  afterEach(() => closeWorlds());

  function remoteDir(): string {
    const dir = path.join(sshd.dir, 'remote', `acme-${++n}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  const pullCfg = (folder: string, extra: Record<string, unknown> = {}) => ({
    host: '127.0.0.1',
    port: sshd.port,
    user: sshd.user,
    keyPath: sshd.clientKeyPath,
    hostFingerprint: sshd.hostFingerprint,
    folder,
    pattern: ['*.csv', '*.pdf'],
    ...extra,
  });
  const put = (folder: string, name: string, as = name) => copyFileSync(path.join(FIXTURES, 'acme-cmo', name), path.join(folder, as));
  const pulled = async (w: World) => (await w.lg.store.ledger.listSubmissions({ partner: 'acme-cmo', limit: 100 })).filter((s) => s.source === 'pull');

  async function world(folder: string, extra: Record<string, unknown> = {}): Promise<World> {
    const w = await makeWorld({ partners: { 'acme-cmo': { pull: pullCfg(folder, extra) } } });
    await w.ingest('erp');
    return w;
  }

  it('fetches a file once its done marker is there, applies it, moves it away, and never fetches it again', async () => {
    const folder = remoteDir();
    const w = await world(folder, { doneMarker: '.done', after: 'move' });
    put(folder, 'Abweichungen_20261119.csv');
    writeFileSync(path.join(folder, 'Abweichungen_20261119.csv.done'), '');
    put(folder, 'Chargenstatus_20261119.csv'); // no marker yet: still being written
    writeFileSync(path.join(folder, 'notes.txt'), 'not a pattern match');

    const r1 = await w.run('pull');
    expect(r1).toMatchObject({ status: 'ok', counts: { partners: 1, fetched: 1, waiting: 1 } });
    expect((await pulled(w)).map((s) => [s.originalName, s.state])).toEqual([['Abweichungen_20261119.csv', 'applied']]);
    expect(readdirSync(folder).sort()).toEqual(['Chargenstatus_20261119.csv', 'notes.txt', 'processed']);
    expect(readdirSync(path.join(folder, 'processed')).sort()).toEqual(['Abweichungen_20261119.csv', 'Abweichungen_20261119.csv.done']);
    // Applied like an upload: the acknowledgment is in the partner's outbound folder.
    expect(existsSync(path.join(w.config.dropDir, 'acme-cmo', 'outbound', 'Abweichungen_20261119.csv.ack.json'))).toBe(true);

    writeFileSync(path.join(folder, 'Chargenstatus_20261119.csv.done'), '');
    const r2 = await w.run('pull');
    expect(r2).toMatchObject({ counts: { fetched: 1, waiting: 0 } });
    expect((await pulled(w)).map((s) => s.originalName).sort()).toEqual(['Abweichungen_20261119.csv', 'Chargenstatus_20261119.csv']);

    // Both files were moved away: nothing left to fetch.
    const r3 = await w.run('pull');
    expect(r3).toMatchObject({ counts: { fetched: 0, listed: 0 } });
    expect(await pulled(w)).toHaveLength(2);
  });

  it('waits for a file to hold still (stable size), fetches it once with after: leave, and fetches a changed file again', async () => {
    const folder = remoteDir();
    const w = await world(folder, { stableSeconds: 60 });
    put(folder, 'Abweichungen_20261119.csv');
    expect(await w.run('pull')).toMatchObject({ counts: { fetched: 0, waiting: 1 } });
    w.clock.advance(30_000);
    expect(await w.run('pull')).toMatchObject({ counts: { fetched: 0, waiting: 1 } });
    w.clock.advance(31_000);
    expect(await w.run('pull')).toMatchObject({ counts: { fetched: 1 } });
    expect(await w.run('pull')).toMatchObject({ counts: { fetched: 0, alreadyFetched: 1 } });
    expect(readdirSync(folder)).toEqual(['Abweichungen_20261119.csv']); // leave
    expect(await pulled(w)).toHaveLength(1);

    // The partner rewrites the file (one more line): a new remote file, fetched once it is stable.
    appendFileSync(path.join(folder, 'Abweichungen_20261119.csv'), '\r\n');
    expect(await w.run('pull')).toMatchObject({ counts: { fetched: 0, waiting: 1 } });
    w.clock.advance(61_000);
    const again = await w.run('pull');
    expect(again.status === 'busy' ? null : again.error).toBeNull();
    expect(again).toMatchObject({ counts: { fetched: 1 } });
    expect(await pulled(w)).toHaveLength(2);
  });

  it('puts pulled files on the partner queue when a queue runs', async () => {
    const folder = remoteDir();
    const w = await world(folder, { doneMarker: '.ok', after: 'delete' });
    put(folder, 'COA_AC-24117_v1.pdf');
    writeFileSync(path.join(folder, 'COA_AC-24117_v1.pdf.ok'), '');
    const queued: [string, number][] = [];
    const r = await w.run('pull', {}, { enqueue: async (p, id) => void queued.push([p, id]) });
    expect(r.status === 'busy' ? null : r.error).toBeNull();
    expect(r).toMatchObject({ counts: { fetched: 1 } });
    expect(queued).toEqual([['acme-cmo', (await pulled(w))[0].id]]);
    expect((await pulled(w))[0].state).toBe('received'); // the workers apply it
    expect(readdirSync(folder)).toEqual([]); // after: delete, marker included
  });

  it('fetches again after a process was killed half-way through a download, and registers the file once', async () => {
    const folder = remoteDir();
    const w = await world(folder, { doneMarker: '.done' });
    put(folder, 'Chargenstatus_20261119.csv');
    writeFileSync(path.join(folder, 'Chargenstatus_20261119.csv.done'), '');
    const child = spawn(process.execPath, ['--import', path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs'), path.join(ROOT, 'test/jobs/helpers/pull-crash-child.ts'), w.configPath, 'pull:after-download'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_c, s) => r(s)));
    expect(signal, out).toBe('SIGKILL');
    expect(out).toContain('crashing at pull:after-download');
    // What the crash left: a half-written temp file, a fetch marked as started, nothing in the ledger.
    const tmpDir = path.join(w.config.dataDir, 'pull', 'acme-cmo');
    expect(readdirSync(tmpDir).filter((f) => f.endsWith('.part'))).toHaveLength(1);
    expect((await w.lg.store.pulls.listPulledFiles({ partner: 'acme-cmo' })).map((r) => r.state)).toEqual(['fetching']);
    expect(await pulled(w)).toEqual([]);

    // The dead process's lease runs out first; then the next run recovers.
    expect(await w.run('pull')).toMatchObject({ status: 'busy' });
    w.clock.advance(130_000);
    const r = await w.run('pull');
    expect(r).toMatchObject({ status: 'ok', counts: { fetched: 1, recovered: 1 } });
    expect((await pulled(w)).map((s) => [s.originalName, s.state])).toEqual([['Chargenstatus_20261119.csv', 'applied_with_errors']]);
    expect(readdirSync(tmpDir).filter((f) => f.endsWith('.part'))).toEqual([]);
    expect(await w.lg.store.pulls.listPulledFiles({ partner: 'acme-cmo' })).toEqual([expect.objectContaining({ state: 'fetched', submissionId: (await pulled(w))[0].id })]);
    expect(await w.run('pull')).toMatchObject({ counts: { fetched: 0, alreadyFetched: 1 } });
    expect(await pulled(w)).toHaveLength(1);
  });

  it('does not register a file twice when the crash came after registration', async () => {
    const folder = remoteDir();
    const w = await world(folder, { doneMarker: '.done' });
    put(folder, 'Abweichungen_20261119.csv');
    writeFileSync(path.join(folder, 'Abweichungen_20261119.csv.done'), '');
    const crashed = await w.run('pull', {
      crashPoint: (name) => {
        if (name === 'pull:after-register') throw new Error('simulated crash after registration');
      },
    });
    expect(crashed).toMatchObject({ status: 'error', error: expect.stringContaining('simulated crash after registration') });
    expect(await pulled(w)).toHaveLength(1);
    expect((await w.lg.store.pulls.listPulledFiles({ partner: 'acme-cmo' }))[0].state).toBe('fetching');

    const r = await w.run('pull');
    expect(r).toMatchObject({ status: 'ok', counts: { fetched: 1, recovered: 1 } });
    const subs = await pulled(w);
    expect(subs).toHaveLength(1);
    expect(subs[0].state).toBe('applied');
    expect((await w.lg.store.pulls.listPulledFiles({ partner: 'acme-cmo' }))[0]).toMatchObject({ state: 'fetched', submissionId: subs[0].id });
  });

  it('refuses a server whose host key is not the configured one, and still pulls from the other partners', async () => {
    const good = remoteDir();
    const bad = remoteDir();
    const w = await makeWorld({
      partners: {
        'acme-cmo': { pull: pullCfg(good, { doneMarker: '.done' }) },
        'bravo-lab': { pull: pullCfg(bad, { hostFingerprint: `SHA256:${'A'.repeat(43)}` }) },
        'delta-cmo': { pull: { host: '127.0.0.1', user: 'x', folder: '/in', password: 'inline' } },
      },
    });
    await w.ingest('erp');
    put(good, 'Abweichungen_20261119.csv');
    writeFileSync(path.join(good, 'Abweichungen_20261119.csv.done'), '');
    copyFileSync(path.join(FIXTURES, 'bravo-lab', 'LIMS_SUMMARY_20261118.csv'), path.join(bad, 'LIMS_SUMMARY_20261118.csv'));
    const r = await w.run('pull');
    expect(r.status).toBe('error');
    expect(r).toMatchObject({ counts: { partners: 2, fetched: 1 } });
    const error = r.status === 'busy' ? '' : r.error ?? '';
    expect(error).toContain(`bravo-lab: sftp://${sshd.user}@127.0.0.1:${sshd.port}: host key ${sshd.hostFingerprint} is not one of the configured hostFingerprint values`);
    expect(error).toContain('delta-cmo.yaml: pull.password: secrets are never written in partner files');
    expect(await pulled(w)).toHaveLength(1);
    expect(await w.lg.store.ledger.listSubmissions({ partner: 'bravo-lab' })).toEqual([]);
  });
});
