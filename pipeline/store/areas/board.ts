// The board area of the async store: the small reads of the web board, the daily digest, the
// readiness recompute and the health endpoints (latestPushes, metricsSnapshot, probeWritable,
// getDeviationWithLots, listOpenBoard), one implementation for both dialects (db/db.ts).
//
// Dialect notes: json_each (the key list of latestPushes) became chunked IN lists; every ORDER BY
// is complete (PostgreSQL returns ties in any order); PostgreSQL folds unquoted aliases to lower
// case, so camelCase aliases are quoted.

import { randomUUID } from 'node:crypto';
import type { DeviationRow, Readiness, ReadinessState } from '../../model/types.js';
import { expandReadiness } from '../../readiness/render.js';
import type { Db } from '../db/db.js';
import { marks } from '../db/db.js';
import { toDeviation, type DeviationDbRow } from '../rows.js';
import { bool, isoInstant, parseJson } from '../values.js';
import type { Instant } from '../types.js';
import { outboxArea } from './outbox.js';

/** A message of the outbox for a lot, with its deliveries (the board's push column). */
export interface LotPush {
  key: string;
  topic: string;
  messageId: string;
  state: string;
  createdAt: string;
  connectors: { connector: string; state: string; sentAt: string | null; lastError: string | null }[];
}

/** A lot of the open board: its keys, its material's words and its readiness. */
export interface BoardLot {
  lotId: number;
  materialId: string;
  lotNumber: string;
  vendor: string | null;
  site: string | null;
  description: string | null;
  productFamily: string | null;
  state: ReadinessState;
  late: boolean;
  readiness: Readiness;
  computedAt: string;
}

/** What /metrics reports of the whole installation. */
export interface MetricsSnapshot {
  filesByPartnerState: { partner: string; state: string; n: number }[];
  rowsByPartner: { partner: string; rows: number; applied: number; rejected: number }[];
  readiness: { state: string; n: number }[];
  outboxOldestUndelivered: { connector: string; createdAt: string | null }[];
  auditLastVerifiedAt: string | null;
  loginsFailed: number;
  staleLeases: { name: string; holder: string; expiresAt: string }[];
}

export interface BoardArea {
  /** The newest message of each topic for each outbox key (lot keys are `<material>/<lot number>`), with its deliveries. */
  latestPushes(keys: string[]): Promise<Map<string, LotPush[]>>;
  /** The installation-wide aggregates of /metrics; leases that expired before `staleLeaseBefore` count as stale. */
  metricsSnapshot(staleLeaseBefore: Instant): Promise<MetricsSnapshot>;
  /** Resolves when the store takes writes now; rejects with the reason otherwise (/readyz store_writable). */
  probeWritable(): Promise<void>;
  /** The latest version of a deviation and every lot any of its versions names, or undefined. */
  getDeviationWithLots(issuer: string, partnerRef: string): Promise<{ deviation: DeviationRow; lots: { materialId: string; lotNumber: string }[] } | undefined>;
  /** Every lot with a computed readiness and no final disposition (released/rejected). */
  listOpenBoard(): Promise<BoardLot[]>;
}

/** IN lists are cut at this many values (bind parameter limits of both dialects). */
const CHUNK = 500;

export function boardArea(db: Db): BoardArea {
  return {
    latestPushes: (keys) => latestPushes(db, keys),
    metricsSnapshot: (before) => metricsSnapshot(db, new Date(isoInstant(before)).getTime()),
    probeWritable: () => probeWritable(db),
    getDeviationWithLots: (issuer, ref) => getDeviationWithLots(db, issuer, ref),
    listOpenBoard: () => listOpenBoard(db),
  };
}

// ------------------------------------------------------------------ latestPushes

interface PushDbRow {
  id: string;
  topic: string;
  key: string;
  state: string;
  created_at: string;
}

async function latestPushes(db: Db, keys: string[]): Promise<Map<string, LotPush[]>> {
  const out = new Map<string, LotPush[]>();
  // Sorted before chunking so the map's keys come out in key order, as the one-query sync read gives them.
  const unique = [...new Set(keys)].sort(byCodePoint);
  const rows: PushDbRow[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) {
    const chunk = unique.slice(i, i + CHUNK);
    rows.push(
      ...(await db.all<PushDbRow>(
        `SELECT o.id, o.topic, o."key" AS "key", o.state, o.created_at FROM outbox o
          WHERE o."key" IN (${marks(chunk)})
            AND o.created_at = (SELECT MAX(o2.created_at) FROM outbox o2 WHERE o2.topic = o.topic AND o2."key" = o."key")
          ORDER BY o."key", o.topic, o.id`,
        chunk,
      )),
    );
  }
  const deliveries = await outboxArea(db).listDeliveriesOf(rows.map((r) => r.id));
  for (const r of rows) {
    const list = out.get(r.key) ?? [];
    // Two messages of one topic with the same instant: keep the first (the lower id).
    if (list.some((x) => x.topic === r.topic)) continue;
    list.push({
      key: r.key,
      topic: r.topic,
      messageId: r.id,
      state: r.state,
      createdAt: r.created_at,
      connectors: (deliveries.get(r.id) ?? []).map((d) => ({ connector: d.connector, state: d.state, sentAt: d.sentAt, lastError: d.lastError })),
    });
    out.set(r.key, list);
  }
  return out;
}

/** Byte order of the database columns (COLLATE "C" / SQLite BINARY) for ASCII keys, not the locale's. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ------------------------------------------------------------------ metrics

async function metricsSnapshot(db: Db, staleBeforeMs: number): Promise<MetricsSnapshot> {
  // Independent reads; on one connection they run one after another anyway, so no Promise.all.
  const filesByPartnerState = await db.all<MetricsSnapshot['filesByPartnerState'][number]>(
    'SELECT partner, state, count(*) AS n FROM submissions GROUP BY partner, state ORDER BY partner, state',
  );
  const rowsByPartner = await db.all<MetricsSnapshot['rowsByPartner'][number]>(
    'SELECT partner, coalesce(sum("rows"), 0) AS "rows", coalesce(sum(applied), 0) AS applied, coalesce(sum(rejected), 0) AS rejected FROM submissions GROUP BY partner ORDER BY partner',
  );
  const readiness = await db.all<MetricsSnapshot['readiness'][number]>(
    `SELECT coalesce(r.state, 'UNASSESSED') AS state, count(*) AS n FROM lots l LEFT JOIN lot_readiness r ON r.lot_id = l.id GROUP BY 1 ORDER BY 1`,
  );
  const outboxOldestUndelivered = await db.all<MetricsSnapshot['outboxOldestUndelivered'][number]>(
    `SELECT d.connector AS connector, min(o.created_at) AS "createdAt" FROM outbox_deliveries d JOIN outbox o ON o.id = d.outbox_id
      WHERE d.state = 'pending' GROUP BY d.connector ORDER BY d.connector`,
  );
  const verified = await db.get<{ at: string | null }>(`SELECT max(at) AS at FROM audit_events WHERE "action" = 'audit.verified'`);
  const failed = await db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_events WHERE "action" = 'auth.login.failed'`);
  const leases = await db.all<{ name: string; holder: string; expires_at: number }>('SELECT name, holder, expires_at FROM job_leases WHERE expires_at < ? ORDER BY name', [staleBeforeMs]);
  return {
    filesByPartnerState,
    rowsByPartner,
    readiness,
    outboxOldestUndelivered,
    auditLastVerifiedAt: verified?.at ?? null,
    loginsFailed: failed?.n ?? 0,
    staleLeases: leases.map((r) => ({ name: r.name, holder: r.holder, expiresAt: new Date(r.expires_at).toISOString() })),
  };
}

/** Thrown inside the probe's transaction to roll its write back; never leaves probeWritable. */
class ProbeRollback extends Error {}

/**
 * /readyz's store_writable: the store takes writes NOW. The sync probe opened an IMMEDIATE
 * transaction (SQLite's write lock: fails when another process holds it past the busy timeout).
 * This one does that and more, on both dialects: one row written to job_leases (no triggers, a
 * random name no job uses) and rolled back, so a read-only file or database, a full disk or a
 * missing privilege fail here too. On PostgreSQL a failover to a standby is the case that
 * matters (the pool reconnects to a read-only server): pg_is_in_recovery() names it plainly.
 */
async function probeWritable(db: Db): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') {
        const r = await tx.get<{ standby: boolean; ro: string }>(`SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS ro`);
        if (r?.standby) throw new Error('the PostgreSQL server is a standby (in recovery) and takes no writes');
        if (r?.ro === 'on') throw new Error('the PostgreSQL transaction is read-only (default_transaction_read_only is on)');
      }
      await tx.run('INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?)', [`probe-writable:${randomUUID()}`, 'probe', 0]);
      throw new ProbeRollback();
    });
  } catch (e) {
    if (!(e instanceof ProbeRollback)) throw e;
  }
}

// ------------------------------------------------------------------ job reads

async function getDeviationWithLots(db: Db, issuer: string, partnerRef: string): Promise<{ deviation: DeviationRow; lots: { materialId: string; lotNumber: string }[] } | undefined> {
  // (issuer, partner_ref, updated_at) is unique, so the newest version is one row.
  const r = await db.get<DeviationDbRow>('SELECT * FROM deviations WHERE issuer = ? AND partner_ref = ? ORDER BY updated_at DESC LIMIT 1', [issuer, partnerRef]);
  if (!r) return undefined;
  const lots = await db.all<{ materialId: string; lotNumber: string }>(
    `SELECT DISTINCT l.material_id AS "materialId", l.lot_number AS "lotNumber"
       FROM deviation_lots dl JOIN deviations d ON d.id = dl.deviation_id JOIN lots l ON l.id = dl.lot_id
      WHERE d.issuer = ? AND d.partner_ref = ? ORDER BY "materialId", "lotNumber"`,
    [issuer, partnerRef],
  );
  return { deviation: toDeviation(r), lots };
}

interface BoardDbRow {
  id: number;
  material_id: string;
  lot_number: string;
  vendor: string | null;
  site: string | null;
  description: string | null;
  product_family: string | null;
  state: BoardLot['state'];
  late: number;
  readiness: string;
  computed_at: string;
}

async function listOpenBoard(db: Db): Promise<BoardLot[]> {
  // The newest disposition decides (dispositions are unique per lot and decided_at, so no tie).
  const rows = await db.all<BoardDbRow>(
    `SELECT l.id, l.material_id, l.lot_number, l.vendor, l.site, m.description, m.product_family, r.state, r.late, r.readiness, r.computed_at
       FROM lots l
       JOIN lot_readiness r ON r.lot_id = l.id
       LEFT JOIN materials m ON m.material_id = l.material_id
      WHERE coalesce((SELECT d.decision FROM dispositions d WHERE d.lot_id = l.id ORDER BY d.decided_at DESC LIMIT 1), '') NOT IN ('released', 'rejected')
      ORDER BY l.material_id, l.lot_number, l.id`,
  );
  return rows.map(toBoardLot);
}

function toBoardLot(r: BoardDbRow): BoardLot {
  const late = bool(r.late);
  return {
    lotId: r.id,
    materialId: r.material_id,
    lotNumber: r.lot_number,
    vendor: r.vendor,
    site: r.site,
    description: r.description,
    productFamily: r.product_family,
    state: r.state,
    late,
    readiness: expandReadiness(parseJson<Readiness>(r.readiness, { state: r.state, late, reasons: [] }), { lotNumber: r.lot_number, materialId: r.material_id }),
    computedAt: r.computed_at,
  };
}
