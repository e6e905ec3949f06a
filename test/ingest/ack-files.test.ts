// Acknowledgments are never overwritten: every submission keeps its own
// outbound/<name>.<submissionId>.ack.json (and .ack.csv); <name>.ack.json is a copy of the newest
// answer for that name. A `duplicate` ack points to the earlier submission and its ack file.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { ackFileName } from '../../pipeline/ingest/ack.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { closeWorlds, FIXTURES, makeWorld, type World } from '../jobs/helpers/world.js';
import { cleanup, partner, runSftp, sshKeygen, startZone, tempDir } from '../sftp/helpers.js';

afterEach(() => closeWorlds());

let n = 0;
/** Ingests `fixture`'s bytes as the partner's file `name`. */
async function upload(w: World, partnerId: string, fixture: string, name: string) {
  const dir = path.join(w.dir, 'uploads', `u${++n}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(FIXTURES, fixture), path.join(dir, name));
  return (await ingestFiles(w.lg, partnerId, [path.join(dir, name)]))[0];
}

const NAME = 'LIMS_EXPORT_20261118_0200.csv';
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('acknowledgment files', () => {
  it('keeps the ack of every upload of a fixed name; a duplicate ack points to the earlier submission and its ack', async () => {
    const w = await makeWorld();
    const out = path.join(w.config.dropDir, 'bravo-lab', 'outbound');
    // Before master data: every row rejected (unknown lot), listed in the ack.
    const first = await upload(w, 'bravo-lab', 'bravo-lab/LIMS_EXPORT_20261118_0200.csv', NAME);
    expect(first.state).toBe('rejected');
    expect(first.ackPath).toBe(path.join(out, `${NAME}.${first.submissionId}.ack.json`));
    expect(first.ack.ackFile).toBe(`${NAME}.${first.submissionId}.ack.json`);
    const firstAck = readFileSync(first.ackPath, 'utf8');
    await w.ingest('erp');
    // The next day's file with the same name (other content): its own ack; the first one stays.
    const second = await upload(w, 'bravo-lab', 'bad/LIMS_EXPORT_bad_date.csv', NAME);
    expect(second.state).toBe('applied_with_errors');
    expect(second.ackPath).not.toBe(first.ackPath);
    expect(readFileSync(first.ackPath, 'utf8')).toBe(firstAck);
    expect(readJson(first.ackPath).errors.length).toBeGreaterThan(0);
    expect(readJson(path.join(out, `${NAME}.ack.json`))).toMatchObject({ submissionId: second.submissionId, state: 'applied_with_errors' });
    expect(existsSync(path.join(out, `${NAME}.${first.submissionId}.ack.csv`))).toBe(true);
    expect(readFileSync(path.join(out, `${NAME}.ack.csv`), 'utf8')).toBe(readFileSync(path.join(out, `${NAME}.${second.submissionId}.ack.csv`), 'utf8'));

    // The same bytes again under another name: a duplicate that says where the answer is.
    const again = await upload(w, 'bravo-lab', 'bad/LIMS_EXPORT_bad_date.csv', 'LIMS_EXPORT_20261119_0200.csv');
    expect(again.state).toBe('duplicate');
    const sub2 = (await w.lg.store.ledger.getSubmission(second.submissionId))!;
    expect(readJson(again.ackPath)).toMatchObject({
      state: 'duplicate',
      duplicateOf: second.submissionId,
      original: { submissionId: second.submissionId, file: NAME, state: 'applied_with_errors', receivedAt: sub2.receivedAt, ackFile: `${NAME}.${second.submissionId}.ack.json` },
    });
    expect(again.ack.message).toContain(`${NAME}.${second.submissionId}.ack.json`);

    // Re-acknowledging the older submission (a queue retry) leaves the newest copy alone.
    const re = await processSubmission(w.lg, first.submissionId);
    expect(re.ackPath).toBe(first.ackPath);
    expect(readJson(path.join(out, `${NAME}.ack.json`)).submissionId).toBe(second.submissionId);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('keeps ack file names within 255 bytes, whole characters, whatever the upload name', () => {
    const long = 'Prüfbericht_'.repeat(20) + '.csv';
    expect(Buffer.byteLength(long)).toBeGreaterThan(240);
    for (const id of [1, 123456789]) {
      for (const name of [ackFileName(long, id, 'json'), ackFileName(long, null, 'csv')]) {
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
        expect(name).not.toContain('\ufffd');
        expect(name).toMatch(/~\.(\d+\.)?ack\.(json|csv)$/);
      }
    }
    expect(ackFileName(long, 7, 'json')).not.toBe(ackFileName(long, 8, 'json'));
    expect(ackFileName('a.csv', 7, 'json')).toBe('a.csv.7.ack.json');
    expect(ackFileName('a.csv', null, 'json')).toBe('a.csv.ack.json');
  });

  it('lets the partner list and download every ack over SFTP', async () => {
    const w = await makeWorld();
    const first = await upload(w, 'bravo-lab', 'bravo-lab/LIMS_EXPORT_20261118_0200.csv', NAME);
    await w.ingest('erp');
    const second = await upload(w, 'bravo-lab', 'bad/LIMS_EXPORT_bad_date.csv', NAME);
    const keys = tempDir();
    const key = sshKeygen(keys, 'bravo');
    // The drop zone serves the same drop folder lotgate answered into.
    const h = await startZone({ dir: w.dir, partners: new Map([['bravo-lab', partner('bravo-lab', { publicKeys: [key.publicLine] })]]) });
    try {
      const c = new SftpClient();
      await c.connect({ host: '127.0.0.1', port: h.port, username: 'bravo-lab', privateKey: readFileSync(key.privatePath), readyTimeout: 10_000 });
      const names = (await c.list('/outbound')).map((e) => e.name).sort();
      expect(names).toEqual(
        [`${NAME}.${first.submissionId}.ack.json`, `${NAME}.${first.submissionId}.ack.csv`, `${NAME}.${second.submissionId}.ack.json`, `${NAME}.${second.submissionId}.ack.csv`, `${NAME}.ack.json`, `${NAME}.ack.csv`].sort(),
      );
      const got = JSON.parse(((await c.get(`/outbound/${NAME}.${first.submissionId}.ack.json`)) as Buffer).toString('utf8'));
      expect(got).toMatchObject({ submissionId: first.submissionId, state: 'rejected' });
      await c.end();
      // OpenSSH's client, as a partner's script would fetch it.
      const r = await runSftp(h.port, key.privatePath, 'bravo-lab', ['cd outbound', `get ${NAME}.${second.submissionId}.ack.json got.json`], { cwd: keys });
      expect(r.code, r.stderr).toBe(0);
      expect(readJson(path.join(keys, 'got.json'))).toMatchObject({ submissionId: second.submissionId, state: 'applied_with_errors' });
    } finally {
      await h.close();
      cleanup(keys);
    }
  });
});
