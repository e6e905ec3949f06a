// lot_readiness and the outbox store reasons as code + params + evidence (readiness/render.ts);
// the messages are rendered when read or sent. What readers and receivers see must be exactly
// what the rules produce, and a store written before (version 13, rendered messages) must keep
// reading as it did and be rewritten compactly by a recompute without a change being counted.

import { copyFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLotgate, type Lotgate } from '../../pipeline/lotgate.js';
import type { Readiness } from '../../pipeline/model/types.js';
import { dispositionRequestMessage, lotReadinessMessage } from '../../pipeline/outbound/messages.js';
import { computeReadiness } from '../../pipeline/readiness/compute.js';
import { rulesHashOf } from '../../pipeline/readiness/clock.js';
import { recomputeReadiness } from '../../pipeline/readiness/recompute.js';
import { expandPayload, renderMessage } from '../../pipeline/readiness/render.js';
import { resolveRuleSet } from '../../pipeline/readiness/rule-set.js';
import { lotSignaturesPayload } from '../../pipeline/sign/payload.js';
import { readinessHash } from '../../pipeline/store/store.js';
import { testLog } from '../runtime/helpers/log.js';
import { ingestText } from '../runtime/helpers/ingest.js';
import { lotsCsv, makeWorld, resultsCsv, type World } from '../runtime/helpers/world.js';
import { itSqlite } from '../setup/store-mode.js';

let w: World;
let lg: Lotgate;

beforeEach(async () => {
  w = makeWorld();
  lg = await createLotgate(w.config, { log: testLog() });
});
afterEach(async () => {
  await lg.close();
  w.cleanup();
});

const ingest = async (name: string, partner: string, text: string): Promise<void> => void (await ingestText(lg, w.dir, partner, name, text));

const dbPath = () => path.join(w.config.dataDir, 'lotgate.db');
const counts = async (l: Lotgate) => ({ audit: (await l.store.audit.listAudit({ action: 'lot.readiness_changed', limit: 10_000 })).length, outbox: (await l.store.outbox.listOutbox({})).length });

/** The readiness the rules give for the lot now, as readers see it (no params). */
async function expected(l: Lotgate, lotId: number, at: Date): Promise<Readiness> {
  const facts = await l.store.readiness.loadLotFacts(lotId);
  const r = computeReadiness(facts, resolveRuleSet(w.config.readiness, facts.material ?? { materialId: facts.lot.materialId }), at);
  return { ...r, reasons: r.reasons.map(({ params: _p, ...rest }) => rest) };
}

type ReadinessRow = { lot_id: number; readiness: string; computed_at: string; rules_hash: string | null };

/** The file's rows read with better-sqlite3, lotgate closed or open (SQLite only). */
function rawRows(): ReadinessRow[] {
  const db = new Database(dbPath(), { readonly: true });
  try {
    return db.prepare('SELECT lot_id, readiness, computed_at, rules_hash FROM lot_readiness ORDER BY lot_id').all() as never;
  } finally {
    db.close();
  }
}

/** The stored rows as they are, through the store's own connection (SQLite or PostgreSQL). */
const storedRows = (l: Lotgate): Promise<ReadinessRow[]> =>
  l.store.db.all<ReadinessRow>('SELECT lot_id, readiness, computed_at, rules_hash FROM lot_readiness ORDER BY lot_id');
const storedOutbox = (l: Lotgate): Promise<{ id: string; payload: string }[]> => l.store.db.all('SELECT id, payload FROM outbox ORDER BY id');

async function someLots(): Promise<number[]> {
  await ingest('LOTS_1.csv', 'erp', lotsCsv(['L1', 'L2', 'L3']));
  // Test results on L1 and L2: test reasons whose params name results, samples and limits.
  await ingest('RESULTS_1.csv', 'lab-a', resultsCsv('L1', 3));
  await ingest('RESULTS_2.csv', 'lab-a', resultsCsv('L2', 1, 11));
  return (await lg.store.reads.listLots()).map((l) => l.lotId);
}

describe('compact readiness', () => {
  it('stores codes, params and evidence; readers and the outbox give back exactly the rules\' messages', async () => {
    const ids = await someLots();
    // Readiness forgotten, so that the recompute at `at` is a change for every lot (messages at `at`).
    await lg.store.db.run('DELETE FROM lot_readiness');
    const at = new Date('2026-12-01T08:00:00.000Z');
    expect((await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, ids, at, 'test'))).changed).toBe(ids.length);

    const reasonsSeen = new Set<string>();
    for (const row of await storedRows(lg)) {
      const stored = JSON.parse(row.readiness) as { reasons: Record<string, unknown>[] };
      for (const r of stored.reasons) {
        // Compact: no sentence; severity and evidence only where the code and params don't imply them.
        expect(r).not.toHaveProperty('message');
        expect(Object.keys(r).every((k) => ['code', 'severity', 'params', 'evidence'].includes(k))).toBe(true);
        reasonsSeen.add(String(r.code));
      }
      expect(await lg.store.readiness.getReadiness(row.lot_id)).toEqual({ ...(await expected(lg, row.lot_id, at)), computedAt: row.computed_at });
    }
    expect(reasonsSeen.size).toBeGreaterThan(2);

    // The API's list and the board read the same rendering.
    const listed = await lg.store.reads.listLotsScoped('all', {}, { limit: 100 });
    expect(listed.length).toBe(ids.length);
    for (const l of listed) expect(l.reasons).toEqual((await expected(lg, l.lotId, at)).reasons);
    const board = await lg.store.board.listOpenBoard();
    for (const b of board) expect(b.readiness).toEqual(await expected(lg, b.lotId, at));

    // Outbox: stored compact, read (and sent) as the payload the message id was computed on.
    const raw = new Map((await storedOutbox(lg)).map((o) => [o.id, o.payload]));
    const readinessMsgs = (await lg.store.outbox.listOutbox({})).filter((o) => o.topic === 'erp.lot_readiness' || o.topic === 'qms.disposition_request');
    expect(readinessMsgs.length).toBeGreaterThan(0);
    let compactSeen = 0;
    for (const o of readinessMsgs) {
      const stored = JSON.parse(raw.get(o.id)!) as { readiness: { reasons: Record<string, unknown>[] } };
      for (const r of stored.readiness.reasons) {
        if (!('message' in r)) compactSeen++;
        expect(r).not.toHaveProperty('message');
      }
      const payload = o.payload as { lot: { materialId: string; lotNumber: string }; readiness: { reasons: { message: string }[] } };
      for (const r of payload.readiness.reasons) expect(typeof r.message).toBe('string');
    }
    expect(compactSeen).toBeGreaterThan(0);

    // The latest message of each lot is byte for byte what the builder makes of the readiness.
    for (const lotId of ids) {
      const facts = await lg.store.readiness.loadLotFacts(lotId);
      const readiness = computeReadiness(facts, resolveRuleSet(w.config.readiness, facts.material ?? { materialId: facts.lot.materialId }), at);
      const vendorBatch = facts.identifiers.find((i) => i.scheme === 'cmo_batch' || i.scheme === 'vendor_batch')?.value;
      const lot = { ...facts.lot, vendor: facts.lot.vendor ?? undefined, vendorBatch };
      const msg = lotReadinessMessage(lot, readiness, at.toISOString(), await lotSignaturesPayload(lg.store, lotId));
      const got = await lg.store.outbox.getOutbox(msg.id);
      expect(got).toBeDefined();
      expect(JSON.stringify(got!.payload)).toBe(JSON.stringify(msg.payload));
      expect(raw.get(msg.id)!.length).toBeLessThan(JSON.stringify(msg.payload).length);
      if (readiness.state === 'READY') {
        const req = dispositionRequestMessage(lot, readiness, at.toISOString());
        expect(JSON.stringify((await lg.store.outbox.getOutbox(req.id))?.payload)).toBe(JSON.stringify(req.payload));
      }
    }
  });

  // SQLite's migration 16 from a version-13 file; PostgreSQL's migrations: test/store/conformance/pg-migrate.test.ts.
  itSqlite('upgrades a version-13 store with rendered rows: read as before, rewritten compactly with no change counted', async () => {
    const ids = await someLots();
    const seen = new Map(await Promise.all(ids.map(async (id) => [id, await lg.store.readiness.getReadiness(id)] as const)));
    const outboxSeen = (await lg.store.outbox.listOutbox({})).map((o) => [o.id, JSON.stringify(o.payload)] as const);
    const before = await counts(lg);
    await lg.close();

    // The same store as lotgate 13 wrote it: rendered messages in lot_readiness and outbox payloads.
    const old = path.join(w.dir, 'v13.db');
    copyFileSync(dbPath(), old);
    const raw = new Database(old);
    for (const [lotId, r] of seen) {
      const { computedAt: _c, ...doc } = r!;
      const text = JSON.stringify(doc);
      raw.prepare('UPDATE lot_readiness SET readiness = ?, readiness_hash = ? WHERE lot_id = ?').run(text, readinessHash(text), lotId);
    }
    for (const [id, payload] of outboxSeen) raw.prepare('UPDATE outbox SET payload = ? WHERE id = ?').run(payload, id);
    raw.pragma('user_version = 13');
    raw.close();
    copyFileSync(old, dbPath());
    const oldRows = rawRows();
    expect(oldRows.some((r) => r.readiness.includes('"message"'))).toBe(true);

    lg = await createLotgate(w.config, { log: testLog() });
    // Migration 16: rows with rendered messages lose their rules hash, so the sweep picks them up.
    const upgraded = rawRows();
    for (const row of upgraded) {
      const hasMessages = row.readiness.includes('"message"');
      if (hasMessages) expect(row.rules_hash).toBeNull();
    }
    // Read exactly as before, old rows and old outbox messages alike.
    for (const [id, r] of seen) expect(await lg.store.readiness.getReadiness(id)).toEqual(r);
    expect((await lg.store.outbox.listOutbox({})).map((o) => [o.id, JSON.stringify(o.payload)] as const)).toEqual(outboxSeen);

    // The sweep selects them (rules hash differs) and rewrites them compactly: nothing counted,
    // nothing audited or sent, the computed-at time kept.
    const now = new Date();
    const due = await lg.store.readiness.listClockDueLotIds(now.toISOString(), rulesHashOf(w.config.readiness));
    for (const row of upgraded) if (row.rules_hash === null) expect(due).toContain(row.lot_id);
    expect(await lg.store.transaction((tx) => recomputeReadiness({ ...lg, store: tx }, ids, now, 'test'))).toEqual({ lots: ids.length, changed: 0 });
    expect(await counts(lg)).toEqual(before);
    const after = rawRows();
    for (const row of after) {
      expect(row.readiness).not.toContain('"message"');
      expect(row.rules_hash).not.toBeNull();
    }
    expect(after.map((r) => r.computed_at)).toEqual(oldRows.map((r) => r.computed_at));
    for (const [id, r] of seen) expect(await lg.store.readiness.getReadiness(id)).toEqual(r);
  });

  it('renders an unknown code (a newer lotgate\'s) by naming it, and old rendered reasons as stored', () => {
    expect(renderMessage('R_FROM_THE_FUTURE', {}, { lotNumber: 'L9', materialId: 'M' })).toBe('R_FROM_THE_FUTURE for lot L9 (material M).');
    const legacy = { lot: { materialId: 'M', lotNumber: 'L9' }, readiness: { reasons: [{ code: 'R_COA_MISSING', severity: 'NOT_READY', message: 'as sent', evidence: [] }] } };
    expect(expandPayload(legacy)).toBe(legacy);
  });
});
