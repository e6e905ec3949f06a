// The client matrix: real SFTP clients from Debian packages against a running lotgate (drop
// zone + intake + workers, private Redis). Each client uploads a results file into inbound/
// (changing into it where the client has a cd), lists, uploads another from the home without
// naming inbound/, and downloads the acknowledgment lotgate wrote.
// A client is skipped, with the reason in the test name, only when its binary is missing.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import { startServer, type RunningServer } from '../../pipeline/runtime/server.js';
import { testLog } from '../runtime/helpers/log.js';
import { startTestRedis, type TestRedis } from '../runtime/helpers/redis.js';
import { until } from '../runtime/helpers/wait.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';
import { sshKeygen, type KeyPair } from './helpers.js';
import { curlUrl, missing, runCurl, runLftp, runOpenssh, runPython, runRclone, type ClientRun } from './clients.js';

const PARTNER = 'lab-a';
const LOT = 'L-MATRIX-1';

interface MatrixClient {
  name: string;
  /** Why it cannot run here, or null. */
  missing: string | null;
  /** Upload `local` into inbound/ as `remote`, changing into inbound/ where the client can, and list it. */
  upload(local: string, remote: string): Promise<ClientRun>;
  /** Upload `local` as `remote` from the home folder, without naming inbound/ (`put file.csv`). */
  uploadHome(local: string, remote: string): Promise<ClientRun>;
  /** Change into outbound/ (or address it), list it, download `ack` to `dest`. */
  fetchAck(ack: string, dest: string): Promise<ClientRun>;
}

let redis: TestRedis;
let w: World;
let server: RunningServer;
let reader: Lotgate;
let key: KeyPair;
let port = 0;
let local: string;

const PARAMIKO_UPLOAD = `
import sys, paramiko
port, key, user, src, name, folder = sys.argv[1:7]
t = paramiko.Transport(('127.0.0.1', int(port)))
t.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
if folder:
    s.chdir(folder)
attrs = s.put(src, name, confirm=True)  # confirm: stat the remote file and compare sizes
print('uploaded', attrs.st_size)
print('cwd', s.getcwd() or s.normalize('.'))
print('\\n'.join(s.listdir('.')))
s.close(); t.close()
`;

const PARAMIKO_FETCH = `
import sys, paramiko
port, key, user, ack, dest = sys.argv[1:6]
t = paramiko.Transport(('127.0.0.1', int(port)))
t.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
s.chdir('outbound')
print('\\n'.join(s.listdir('.')))
s.get(ack, dest)
s.close(); t.close()
`;

function clients(): MatrixClient[] {
  const k = () => key.privatePath;
  // The host key pinned by its SHA256 fingerprint, as docs/partners.md tells partners to do.
  const curl = (args: string[]) => runCurl(port, k(), PARTNER, args, local, server.sftp!.hostKeyFingerprint);
  return [
    {
      name: 'OpenSSH sftp',
      missing: missing('/usr/bin/sftp'),
      upload: (src, remote) => runOpenssh(port, k(), PARTNER, ['cd inbound', `put ${src} ${remote}`, 'ls -l'], local),
      uploadHome: (src, remote) => runOpenssh(port, k(), PARTNER, [`put ${src} ${remote}`], local),
      fetchAck: (ack, dest) => runOpenssh(port, k(), PARTNER, ['cd outbound', 'ls -l', `get ${ack} ${dest}`], local),
    },
    {
      name: 'lftp',
      missing: missing('/usr/bin/lftp'),
      upload: (src, remote) => runLftp(port, k(), PARTNER, ['cd inbound', `put ${src} -o ${remote}`, 'cls -l'], local),
      uploadHome: (src, remote) => runLftp(port, k(), PARTNER, [`put ${src} -o ${remote}`], local),
      fetchAck: (ack, dest) => runLftp(port, k(), PARTNER, ['cd outbound', 'cls -1', `get ${ack} -o ${dest}`], local),
    },
    {
      name: 'curl (libssh2)',
      missing: curlMissing(),
      // curl has no cd: `~/` is the home (REALPATH of "."), then one listing per directory URL.
      upload: async (src, remote) => joined([await curl(['-T', src, curlUrl(port, `/~/inbound/${remote}`)]), await curl([curlUrl(port, '/~/inbound/')])]),
      uploadHome: (src, remote) => curl(['-T', src, curlUrl(port, `/~/${remote}`)]),
      fetchAck: async (ack, dest) => joined([await curl([curlUrl(port, '/outbound/')]), await curl(['-o', dest, curlUrl(port, `/outbound/${ack}`)])]),
    },
    {
      name: 'rclone (sftp backend)',
      missing: missing('/usr/bin/rclone'),
      upload: async (src, remote) => joined([await runRclone(port, k(), PARTNER, ['copyto', src, `lg:inbound/${remote}`], local), await runRclone(port, k(), PARTNER, ['lsf', 'lg:inbound'], local)]),
      uploadHome: (src, remote) => runRclone(port, k(), PARTNER, ['copyto', src, `lg:${remote}`], local),
      fetchAck: async (ack, dest) => joined([await runRclone(port, k(), PARTNER, ['lsf', 'lg:outbound'], local), await runRclone(port, k(), PARTNER, ['copyto', `lg:outbound/${ack}`, dest], local)]),
    },
    {
      name: 'Python paramiko',
      missing: missing('/usr/bin/python3', ['-c', 'import paramiko']),
      upload: (src, remote) => runPython(PARAMIKO_UPLOAD, [String(port), k(), PARTNER, src, remote, 'inbound'], local),
      uploadHome: (src, remote) => runPython(PARAMIKO_UPLOAD, [String(port), k(), PARTNER, src, remote, ''], local),
      fetchAck: (ack, dest) => runPython(PARAMIKO_FETCH, [String(port), k(), PARTNER, ack, dest], local),
    },
  ];
}

/** Debian's curl speaks sftp:// through libssh2; a curl built without it cannot take part. */
function curlMissing(): string | null {
  const why = missing('/usr/bin/curl', ['-V']);
  if (why) return why;
  const protocols = /^Protocols: (.*)$/m.exec(spawnSync('/usr/bin/curl', ['-V'], { encoding: 'utf8' }).stdout)?.[1] ?? '';
  return protocols.split(' ').includes('sftp') ? null : 'this curl was built without sftp';
}

function joined(runs: ClientRun[]): ClientRun {
  const failed = runs.find((r) => r.code !== 0);
  return { code: failed ? failed.code : 0, stdout: runs.map((r) => r.stdout).join(''), stderr: runs.map((r) => r.stderr).join('') };
}

function ackNameOf(name: string): string | undefined {
  const dir = w.outbound(PARTNER);
  if (!existsSync(dir)) return undefined;
  const acks = readdirSync(dir).filter((n) => n.startsWith(name) && n.endsWith('.ack.json'));
  return acks.includes(`${name}.ack.json`) ? `${name}.ack.json` : acks.sort()[0];
}

beforeAll(async () => {
  redis = await startTestRedis();
  w = makeWorld({ labs: [PARTNER] });
  key = sshKeygen(w.dir, 'lab_key');
  // The partner file gets its key now that it exists.
  const partnerFile = path.join(w.dir, 'partners', `${PARTNER}.yaml`);
  writeFileSync(partnerFile, readFileSync(partnerFile, 'utf8') + ['sftp:', '  publicKeys:', `    - ${JSON.stringify(key.publicLine)}`, ''].join('\n'));
  local = path.join(w.dir, 'client');
  mkdirSync(local);
  server = await startServer({ config: w.config, roles: ['sftp', 'intake', 'worker'], log: testLog(), env: { REDIS_URL: redis.url, LOTGATE_QUEUE_PREFIX: `matrix-${process.pid}` }, sftpPort: 0, reconcile: { stagedGraceMs: 0 } });
  port = server.sftp!.port;
  reader = await createLotgate(w.config, { log: testLog() });
  mkdirSync(w.inbound('erp'), { recursive: true });
  writeFileSync(path.join(w.inbound('erp'), 'LOTS_seed.csv'), lotsCsv([LOT]));
  await until(async () => (await reader.store.ledger.listSubmissions({ partner: 'erp', limit: 10 })).find((s) => s.state === 'applied'), 'the ERP lot to be applied', 60_000);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await reader?.close();
  await redis?.stop();
  w?.cleanup();
});

describe('SFTP client matrix against a running lotgate', () => {
  clients().forEach((c, i) => {
    it.skipIf(c.missing)(`${c.name}: upload into inbound/, cd, ls, get the acknowledgment${c.missing ? ` — skipped: ${c.missing}` : ''}`, async () => {
      const slug = c.name.split(' ')[0].replace(/\W/g, '').toLowerCase();
      const name = `RESULTS_${slug}.csv`;
      const src = path.join(local, `${slug}-local.csv`);
      writeFileSync(src, resultsCsv(LOT, 3, 100 * (i + 1)));

      const up = await c.upload(src, name);
      expect(up.code, `${c.name} upload failed:\n${up.stderr}`).toBe(0);
      if (c.name === 'Python paramiko') expect(up.stdout).toContain('cwd /inbound');

      // `put file.csv` from the home, without inbound/: a partner's everyday shortcut.
      const homeName = `RESULTS_${slug}_home.csv`;
      const homeSrc = path.join(local, `${slug}-home-local.csv`);
      writeFileSync(homeSrc, resultsCsv(LOT, 2, 100 * (i + 1) + 50));
      const home = await c.uploadHome(homeSrc, homeName);
      expect(home.code, `${c.name} upload from the home failed:\n${home.stderr}`).toBe(0);

      const ack = await until(() => ackNameOf(name), `the acknowledgment of ${name}`, 60_000);
      const homeAck = JSON.parse(readFileSync(path.join(w.outbound(PARTNER), await until(() => ackNameOf(homeName), `the acknowledgment of ${homeName}`, 60_000)), 'utf8'));
      expect(homeAck).toMatchObject({ file: homeName, state: 'applied', counts: { rows: 2, applied: 2 } });
      const dest = path.join(local, `${slug}.ack.json`);
      const got = await c.fetchAck(ack, dest);
      expect(got.code, `${c.name} download failed:\n${got.stderr}`).toBe(0);
      expect(got.stdout).toContain(ack);
      const bytes = readFileSync(dest);
      expect(bytes.equals(readFileSync(path.join(w.outbound(PARTNER), ack)))).toBe(true);
      const parsed = JSON.parse(bytes.toString('utf8'));
      expect(parsed).toMatchObject({ file: name, state: 'applied' });
      expect(parsed.counts).toMatchObject({ rows: 3, applied: 3 });
    }, 90_000);
  });

  const noCurl = curlMissing();
  it.skipIf(noCurl)(`curl: a wrong pinned host key is refused before anything is sent${noCurl ? ` — skipped: ${noCurl}` : ''}`, async () => {
    const wrong = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const r = await runCurl(port, key.privatePath, PARTNER, [curlUrl(port, '/outbound/')], local, wrong);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/fingerprint|host key|hostkey/i);
  });
});
