// Versioned schema. `PRAGMA user_version` holds the version a database is at; `migrate` applies
// every newer migration in order, each in its own IMMEDIATE transaction together with the
// version bump, so a crash or a failing statement leaves the database at the previous version.
// Several processes may open the same file at once: the version is re-read inside the write
// lock, so a migration is applied exactly once.
//
// Never edit a migration that has shipped; append a new one (see the header of store.ts).

import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// Provenance columns every fact row carries.
const PROV = `
  submission_id INTEGER REFERENCES submissions(id),
  line INTEGER,
  mapping_hash TEXT,
  partner TEXT`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY,
  partner TEXT NOT NULL,
  feed TEXT,
  original_name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  received_at TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('sftp','watch','cli','pull','replay')),
  archive_path TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'received'
    CHECK (state IN ('received','processing','pending_review','applied','applied_with_errors','rejected','duplicate','quarantined')),
  mapping_name TEXT,
  mapping_hash TEXT,
  "rows" INTEGER NOT NULL DEFAULT 0,
  applied INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  error_code TEXT,
  error_message TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  started_at TEXT,
  finished_at TEXT,
  replay_of INTEGER REFERENCES submissions(id),
  duplicate_of INTEGER REFERENCES submissions(id),
  ack_path TEXT
);
CREATE INDEX submissions_partner_sha ON submissions(partner, sha256);
CREATE INDEX submissions_partner_name ON submissions(partner, original_name);
CREATE INDEX submissions_state ON submissions(state);
CREATE INDEX submissions_received ON submissions(received_at);
CREATE INDEX submissions_archive ON submissions(archive_path);

CREATE TABLE rejected_rows (
  id INTEGER PRIMARY KEY,
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  line INTEGER,
  "column" INTEGER,
  field TEXT,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  value TEXT
);
CREATE INDEX rejected_rows_submission ON rejected_rows(submission_id, line);

CREATE TABLE materials (
  material_id TEXT PRIMARY KEY,
  description TEXT,
  gtin TEXT,
  ndc TEXT,
  product_family TEXT,
  uom TEXT,
  updated_at TEXT NOT NULL,${PROV}
);
CREATE INDEX materials_gtin ON materials(gtin);

CREATE TABLE purchase_orders (
  po_number TEXT NOT NULL,
  po_item TEXT NOT NULL,
  material_id TEXT NOT NULL,
  quantity REAL,
  uom TEXT,
  vendor TEXT,
  planned_date TEXT,
  confirmed_date TEXT,
  lot_number TEXT,
  vendor_batch TEXT,
  status TEXT,
  updated_at TEXT NOT NULL,${PROV},
  PRIMARY KEY (po_number, po_item)
);
CREATE INDEX purchase_orders_lot ON purchase_orders(material_id, lot_number);
CREATE INDEX purchase_orders_vendor ON purchase_orders(vendor, po_number);

-- No foreign key to materials: ERP feeds arrive in any order, and a lot may be known
-- before its material master (order-independent merges).
CREATE TABLE lots (
  id INTEGER PRIMARY KEY,
  material_id TEXT NOT NULL,
  lot_number TEXT NOT NULL,
  expiry_date TEXT,
  manufacture_date TEXT,
  quantity REAL,
  uom TEXT,
  site TEXT,
  vendor TEXT,
  quality_state TEXT,
  po_number TEXT,
  po_item TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,${PROV},
  UNIQUE (material_id, lot_number)
);
CREATE INDEX lots_lot_number ON lots(lot_number);
CREATE INDEX lots_vendor ON lots(vendor);

CREATE TABLE lot_readiness (
  lot_id INTEGER PRIMARY KEY REFERENCES lots(id),
  state TEXT NOT NULL CHECK (state IN ('READY','CONDITIONAL','NOT_READY','BLOCKED')),
  late INTEGER NOT NULL,
  readiness TEXT NOT NULL,
  computed_at TEXT NOT NULL
);
CREATE INDEX lot_readiness_state ON lot_readiness(state);

-- The same (scheme, value, issuer) may point at two lots: a conflict that the readiness
-- identity rule reports, so it is stored rather than refused.
CREATE TABLE lot_identifiers (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  scheme TEXT NOT NULL CHECK (scheme IN ('cmo_batch','lims_sample','erp_lot','vendor_batch','gtin_lot')),
  value TEXT NOT NULL,
  issuer TEXT NOT NULL,
  created_at TEXT NOT NULL,${PROV},
  UNIQUE (scheme, value, issuer, lot_id)
);
CREATE INDEX lot_identifiers_lot ON lot_identifiers(lot_id);

CREATE TABLE stage_events (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  stage TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('started','completed','on_hold','aborted')),
  event_time TEXT NOT NULL,
  site TEXT,
  recorded_at TEXT NOT NULL,${PROV},
  UNIQUE (lot_id, stage, status, event_time)
);

CREATE TABLE test_results (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  sample_id TEXT,
  test_code TEXT NOT NULL,
  test_name TEXT,
  method TEXT,
  result_raw TEXT,
  result_value REAL,
  qualifier TEXT CHECK (qualifier IS NULL OR qualifier IN ('<','>','<=','>=','ND','<LOQ')),
  unit TEXT,
  spec_low REAL,
  spec_high REAL,
  spec_text TEXT,
  result_status TEXT NOT NULL DEFAULT 'final' CHECK (result_status IN ('preliminary','final','retracted')),
  tested_at TEXT,
  analyst TEXT,
  recorded_at TEXT NOT NULL,${PROV}
);
CREATE UNIQUE INDEX test_results_key ON test_results(lot_id, test_code, coalesce(sample_id, ''), coalesce(tested_at, ''));

CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  type TEXT NOT NULL CHECK (type IN ('coa','batch_record','packaging_record','test_report','label_approval')),
  doc_id TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  sha256 TEXT,
  stored_path TEXT,
  issued_at TEXT,
  supersedes TEXT,
  recorded_at TEXT NOT NULL,${PROV},
  UNIQUE (lot_id, type, doc_id, version)
);

-- One row per version of a deviation; the latest updated_at per (issuer, partner_ref) is current.
CREATE TABLE deviations (
  id INTEGER PRIMARY KEY,
  issuer TEXT NOT NULL,
  partner_ref TEXT NOT NULL,
  qms_ref TEXT,
  title TEXT,
  classification TEXT NOT NULL CHECK (classification IN ('minor','major','critical')),
  status TEXT NOT NULL CHECK (status IN ('open','investigation','closed','cancelled')),
  capa_refs TEXT NOT NULL DEFAULT '[]',
  opened_at TEXT NOT NULL,
  closed_at TEXT,
  updated_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL,${PROV},
  UNIQUE (issuer, partner_ref, updated_at)
);

CREATE TABLE deviation_lots (
  deviation_id INTEGER NOT NULL REFERENCES deviations(id),
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  submission_id INTEGER REFERENCES submissions(id),
  line INTEGER,
  PRIMARY KEY (deviation_id, lot_id)
) WITHOUT ROWID;
CREATE INDEX deviation_lots_lot ON deviation_lots(lot_id);

CREATE TABLE dispositions (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  decision TEXT NOT NULL CHECK (decision IN ('released','rejected','quarantine')),
  decided_by TEXT,
  decided_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL,${PROV},
  UNIQUE (lot_id, decided_at)
);

CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  "action" TEXT NOT NULL,
  subject TEXT,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events(subject, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit trail is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit trail is append-only');
END;

CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  target TEXT,
  "key" TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','dead','held')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  sent_at TEXT,
  submission_id INTEGER REFERENCES submissions(id)
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_submission ON outbox(submission_id, state);

CREATE TABLE job_runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  holder TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('ok','error','skipped')),
  details TEXT,
  error TEXT
);
CREATE INDEX job_runs_name ON job_runs(name, started_at);

-- expires_at in epoch milliseconds: compared numerically, independent of string formats.
CREATE TABLE job_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'scheduled jobs: per-connector deliveries, notifications sent, job cursors, pulled files',
    sql: `
-- One row per (message, connector) once the push job has tried that connector: a message
-- routed to several receivers is delivered to each once, whatever happens to the others.
CREATE TABLE outbox_deliveries (
  outbox_id TEXT NOT NULL REFERENCES outbox(id),
  connector TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','sent','dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  last_error TEXT,
  sent_at TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (outbox_id, connector)
) WITHOUT ROWID;
CREATE INDEX outbox_deliveries_connector ON outbox_deliveries(connector, state);
-- Ordering per key: the push job looks for older undelivered messages of the same topic and key.
CREATE INDEX outbox_topic_key ON outbox(topic, "key", created_at);

-- Notifications that went out (or were given up on), one key per (event, channel): one event
-- sends one message per channel, however often a sweep finds it again.
CREATE TABLE notifications_sent (
  "key" TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  event_type TEXT NOT NULL,
  subject TEXT NOT NULL,
  event_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('sent','failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at TEXT NOT NULL
);

-- Where a job left off (e.g. the last audit seq the notify job has looked at).
CREATE TABLE job_cursors (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Files fetched from partners' own SFTP servers: a remote file (path, size, mtime) is fetched
-- once; 'fetching' survives a crash so the next run fetches it again without registering twice.
CREATE TABLE pulled_files (
  partner TEXT NOT NULL,
  remote_path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('seen','fetching','fetched')),
  first_seen_at TEXT NOT NULL,
  fetch_started_at TEXT,
  ledger_mark INTEGER,
  sha256 TEXT,
  submission_id INTEGER REFERENCES submissions(id),
  fetched_at TEXT,
  after_done INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (partner, remote_path, size, mtime)
);
CREATE INDEX pulled_files_state ON pulled_files(partner, state);
`,
  },
  {
    version: 3,
    name: 'every row accounted for: filtered and superseded counts; test result replicates',
    sql: `
-- rows = applied + rejected + filtered + superseded for every submission.
ALTER TABLE submissions ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
-- A mapping may declare a replicate (re-measurement) field: part of the result's key, so two
-- measurements of the same sample and test in one file are both kept.
ALTER TABLE test_results ADD COLUMN replicate TEXT;
DROP INDEX test_results_key;
CREATE UNIQUE INDEX test_results_key ON test_results(lot_id, test_code, coalesce(sample_id, ''), coalesce(tested_at, ''), coalesce(replicate, ''));
`,
  },
  {
    version: 4,
    name: 'resends: a submission names the rejected or quarantined submission of the same bytes it resends',
    sql: `
ALTER TABLE submissions ADD COLUMN resend_of INTEGER REFERENCES submissions(id);
CREATE INDEX submissions_resend_of ON submissions(resend_of) WHERE resend_of IS NOT NULL;
`,
  },
  {
    version: 5,
    name: 'acknowledgments owed: a terminal state is final, the ack is re-driven on its own',
    sql: `
-- ack_pending = 1 from the transaction that decides a submission until its acknowledgment is on
-- disk; a failed ack write (disk full) never touches the decision, the reconciler writes it later.
ALTER TABLE submissions ADD COLUMN ack_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN ack_written_at TEXT;
CREATE INDEX submissions_ack_pending ON submissions(ack_pending) WHERE ack_pending = 1;
`,
  },
  {
    version: 6,
    name: 'sftp bans shared by the processes of a data dir',
    sql: `
-- The drop zone's brute-force bans (pipeline/sftp/defender.ts): the latest ban per IP or user
-- name and its strike count, so every process of the data dir refuses the same addresses and a
-- restart does not lift a ban. Times in epoch milliseconds.
CREATE TABLE sftp_bans (
  kind TEXT NOT NULL CHECK (kind IN ('ip','user')),
  "key" TEXT NOT NULL,
  until_ms INTEGER NOT NULL,
  strikes INTEGER NOT NULL,
  banned_at_ms INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (kind, "key")
) WITHOUT ROWID;
CREATE INDEX sftp_bans_until ON sftp_bans(until_ms);
`,
  },
  {
    version: 7,
    name: 'principals, role bindings, sessions, service tokens, API submissions, electronic signatures',
    sql: `
-- Who may use the HTTP API: internal users, partner users (bound to one partner), service accounts.
CREATE TABLE principals (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('user','partner_user','service')),
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  email TEXT,
  partner TEXT,
  password_hash TEXT,
  password_set_at TEXT,
  -- A reset issues a one-time code (hash kept); the user then chooses the password.
  reset_code_hash TEXT,
  reset_expires_at TEXT,
  totp_secret TEXT,
  totp_enrolled_at TEXT,
  -- RFC 6238 time step of the last accepted code: a code is accepted once, by any process.
  totp_last_step INTEGER,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT,
  disabled_at TEXT,
  last_login_at TEXT,
  created_at TEXT NOT NULL,
  CHECK (kind <> 'partner_user' OR partner IS NOT NULL)
);

-- A role within a scope; '*' or a JSON array of values per dimension.
CREATE TABLE role_bindings (
  id INTEGER PRIMARY KEY,
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  role TEXT NOT NULL,
  sites TEXT NOT NULL DEFAULT '"*"',
  materials TEXT NOT NULL DEFAULT '"*"',
  partners TEXT NOT NULL DEFAULT '"*"',
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE (principal_id, role, sites, materials, partners)
);
CREATE INDEX role_bindings_principal ON role_bindings(principal_id);

CREATE TABLE recovery_codes (
  id INTEGER PRIMARY KEY,
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  code_hash TEXT NOT NULL,
  used_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX recovery_codes_principal ON recovery_codes(principal_id);

-- Server-side sessions; the cookie carries a random id of which only the sha256 is kept.
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  mfa_at TEXT,
  -- 'full', or 'enrol' (password accepted, TOTP enrolment still owed)
  stage TEXT NOT NULL CHECK (stage IN ('full','enrol')),
  csrf_token TEXT NOT NULL,
  ip TEXT,
  user_agent TEXT,
  revoked_at TEXT,
  revoked_reason TEXT,
  -- Part 11 §11.200(a)(1): TOTP with the first signature of a session, the password with every one.
  last_signed_at TEXT
);
CREATE INDEX sessions_principal ON sessions(principal_id);

-- Service tokens lgt_…: only the sha256 is stored; expiry is mandatory.
CREATE TABLE service_tokens (
  id INTEGER PRIMARY KEY,
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  last_used_at TEXT,
  last_ip TEXT,
  revoked_at TEXT
);
CREATE INDEX service_tokens_principal ON service_tokens(principal_id);

-- Files partners sent through POST /api/v1/submissions (the ledger row itself is the same as
-- for any other intake path); Idempotency-Key is unique per principal.
CREATE TABLE api_submissions (
  submission_id INTEGER PRIMARY KEY REFERENCES submissions(id),
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  idempotency_key TEXT,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX api_submissions_key ON api_submissions(principal_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Electronic signatures (21 CFR Part 11): who (id + printed name), when (UTC + site zone), what
-- it means, and the sha256 of the canonical JSON of exactly what was signed.
CREATE TABLE signatures (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('lot_disposition','submission_review')),
  lot_id INTEGER REFERENCES lots(id),
  submission_id INTEGER REFERENCES submissions(id),
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  printed_name TEXT NOT NULL,
  signed_at TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  local_time TEXT NOT NULL,
  meaning TEXT NOT NULL,
  decision TEXT NOT NULL,
  record TEXT NOT NULL,
  record_hash TEXT NOT NULL,
  evidence_hash TEXT NOT NULL,
  audit_seq INTEGER,
  invalidated_at TEXT,
  invalidated_by_submission INTEGER REFERENCES submissions(id),
  invalidated_reason TEXT
);
CREATE INDEX signatures_lot ON signatures(lot_id);

-- The board's order and keyset pagination (pipeline/store/scoped-reads.ts). No index on site on
-- purpose: the planner would pick it for scoped boards and sort every lot of the site per page.
CREATE INDEX lots_board ON lots(lot_number, material_id, id);

-- A single-use challenge binds a signing ceremony to one record hash for a few minutes.
CREATE TABLE signing_challenges (
  id TEXT PRIMARY KEY,
  principal_id INTEGER NOT NULL REFERENCES principals(id),
  subject TEXT NOT NULL,
  record_hash TEXT NOT NULL,
  decision TEXT NOT NULL,
  meaning TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
`,
  },
  {
    version: 11,
    name: 'readiness off the file transaction: dirty lots, clock-due instants',
    sql: `
-- Lots whose facts changed and whose readiness has not been recomputed since (DESIGN.md §5):
-- written in the file's transaction, deleted in the transaction that recomputes the lot, so a
-- marker survives a crash between the two and the next recompute (right after the commit, the
-- reconciler or the readiness sweep) picks it up. One row per lot: the latest cause wins.
CREATE TABLE dirty_lots (
  lot_id INTEGER PRIMARY KEY REFERENCES lots(id),
  submission_id INTEGER REFERENCES submissions(id),
  partner TEXT,
  marked_at TEXT NOT NULL
);

-- The next instant at which the clock alone could change a lot's readiness (shelf life falling
-- below a minimum, a planned date or lead time passing), NULL when no clock rule applies; and the
-- hash of the rule set it was computed with. The scheduled sweep recomputes only lots whose
-- instant has passed, whose rule set changed, or that have no stored readiness.
ALTER TABLE lot_readiness ADD COLUMN clock_due_at TEXT;
ALTER TABLE lot_readiness ADD COLUMN rules_hash TEXT;
CREATE INDEX lot_readiness_clock_due ON lot_readiness(clock_due_at);
`,
  },
  {
    version: 12,
    name: 'operator hold on outbox messages; documents requested from partners',
    sql: `
-- An operator's hold (independent of the state): the push job does not claim a held message.
ALTER TABLE outbox ADD COLUMN hold_reason TEXT;
ALTER TABLE outbox ADD COLUMN held_by TEXT;
ALTER TABLE outbox ADD COLUMN held_at TEXT;

-- A document the sponsor asked a partner for (POST /api/v1/lots/:lotId/requests).
CREATE TABLE document_requests (
  id INTEGER PRIMARY KEY,
  lot_id INTEGER NOT NULL REFERENCES lots(id),
  partner TEXT NOT NULL,
  document_type TEXT NOT NULL,
  message TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','closed')),
  closed_at TEXT
);
CREATE INDEX document_requests_lot ON document_requests(lot_id, state);
`,
  },
  {
    version: 13,
    name: 'readiness change detection by hash',
    sql: `
-- A digest of the stored readiness (state, late, reasons with their wording and evidence): a
-- recompute compares the new readiness's digest with it instead of reading back and comparing
-- the stored document. NULL (rows stored before this version) is compared the long way once.
ALTER TABLE lot_readiness ADD COLUMN readiness_hash TEXT;
`,
  },
  {
    version: 16,
    name: 'compact readiness: reasons stored as code + params',
    sql: `
-- Readiness reasons are now stored as code, severity, params and evidence; the message is
-- rendered when read or sent (readiness/render.ts), in lot_readiness and in outbox payloads.
-- Rows written before keep their rendered messages and are read as they are (a reason with a
-- message is an old one: that is the per-row format flag). So that the scheduled sweep rewrites
-- the old lot_readiness rows of open lots compactly, their rules hash is cleared: the sweep recomputes lots
-- whose rules hash differs, and the rewrite counts no change (same codes), so it audits and sends
-- nothing. Old outbox messages are delivered (and kept) as stored.
UPDATE lot_readiness SET rules_hash = NULL
 WHERE json_valid(readiness)
   AND EXISTS (SELECT 1 FROM json_each(readiness, '$.reasons') j WHERE json_type(j.value, '$.message') = 'text');
`,
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to the newest migration. Returns the versions before and after.
 * Refuses a database written by a newer lotgate (its schema is unknown to this code).
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  checkOrder(migrations);
  const latest = migrations.length ? migrations[migrations.length - 1].version : 0;
  const from = schemaVersion(db);
  if (from > latest) {
    throw new Error(`database schema is at version ${from}, newer than this lotgate knows (${latest}); upgrade lotgate`);
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (schemaVersion(db) >= m.version) return;
      try {
        db.exec(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: schemaVersion(db) };
}

function checkOrder(migrations: readonly Migration[]): void {
  let prev = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= prev) {
      throw new Error(`migrations must have strictly increasing integer versions (got ${m.version} after ${prev})`);
    }
    prev = m.version;
  }
}
