// The JSON Schema of config.yaml: the one place that says which keys exist and what they take.
// loadConfig validates every file against it before anything starts (unknown keys are errors with
// file:line:col and a did-you-mean), and `npx lotgate config schema > config.schema.json` publishes
// it for editors (test/config checks the committed file is current).
//
// To add a setting: add its key to the section below (or a new section to SECTIONS), read it in
// loadConfig (config.ts) with its default, document it in config.yaml / docs/operations.md, and
// regenerate config.schema.json. Sections other parts own (jobs, connectors, notifications) are
// plugged in by the composition root through SchemaParts, so this file imports none of them.

export type JsonSchema = Record<string, unknown>;

const seconds = (min = 0): JsonSchema => ({ type: 'integer', minimum: min });
const ms = (min = 0): JsonSchema => ({ type: 'integer', minimum: min });
const path = { type: 'string', minLength: 1 } as const;

/** A section: an object whose keys are exactly these (anything else is an unknown key). */
export function section(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return { type: 'object', additionalProperties: false, ...(description ? { description } : {}), properties };
}

export const SFTP = section(
  {
    host: { type: 'string', minLength: 1, description: 'Address the drop zone listens on (0.0.0.0 for other machines).' },
    port: { type: 'integer', minimum: 0, maximum: 65535, description: 'SFTP port (LOTGATE_SFTP_PORT overrides; 0: any free port).' },
    loginGraceSeconds: seconds(1),
    defender: section({ maxFailures: seconds(1), windowSeconds: seconds(1), banSeconds: seconds(1) }, 'Brute-force defender: bans per IP and per user name.'),
    preauth: section(
      { maxConnectionsPerIp: seconds(1), auditEventsPerIp: seconds(0), auditWindowSeconds: seconds(1) },
      'Before login: connections per IP, and how many audit rows per IP and window before they are summarised.',
    ),
  },
  'The SFTP drop zone.',
);

export const REDIS = section({ url: { type: 'string', pattern: '^rediss?://', description: 'Tried when REDIS_URL is not set; else a private redis-server is started.' } });

export const INTAKE = section({
  reconcileSeconds: seconds(1),
  stableMs: ms(0),
  partialStaleSeconds: { ...seconds(1), description: 'A temp file of an upload untouched this long (no process writing it) is answered as a partial upload.' },
  ackCsv: { type: 'boolean', description: 'Also write <name>.ack.csv for spreadsheet users.' },
});

export const QUEUE = section({
  attempts: seconds(1),
  backoffMs: ms(0),
  perPartnerConcurrency: seconds(1),
  workers: seconds(1),
  prefix: { type: 'string', minLength: 1 },
  lockMs: ms(1),
  stalledIntervalMs: ms(1),
  shutdownGraceMs: ms(0),
});

/** Checked in depth by parseReadinessConfig (pipeline/readiness/rule-set.ts), with its own did-you-mean. */
export const READINESS = { type: 'object', description: 'Release readiness rules: default, families, materials.' } as const;

/** The job keys every job takes besides its own options (pipeline/scheduler/config.ts reads them). */
export const JOB_COMMON: Record<string, JsonSchema> = {
  enabled: { type: 'boolean' },
  schedule: { type: 'string', minLength: 1, description: 'Cron: minute hour day-of-month month day-of-week (optional leading seconds).' },
  timezone: { type: 'string', minLength: 1, description: 'IANA time zone, e.g. Europe/Berlin.' },
  leaseSeconds: seconds(10),
};

/** What the schema needs from a job definition (jobs/<name>.ts). */
export interface JobSchemaSource {
  name: string;
  optionsSchema: Record<string, object>;
}

/** Sections owned by other parts; without them those sections are only checked for their shape. */
export interface SchemaParts {
  jobs?: readonly JobSchemaSource[];
  connectors?: JsonSchema;
  notifications?: JsonSchema;
}

function jobsSchema(jobs: readonly JobSchemaSource[] | undefined): JsonSchema {
  const top = { timezone: JOB_COMMON.timezone, leaseSeconds: JOB_COMMON.leaseSeconds };
  if (!jobs) return { type: 'object', properties: top, additionalProperties: { type: 'object' } };
  return section({ ...top, ...Object.fromEntries(jobs.map((j) => [j.name, section({ ...JOB_COMMON, ...(j.optionsSchema as Record<string, JsonSchema>) })])) }, 'Scheduled jobs.');
}

/** A nested schema without the keywords only a root may carry. */
function embed(s: JsonSchema | undefined, fallback: JsonSchema): JsonSchema {
  if (!s) return fallback;
  const { $schema: _s, $id: _i, ...rest } = s;
  return rest;
}

/** Every top-level section. Add a section here (and read it in loadConfig). */
export function sections(parts: SchemaParts): Record<string, JsonSchema> {
  return {
    dataDir: { ...path, description: 'SQLite store, archive, host key, private Redis (LOTGATE_DATA_DIR / --data-dir override).' },
    dropDir: { ...path, description: 'Default <dataDir>/drop.' },
    archiveDir: { ...path, description: 'The content-addressed archive of every original file (default <dataDir>/archive). Several machines: a folder they all mount.' },
    store: section(
      { url: { type: 'string', minLength: 1, description: 'postgres://user@host:5432/db for PostgreSQL (several machines), or a SQLite file path (default <dataDir>/lotgate.db). LOTGATE_DATABASE_URL overrides.' } },
      'The database: SQLite on one machine (the default), PostgreSQL for several.',
    ),
    partnersDir: path,
    mappingsDir: path,
    sftp: SFTP,
    redis: REDIS,
    intake: INTAKE,
    queue: QUEUE,
    readiness: READINESS,
    jobs: jobsSchema(parts.jobs),
    connectors: embed(parts.connectors, { type: 'array', items: { type: 'object' } }),
    notifications: embed(parts.notifications, { type: 'object' }),
    publicUrl: { type: 'string', pattern: '^https?://', description: 'Links in notifications and digests point here.' },
    timezone: { type: 'string', minLength: 1, description: "The sponsor's IANA time zone: CLI output, and acknowledgments of partners without their own." },
    audit: section({ anchorFile: { ...path, description: 'Append-only file the audit head is anchored to (default <dataDir>/audit-anchors.log).' } }, 'Audit trail.'),
    ingest: section(
      {
        limits: section({ maxRows: seconds(1), maxErrors: seconds(0) }, 'Per-file limits for every partner (partner files may set their own): a file beyond them is rejected whole.'),
        spoolMemoryBytes: { ...seconds(0), description: 'Mapped rows kept in memory per file before they spill to <dataDir>/tmp.' },
        parseThreadMinBytes: { ...seconds(0), description: 'Files at least this large (bytes) are parsed and mapped on a thread of their own (default 1 MiB; 0 = every file).' },
        writerHeapBudgetMb: { ...seconds(0), description: 'JavaScript heap in use (MiB) above which the writer collects garbage while it applies a file or recomputes readiness (default 96; 0 = leave it to V8). Bounds peak memory; see docs/reliability.md.' },
      },
      'Ingest.',
    ),
    shutdown: section({ graceSeconds: { ...seconds(0), description: 'How long running files may finish after SIGTERM/SIGINT before they are released.' } }, 'Graceful shutdown.'),
    http: section(
      {
        host: { type: 'string', minLength: 1, description: 'Address the HTTP API listens on (default 127.0.0.1; put a TLS reverse proxy in front).' },
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'HTTP port (LOTGATE_HTTP_PORT overrides; default 8080).' },
        trustProxy: { description: 'Fastify trustProxy: false (default), true, a hop count, or proxy addresses/CIDRs.', anyOf: [{ type: 'boolean' }, { type: 'integer', minimum: 0 }, { type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        secureCookies: { type: 'boolean', description: 'Mark cookies Secure (default: when publicUrl is https).' },
        opsAllow: { type: 'array', items: { type: 'string' }, description: 'Addresses/CIDRs allowed to read /livez, /readyz, /metrics.' },
        maxUploadMB: { type: 'number', exclusiveMinimum: 0, description: 'Largest partner API upload.' },
      },
      'The HTTP API (docs/api.md).',
    ),
    auth: section(
      {
        maxFailedLogins: seconds(1),
        lockoutMinutes: seconds(1),
        sessionIdleMinutes: seconds(1),
        sessionAbsoluteHours: seconds(1),
        tokenMaxDays: seconds(1),
        timeZone: { type: 'string', minLength: 1, description: 'IANA zone shown next to UTC on signatures.' },
      },
      'Users, sessions, tokens (docs/api.md).',
    ),
    demo: { type: 'boolean', description: 'Demo mode: serve partner files carrying the published demo keys/password. Never in production.' },
  };
}

export function configSchema(parts: SchemaParts = {}): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://lotgate.dev/config.schema.json',
    title: 'lotgate config.yaml',
    type: 'object',
    additionalProperties: false,
    properties: sections(parts),
  };
}

/** The text of config.schema.json. */
export function configSchemaFileText(parts: SchemaParts): string {
  return JSON.stringify(configSchema(parts), null, 2) + '\n';
}
