// Partner API submissions: POST /api/v1/submissions with a partner token goes through the same
// intake as an SFTP upload — same ledger row, same acknowledgment — honours Idempotency-Key,
// and a partner sees only its own submissions and acks.

import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../pipeline/cli/ingest-commands.js';
import { processSubmission } from '../../pipeline/ingest/process-submission.js';
import { takeFile } from '../../pipeline/intake/intake.js';
import { directLedger } from '../../pipeline/intake/ledger-writer.js';
import { partnerDirs } from '../../pipeline/intake/names.js';
import { apiFixture, type ApiFixture } from './api-helpers.js';
import { fixtureFiles, installation, type Installation } from './helpers.js';

const FILE = 'Chargenstatus_20261119.csv';
let f: ApiFixture;
let sftp: Installation;
let token: string;

async function erp(lg: Installation['lg'], work: string) {
  const files = fixtureFiles(work, 'erp');
  await ingestFiles(lg, 'erp', ['MATERIALS', 'PO', 'BATCHES'].map((k) => files.find((x) => path.basename(x).includes(`_${k}_`))!));
}

beforeAll(async () => {
  f = await apiFixture({ story: false });
  await erp(f.inst.lg, f.inst.work);
  token = (await f.auth.createToken({ name: 'acme', partner: 'acme-cmo', days: 30 }, 'test')).token;
  sftp = await installation({ story: false });
  await erp(sftp.lg, sftp.work);
}, 120_000);
afterAll(async () => {
  await f?.close();
  await sftp?.cleanup();
});

const post = (body: Buffer | string, headers: Record<string, string>) =>
  f.app.inject({ method: 'POST', url: '/api/v1/submissions', payload: body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers } });

describe('POST /api/v1/submissions', () => {
  it('produces the same ledger row and acknowledgment as the same file over SFTP', async () => {
    const bytes = readFileSync(path.join(f.inst.work, 'fixtures', 'acme-cmo', FILE));
    const res = await post(bytes, { 'x-file-name': FILE, 'idempotency-key': 'k-1' });
    expect(res.statusCode, res.body).toBe(201);
    const { submissionId, ackUrl, repeated } = res.json();
    expect(repeated).toBe(false);

    // The same bytes arriving in the drop zone of another installation (what the SFTP server does).
    const lg = sftp.lg;
    const inbound = partnerDirs(lg.config.dropDir, 'acme-cmo').inbound;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(inbound, { recursive: true });
    copyFileSync(path.join(sftp.work, 'fixtures', 'acme-cmo', FILE), path.join(inbound, FILE));
    const taken = await takeFile(
      { config: lg.config, partners: lg.partners, now: lg.now, log: lg.log, ledger: directLedger(lg), enqueue: async (_p, id) => void (await processSubmission(lg, id)) },
      { partner: 'acme-cmo', path: path.join(inbound, FILE), source: 'sftp' },
    );
    expect(taken.status).toBe('taken');
    const viaSftp = (await lg.store.ledger.getSubmission((taken as { submissionId: number }).submissionId))!;
    const viaApi = (await f.inst.lg.store.ledger.getSubmission(submissionId))!;
    const comparable = (s: typeof viaApi) => {
      const { id: _i, source: _s, receivedAt: _r, startedAt: _st, finishedAt: _f, ackWrittenAt: _w, archivePath, ackPath, ...rest } = s;
      return { ...rest, archive: path.basename(archivePath), ack: ackPath && path.basename(ackPath) };
    };
    expect(comparable(viaApi)).toEqual(comparable(viaSftp));
    expect(viaApi.state).toMatch(/^applied/);

    const ackApi = (await f.app.inject({ method: 'GET', url: ackUrl, headers: { authorization: `Bearer ${token}` } })).json();
    const ackSftp = JSON.parse(readFileSync(viaSftp.ackPath!, 'utf8'));
    const strip = ({ submissionId: _i, receivedAt: _r, receivedAtLocal: _l, ackFile: _f, ...rest }: Record<string, unknown>) => rest;
    expect(strip(ackApi)).toEqual(strip(ackSftp));
    // The acknowledgment is also in the partner's outbound/ folder, as for SFTP.
    expect(JSON.parse(readFileSync(viaApi.ackPath!, 'utf8'))).toEqual(ackApi);
    expect((await f.inst.lg.store.audit.listAudit({ subject: `submission:${submissionId}`, action: 'submission.received' }))[0].actor).toBe('partner:acme-cmo');
  });

  it('a repeated Idempotency-Key returns the first submission and writes nothing', async () => {
    const first = (await f.inst.lg.store.auth.findApiSubmission((await f.inst.lg.store.auth.getPrincipalByName('svc-acme-cmo'))!.id, 'k-1'))!;
    const before = (await f.inst.lg.store.ledger.listSubmissions({ limit: 1000 })).length;
    const again = await post('different bytes;even\n', { 'x-file-name': 'other.csv', 'idempotency-key': 'k-1' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ submissionId: first, repeated: true });
    expect((await f.inst.lg.store.ledger.listSubmissions({ limit: 1000 })).length).toBe(before);
  });

  it('takes multipart uploads; the partner sees its own submissions only', async () => {
    const boundary = '----lotgate';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Abweichungen_20261119.csv"\r\nContent-Type: text/csv\r\n\r\n${readFileSync(path.join(f.inst.work, 'fixtures', 'acme-cmo', 'Abweichungen_20261119.csv'), 'latin1')}\r\n--${boundary}--\r\n`;
    const res = await f.app.inject({ method: 'POST', url: '/api/v1/submissions', payload: Buffer.from(body, 'latin1'), headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().submissionId;
    expect((await f.inst.lg.store.ledger.getSubmission(id))!.originalName).toBe('Abweichungen_20261119.csv');
    const mine = (await f.app.inject({ method: 'GET', url: '/api/v1/submissions', headers: { authorization: `Bearer ${token}` } })).json();
    expect(mine.items.every((s: any) => s.partner === 'acme-cmo')).toBe(true);
    const other = (await f.auth.createToken({ name: 'bravo', partner: 'bravo-lab', days: 30 }, 'test')).token;
    for (const url of [`/api/v1/submissions/${id}`, `/api/v1/submissions/${id}/ack`]) {
      expect((await f.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(404);
    }
    expect((await f.app.inject({ method: 'GET', url: '/api/v1/submissions', headers: { authorization: `Bearer ${other}` } })).json().items).toEqual([]);
  });

  it('refuses bad names, missing names and non-partner principals', async () => {
    expect((await post('x', {})).json().error.code).toBe('E_API_FILE_NAME');
    expect((await post('x', { 'x-file-name': '../etc/passwd' })).json().error.code).toBe('E_API_FILE_NAME');
    const erpReader = (await f.auth.createToken({ name: 'erp-reader', days: 30 }, 'test')).token;
    const res = await f.app.inject({ method: 'POST', url: '/api/v1/submissions', payload: 'x', headers: { authorization: `Bearer ${erpReader}`, 'content-type': 'application/octet-stream', 'x-file-name': 'a.csv' } });
    expect(res.statusCode).toBe(403);
  });
});
