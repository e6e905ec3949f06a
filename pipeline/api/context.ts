// What the API routes get: the store and configuration, authentication, and the intake entry
// points of the process (absent in processes without them: those routes then answer 503).

import type { AnyJob } from '../scheduler/job.js';
import type {} from '@fastify/cookie';
import type {} from '@fastify/multipart';
import type {} from '@fastify/rate-limit';
import type {} from '@fastify/swagger';
import type { Logger } from 'pino';
import type { AuthService, Authenticated } from '../auth/service.js';
import type { LotgateConfig } from '../config/config.js';
import type { IngestDeps } from '../ingest/deps.js';
import type { PartnerConfig } from '../model/types.js';
import type { OpenStore } from '../store/store.js';

export interface ApiIntake {
  /**
   * Takes bytes a partner sent over the API into the ledger exactly like a drop-zone upload:
   * archive, ledger row, queue. Resolves to the submission id.
   */
  submit(f: { partner: string; name: string; path: string }): Promise<number>;
  /** Registers a replay of an archived original and queues it. */
  replay(submissionId: number): Promise<number>;
}

export interface HealthCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

export interface ApiContext {
  config: LotgateConfig;
  /** The root store the process opened (its health is /api/v1/status). */
  store: OpenStore;
  auth: AuthService;
  partners: () => Map<string, PartnerConfig>;
  now: () => Date;
  log: Logger;
  intake?: ApiIntake;
  /** What applying a file needs (mappings, archive …), when this process may: mapping dry runs, review decisions (an approval applies the held file here). */
  ingest?: IngestDeps;
  /** Named readiness checks for /readyz (store writable, Redis, drop zone, scheduler lease …). */
  readiness?: HealthCheck[];
  /** Queue depth per partner for /metrics, when the process has the queues. */
  queueStats?: () => Promise<{ partner: string; waiting: number; oldestWaitingMs: number | null }[]>;
  /** The scheduled jobs (jobs/index.ts, handed in by the composition root), for POST /api/v1/jobs/:name/run. */
  jobs?: readonly AnyJob[];
}

declare module 'fastify' {
  interface FastifyRequest {
    who: Authenticated | null;
  }
}
