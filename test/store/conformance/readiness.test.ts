// The readiness area's promises on both dialects: the facts the rules see are the sync loader's,
// field for field (the sync Store's answers on the same rows, recorded: reference.ts); a
// stored readiness reads back as the sync store reads it, is not rewritten when identical, and
// says when it changed; the sweep's lot selections; the dirty markers, and that a recompute never
// clears a marker another machine set again while it ran.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { Readiness, RuleSet } from '../../../pipeline/model/types.js';
import { computeReadiness } from '../../../pipeline/readiness/compute.js';
import type { Db } from '../../../pipeline/store/db/db.js';
import { describeStore, type Harness, type OpenedStore } from './harness.js';
import { reference } from './reference.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const T = '2026-01-01T00:00:00.000Z';
const NOW = new Date('2026-05-01T00:00:00.000Z');

const RULES: RuleSet = {
  requiredStages: ['manufacturing', 'qa_release'],
  requiredDocuments: ['coa', 'batch_record'],
  tests: [{ code: 'ASSAY', specLow: 95, specHigh: 105 }, { code: 'PH' }],
  labelApprovalRequired: true,
  minShelfLifeDays: 400,
  quantityTolerancePct: 5,
  stageDueDaysBeforeReceipt: { manufacturing: 30, qa_release: 10 },
};

/** Rows of every fact table the loader reads, written with plain SQL (no other area's code). */
async function seedFacts(db: Db): Promise<void> {
  const run = (sql: string, args: unknown[] = []) => db.run(sql, args);
  await run(`INSERT INTO submissions (id, partner, original_name, size, sha256, received_at, source, archive_path) VALUES (1, 'cmo', 'f.csv', 1, 'x', ?, 'cli', 'a')`, [T]);
  await run(`INSERT INTO materials (material_id, description, gtin, product_family, uom, updated_at) VALUES ('M1', 'Tablets', '0123', 'F1', 'EA', ?)`, [T]);
  const lot = `INSERT INTO lots (id, material_id, lot_number, expiry_date, quantity, uom, site, vendor, quality_state, po_number, po_item, created_at, updated_at, submission_id, line) VALUES (?, ?, ?, ?, ?, 'EA', 'S1', 'V1', ?, ?, ?, ?, ?, 1, 2)`;
  await run(lot, [1, 'M1', 'L1', '2026-12-31', 100.5, 'unrestricted', 'P1', '10', T, T]);
  await run(lot, [2, 'M1', 'L2', null, null, null, null, null, T, T]);
  await run(lot, [3, 'M2', 'L3', '2030-01-01', 5, 'blocked', null, null, T, T]);
  const po = `INSERT INTO purchase_orders (po_number, po_item, material_id, quantity, uom, vendor, planned_date, lot_number, status, updated_at) VALUES (?, ?, 'M1', ?, 'EA', 'V1', ?, ?, ?, ?)`;
  await run(po, ['P1', '10', 100, '2026-06-01', null, 'open', T]);
  await run(po, ['P2', '10', 50, '2026-07-01', 'L2', 'closed', T]);
  await run(po, ['P3', '20', 60, '2026-08-01', 'L2', null, T]);
  const ident = `INSERT INTO lot_identifiers (lot_id, scheme, value, issuer, created_at) VALUES (?, ?, ?, ?, ?)`;
  await run(ident, [1, 'cmo_batch', 'B-1', 'cmo', T]);
  await run(ident, [2, 'cmo_batch', 'B-1', 'cmo', T]);
  await run(ident, [1, 'erp_lot', 'L1', 'erp', T]);
  const stage = `INSERT INTO stage_events (lot_id, stage, status, event_time, site, recorded_at, submission_id, line) VALUES (?, ?, ?, ?, 'S1', ?, 1, ?)`;
  await run(stage, [1, 'manufacturing', 'completed', '2026-01-05T00:00:00.000Z', T, 4]);
  await run(stage, [1, 'manufacturing', 'started', '2026-01-01T00:00:00.000Z', T, 3]);
  await run(stage, [2, 'qa_release', 'on_hold', '2026-02-01T00:00:00.000Z', T, 5]);
  const test = `INSERT INTO test_results (lot_id, sample_id, test_code, test_name, result_raw, result_value, qualifier, unit, spec_low, spec_high, result_status, tested_at, recorded_at, replicate, line)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  await run(test, [1, 'S-1', 'ASSAY', 'Assay', '99.5', 99.5, null, '%', 95, 105, 'final', '2026-01-06T00:00:00.000Z', T, null, 6]);
  await run(test, [1, null, 'ASSAY', 'Assay', '110', 110, null, '%', 95, 105, 'preliminary', null, T, null, 7]);
  await run(test, [1, 'S-1', 'PH', null, '<LOQ', null, '<LOQ', null, null, null, 'final', '2026-01-06T00:00:00.000Z', T, 'r2', 8]);
  await run(test, [1, 'S-1', 'PH', null, '7.1', 7.1, null, null, null, null, 'final', '2026-01-06T00:00:00.000Z', T, 'r1', 9]);
  const doc = `INSERT INTO documents (lot_id, type, doc_id, version, sha256, issued_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  await run(doc, [1, 'coa', 'D-1', 2, 'h2', '2026-01-08', T]);
  await run(doc, [1, 'coa', 'D-1', 1, 'h1', '2026-01-07', T]);
  const dev = `INSERT INTO deviations (issuer, partner_ref, title, classification, status, capa_refs, opened_at, closed_at, updated_at, recorded_at) VALUES ('cmo', ?, 't', ?, ?, ?, ?, ?, ?, ?) RETURNING id`;
  const d1 = (await run(dev, ['DEV-1', 'major', 'open', '[]', T, null, '2026-01-02T00:00:00.000Z', T])).rows[0].id;
  await run(dev, ['DEV-1', 'major', 'closed', '["CAPA-1"]', T, '2026-01-09T00:00:00.000Z', '2026-01-09T00:00:00.000Z', T]);
  const d2 = (await run(dev, ['DEV-2', 'minor', 'investigation', '[]', T, null, T, T])).rows[0].id;
  await run('INSERT INTO deviation_lots (deviation_id, lot_id) VALUES (?, 1), (?, 1), (?, 2)', [d1, d2, d2]);
  await run(`INSERT INTO dispositions (lot_id, decision, decided_by, decided_at, recorded_at) VALUES (3, 'quarantine', 'qa', ?, ?)`, [T, T]);
}

/** What the sync Store answered on the same rows (reference.ts). */
const REF = reference('readiness');

async function seeded(h: Harness, now?: () => Date): Promise<OpenedStore> {
  const s = await h.fresh({ now });
  await seedFacts(s.db);
  return s;
}

/** Plain lots, ids given, for the selections and markers. */
async function lots(db: Db, ids: readonly number[]): Promise<void> {
  for (const id of ids) await db.run('INSERT INTO lots (id, material_id, lot_number, created_at, updated_at) VALUES (?, ?, ?, ?, ?)', [id, 'M', `L${id}`, T, T]);
}

/** Runs `body` (JS, top-level await) in another lotgate process with `s` = the async store at url. */
async function inAnotherProcess(url: string, body: string, onLine: (line: string, send: (text: string) => void) => void): Promise<void> {
  const script = `
    import { openDb } from ${JSON.stringify(path.join(ROOT, 'pipeline/store/open-db.ts'))};
    import { asyncStore } from ${JSON.stringify(path.join(ROOT, 'pipeline/store/areas/index.ts'))};
    const db = await openDb(process.argv[1], { now: () => new Date('2026-09-09T09:09:09.000Z') });
    const s = asyncStore(db);
    const next = () => new Promise((r) => process.stdin.once('data', r));
    ${body}
    await db.close();
    process.stdin.destroy();`;
  const proc = spawn(process.execPath, ['--import', path.join(ROOT, 'test/scheduler/helpers/ts-register.mjs'), '--input-type=module', '-e', script, url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  let buf = '';
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(buf.slice(0, i), (text) => proc.stdin.write(`${text}\n`));
      buf = buf.slice(i + 1);
    }
  });
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`the other process failed (${code}): ${err}`);
}

describeStore('readiness', (h) => {
  it('loads the facts of a batch of lots exactly as the sync loader does, in the order asked', async () => {
    const s = await seeded(h);
    {
      const batch = await s.readiness.loadLotFactsBatch([3, 1, 2]);
      expect(batch).toEqual(REF('loadLotFactsBatch([3, 1, 2])'));
      // A few fields spelled out, so that the reference cannot be wrong in the same way.
      expect(batch.map((f) => f.lot.lotNumber)).toEqual(['L3', 'L1', 'L2']);
      expect(batch[1].conflictingIdentifiers).toEqual([{ scheme: 'cmo_batch', value: 'B-1', issuer: 'cmo', lotNumbers: ['L1', 'L2'] }]);
      expect(batch[1].stageEvents.map((e) => e.status)).toEqual(['started', 'completed']);
      expect(batch[1].testResults.map((t) => [t.testCode, t.resultRaw])).toEqual([['ASSAY', '110'], ['ASSAY', '99.5'], ['PH', '7.1'], ['PH', '<LOQ']]);
      expect(batch[1].deviations.map((d) => [d.partnerRef, d.status])).toEqual([['DEV-1', 'closed'], ['DEV-2', 'investigation']]);
      expect(batch[1].plannedReceipt).toMatchObject({ poNumber: 'P1' });
      expect(batch[2].plannedReceipt).toMatchObject({ poNumber: 'P3' });
      expect(batch[0].material).toBeNull();
      expect(batch[0].dispositions).toHaveLength(1);
      expect(await s.readiness.loadLotFacts(2)).toEqual(batch[2]);
      expect(await s.readiness.loadLotFactsBatch([])).toEqual([]);
      await expect(s.readiness.loadLotFactsBatch([1, 99])).rejects.toThrow('loadLotFacts: no lot 99');
    }
  });

  it('loads a batch longer than one IN list (chunks of 500), in order', async () => {
    const s = await seeded(h);
    const ids = Array.from({ length: 620 }, (_, i) => 1000 + i);
    await s.db.run(`INSERT INTO lots (id, material_id, lot_number, created_at, updated_at) VALUES ${ids.map(() => `(?, 'M1', ?, '${T}', '${T}')`).join(', ')}`, ids.flatMap((id) => [id, `N${id}`]));
    const asked = [...ids].reverse().concat([1]);
    const facts = await s.readiness.loadLotFactsBatch(asked);
    expect(facts.map((f) => f.lot.id)).toEqual(asked);
    expect(facts.every((f) => f.material?.materialId === 'M1')).toBe(true);
  });

  it('a stored readiness reads back as the sync store reads it; identical ones are not rewritten', async () => {
    const s = await seeded(h);
    {
      const facts = await s.readiness.loadLotFacts(1);
      const r = computeReadiness(facts, RULES, NOW);
      expect(r.reasons.length).toBeGreaterThan(2);
      const clock = { dueAt: '2026-06-01T00:00:00.000Z', rulesHash: 'h1' };
      expect(await s.readiness.getReadiness(1)).toBeNull();
      expect(await s.readiness.saveReadiness(1, r, T, clock)).toEqual({ changed: true, previous: null });
      const back = await s.readiness.getReadiness(1);
      expect(back).toEqual(REF('getReadiness(1) after saveReadiness(1, r, T, clock)'));
      expect(back).toMatchObject({ state: r.state, late: r.late, computedAt: T });
      expect(back!.reasons.map((x) => [x.code, x.message])).toEqual(r.reasons.map((x) => [x.code, x.message]));
      const stamps = await s.readiness.readinessStamps([1, 2]);
      expect([...stamps.keys()]).toEqual([1]);
      expect(stamps.get(1)).toEqual(REF('readinessStamps([1]).get(1) after saveReadiness(1, r, T, clock)'));

      // The same readiness again: not written (computed_at stays), only a moved clock is.
      const later = '2026-02-01T00:00:00.000Z';
      expect(await s.readiness.saveReadiness(1, r, later, { dueAt: null, rulesHash: 'h2' })).toEqual({ changed: false, previous: r });
      expect((await s.readiness.getReadiness(1))!.computedAt).toBe(T);
      expect((await s.readiness.readinessStamps([1])).get(1)).toMatchObject({ dueAt: null, rulesHash: 'h2' });

      // A different readiness: written, `changed`, the previous one as readers saw it.
      const released: Readiness = { state: 'READY', reasons: [], late: false };
      const res = await s.transaction((tx) => tx.readiness.saveReadiness(1, released, later));
      expect(res.changed).toBe(true);
      const { computedAt: _c, ...prevAsRead } = back!;
      expect(res.previous).toEqual(prevAsRead);
      expect(await s.readiness.getReadiness(1)).toMatchObject({ state: released.state, computedAt: later });
    }
  });

  it('saveReadinessMany gives each lot what saveReadiness one at a time gives: new, identical, moved clock, changed', async () => {
    const run = async (many: boolean) => {
      const s = await seeded(h);
      const r = computeReadiness(await s.readiness.loadLotFacts(1), RULES, NOW);
      const ready: Readiness = { state: 'READY', reasons: [], late: false };
      // Lots 1 and 2 stored first; then 1 unchanged (clock moved), 2 changed, 3 new.
      await s.readiness.saveReadiness(1, r, T, { dueAt: null, rulesHash: 'h1' });
      await s.readiness.saveReadiness(2, r, T, { dueAt: null, rulesHash: 'h1' });
      const later = '2026-02-01T00:00:00.000Z';
      const items = [
        { lotId: 1, readiness: r, at: later, clock: { dueAt: '2026-09-01T00:00:00.000Z', rulesHash: 'h1' } },
        { lotId: 2, readiness: ready, at: later, clock: { dueAt: null, rulesHash: 'h1' } },
        { lotId: 3, readiness: ready, at: later },
      ];
      const results = many
        ? await s.transaction((tx) => tx.readiness.saveReadinessMany(items))
        : await s.transaction(async (tx) => {
            const out = [];
            for (const i of items) out.push(await tx.readiness.saveReadiness(i.lotId, i.readiness, i.at, i.clock));
            return out;
          });
      return { results, stored: await Promise.all([1, 2, 3].map((id) => s.readiness.getReadiness(id))), stamps: [...(await s.readiness.readinessStamps([1, 2, 3])).entries()] };
    };
    const one = await run(false);
    expect(one.results.map((x) => x.changed)).toEqual([false, true, true]);
    expect(await run(true)).toEqual(one);
  });

  it('selects the lots the sweep recomputes: clock due, other rules, never computed; open lots only', async () => {
    const s = await h.fresh();
    await lots(s.db, [1, 2, 3, 4, 5, 6, 7, 8]);
    const readiness = `INSERT INTO lot_readiness (lot_id, state, late, readiness, computed_at, clock_due_at, rules_hash) VALUES (?, 'READY', 0, 'null', ?, ?, ?)`;
    await s.db.run(readiness, [2, T, '2026-03-01T00:00:00.000Z', 'h']); // due
    await s.db.run(readiness, [3, T, '2026-03-02T00:00:00.000Z', 'h']); // due in the future
    await s.db.run(readiness, [4, T, null, 'old']); // other rules
    await s.db.run(readiness, [5, T, null, 'h']); // nothing due
    await s.db.run(readiness, [8, T, null, null]); // no rules hash yet
    const disp = `INSERT INTO dispositions (lot_id, decision, decided_at, recorded_at) VALUES (?, ?, ?, ?)`;
    await s.db.run(disp, [6, 'released', '2026-01-02', T]); // closed, never computed
    await s.db.run(disp, [7, 'released', '2026-01-02', T]);
    await s.db.run(disp, [7, 'quarantine', '2026-01-03', T]); // reopened by the latest decision
    expect(await s.readiness.listClockDueLotIds('2026-03-01T00:00:00.000Z', 'h')).toEqual([1, 2, 4, 7, 8]);
    expect(await s.readiness.listClockDueLotIds(new Date('2026-03-02T00:00:00.000Z'), 'h')).toEqual([1, 2, 3, 4, 7, 8]);
    expect(await s.readiness.listOpenLotIds()).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(await s.readiness.listAllLotIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('dirty markers: marking is idempotent and takes the newer cause; reads page, filter and count', async () => {
    let clock = Date.parse('2026-01-01T00:00:00.000Z');
    const s = await h.fresh({ now: () => new Date(clock) });
    await lots(s.db, [1, 2, 3, 4, 5]);
    await s.db.run(`INSERT INTO submissions (id, partner, original_name, size, sha256, received_at, source, archive_path) VALUES (7, 'p', 'f', 1, 'x', ?, 'cli', 'a')`, [T]);
    expect(await s.readiness.markLotsDirty([3, 1, 3], { submissionId: 7, partner: 'p' })).toBe(3);
    expect(await s.readiness.markLotsDirty([1], { submissionId: 7, partner: 'p' })).toBe(1);
    expect(await s.readiness.countDirtyLots()).toBe(2);
    clock += 60_000;
    await s.readiness.markLotsDirty(new Set([3, 5]), {});
    expect(await s.readiness.dirtyLots(10)).toEqual([
      { lotId: 1, submissionId: 7, partner: 'p' },
      { lotId: 3, submissionId: null, partner: null },
      { lotId: 5, submissionId: null, partner: null },
    ]);
    expect((await s.readiness.dirtyLots(1, 1)).map((d) => d.lotId)).toEqual([3]);
    expect((await s.readiness.dirtyLots(10, 0, '2026-01-01T00:00:30.000Z')).map((d) => d.lotId)).toEqual([1]);
    expect((await s.readiness.stillDirty([5, 2, 1])).map((d) => d.lotId)).toEqual([1, 5]);
    expect(await s.readiness.dirtyAmong([1, 2, 3])).toEqual(new Set([1, 3]));
    expect(await s.readiness.isLotDirty(3)).toBe(true);
    expect(await s.readiness.isLotDirty(2)).toBe(false);
    await s.readiness.clearDirty([1, 3, 4]);
    expect(await s.readiness.dirtyLots(10)).toEqual([{ lotId: 5, submissionId: null, partner: null }]);
    expect(await s.readiness.stillDirty([])).toEqual([]);
    expect(await s.readiness.dirtyAmong([])).toEqual(new Set());
  });

  it('clearDirty keeps a marker set again after this transaction read it', async () => {
    let clock = Date.parse('2026-01-01T00:00:00.000Z');
    const s = await h.fresh({ now: () => new Date((clock += 1000)) });
    await lots(s.db, [1, 2]);
    await s.readiness.markLotsDirty([1, 2], {});
    await s.transaction(async (tx) => {
      expect((await tx.readiness.stillDirty([1, 2])).map((d) => d.lotId)).toEqual([1, 2]);
      await tx.readiness.markLotsDirty([2], { partner: 'again' });
      await tx.readiness.clearDirty([1, 2]);
    });
    expect(await s.readiness.dirtyLots(10)).toEqual([{ lotId: 2, submissionId: null, partner: 'again' }]);
  });

  if (h.dialect === 'postgres') {
    it('a recompute holding the audit chain does not wait for a file that re-marks a lot and then audits', async () => {
      const s = await h.fresh();
      await lots(s.db, [1]);
      await s.readiness.markLotsDirty([1], {});
      const b = await h.another({ now: () => new Date('2026-09-09T09:09:09.000Z') });
      const signal = () => {
        let fire!: () => void;
        const p = new Promise<void>((r) => (fire = r));
        return { p, fire };
      };
      const recomputed = signal();
      const marked = signal();
      // The recompute: reads the marker, appends its audit event (the chain's lock, held to COMMIT)…
      const recompute = s.transaction(async (tx) => {
        await tx.readiness.stillDirty([1]);
        await tx.audit.appendAudit({ actor: 'readiness:recompute', action: 'job.run', subject: 'lot:M/L1' });
        recomputed.fire();
        await marked.p;
        // …and clears while the file's transaction holds the re-marked row and waits for the chain.
        await tx.readiness.clearDirty([1]);
      });
      // The file: re-marks the lot, then audits (as process-submission.ts does).
      const file = b.transaction(async (tx) => {
        await recomputed.p;
        await tx.readiness.markLotsDirty([1], { partner: 'file' });
        marked.fire();
        await tx.audit.appendAudit({ actor: 'partner:file', action: 'job.run', subject: 'submission:1' });
      });
      await Promise.all([recompute, file]);
      expect(await s.readiness.dirtyLots(10)).toEqual([{ lotId: 1, submissionId: null, partner: 'file' }]);
      expect(await s.audit.verifyAudit()).toEqual({ ok: true, count: 2 });
    });
  }

  it('a lot re-marked by another machine while a recompute runs keeps its marker', async () => {
    const s = await h.fresh({ now: () => new Date('2026-01-01T00:00:00.000Z') });
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    await lots(s.db, ids);
    await s.readiness.markLotsDirty(ids, {});
    const r: Readiness = { state: 'READY', reasons: [], late: false };
    const readByRecompute = new Map<number, string | null>();
    // The recompute: read the markers, write each lot's readiness, clear — one transaction.
    const recompute = (started: () => void) =>
      s.transaction(async (tx) => {
        for (const d of await tx.readiness.stillDirty(ids)) readByRecompute.set(d.lotId, d.partner);
        started();
        for (const id of ids) await tx.readiness.saveReadiness(id, r, T);
        await tx.readiness.clearDirty(ids);
      });
    if (h.dialect === 'postgres') {
      // The other machine re-marks every lot, one statement each, while the recompute runs.
      const b = await h.another({ now: () => new Date('2026-09-09T09:09:09.000Z') });
      let go!: () => void;
      const started = new Promise<void>((res) => (go = res));
      await Promise.all([recompute(go), started.then(() => Promise.all(ids.map((id) => b.readiness.markLotsDirty([id], { partner: 'B' }))))]);
    } else {
      // SQLite: another process (two connections in one process cannot wait for each other's
      // lock). Its marks queue on the file lock until the recompute commits.
      let ran!: Promise<void>;
      let ready!: () => void;
      const running = new Promise<void>((res) => (ready = res));
      const other = inAnotherProcess(
        s.url,
        `console.log('ready'); await next(); for (const id of ${JSON.stringify(ids)}) await s.readiness.markLotsDirty([id], { partner: 'B' });`,
        (line, send) => {
          if (line !== 'ready') return;
          ran = recompute(() => send('go'));
          ready();
        },
      );
      await running;
      await Promise.all([ran, other]);
    }
    // Every lot is either still marked by B, or the recompute read B's marker (and so B's facts).
    const left = new Map((await s.readiness.dirtyLots(100)).map((d) => [d.lotId, d.partner]));
    for (const id of ids) expect(left.get(id) === 'B' || readByRecompute.get(id) === 'B', `lot ${id}`).toBe(true);
    expect((await s.readiness.readinessStamps(ids)).size).toBe(40);
  }, 30_000);
});
