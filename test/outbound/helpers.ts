// Shared fixtures for the outbound tests: sample facts and a recording HTTP server on loopback.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeviationRow, Readiness } from '../../pipeline/model/types.js';
import type { LotMaster } from '../../pipeline/outbound/messages.js';

export const AT = '2026-03-02T08:15:00.000Z';

export const LOT: LotMaster = {
  materialId: '000100234',
  lotNumber: 'L2026-001',
  vendor: 'acme-cmo',
  vendorBatch: 'AC-7781',
  expiryDate: '2028-02-29',
  manufactureDate: '2026-02-01',
  quantity: 12000,
  uom: 'EA',
};

export const TRICKY_REASON = 'Deviation "DEV-14"; filter <&> broke\nsee CAPA-9, line 2';

export function blocked(): Readiness {
  return {
    state: 'BLOCKED',
    late: true,
    lateStages: [{ stage: 'packaging', dueDate: '2026-02-20' }],
    reasons: [
      {
        code: 'R_DEVIATION_OPEN_MAJOR',
        severity: 'BLOCKED',
        message: TRICKY_REASON,
        evidence: [{ kind: 'deviation', ref: 'DEV-14', detail: 'major, open' }],
      },
      {
        code: 'R_STAGE_INCOMPLETE',
        severity: 'NOT_READY',
        message: 'Stages not completed: packaging',
        evidence: [{ kind: 'stage', ref: 'packaging' }],
      },
    ],
  };
}

export function ready(): Readiness {
  return { state: 'READY', late: false, reasons: [] };
}

export function deviation(over: Partial<DeviationRow> = {}): DeviationRow {
  return {
    partnerRef: 'DEV-14',
    issuer: 'acme-cmo',
    qmsRef: null,
    title: 'Filter integrity <failed> & retested',
    classification: 'major',
    status: 'open',
    capaRefs: ['CAPA-9', 'CAPA-2'],
    openedAt: '2026-02-25T10:00:00.000Z',
    closedAt: null,
    updatedAt: '2026-02-26T09:00:00.000Z',
    ...over,
  };
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestServer {
  url: string;
  requests: Recorded[];
  /** What the next requests get; the default answers 200. */
  respond: (req: Recorded, res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startHttpServer(): Promise<TestServer> {
  const state: TestServer = {
    url: '',
    requests: [],
    respond: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      state.requests.push(rec);
      state.respond(rec, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
