// A run of test-result records applied together: the outcome of applying them one by one in
// order on the direct path (apply.ts applyRecordDirect: read-only resolution, the fact, the
// identifiers learned after it), with a handful of statements per run instead of three to five
// round trips per record. This is what makes a 1M-row lab file on PostgreSQL a matter of seconds
// of SQL rather than minutes of round trips; on SQLite it saves the per-row statements too.
//
// The steps, for records r1 … rn of one submission inside the file's transaction:
// 1. read each record's fields (a bad field is that record's RowError, as on the direct path);
// 2. prefetch what resolving them will look up (BatchReads: identifiers and lot numbers by IN
//    lists), then resolve each in order against it; an identifier a record teaches is added to
//    what later records of the run see, exactly as the row it would have written;
// 3. write every resolved result with the facts area's applyTestResults (the same stored rows and
//    per-row WriteResult as upsertTestResult row by row, facts-bulk.ts);
// 4. write the learned identifiers in one multi-row upsert per 500 (masterdata learnIdentifierRows).
// A record whose resolution would write first (a lot made from a PO line) or would learn an
// identifier the schema refuses ends the run before it: the records before it are applied as
// above, and the caller applies it the careful way (its own savepoint), then starts a new run.

import type { MappedRecord, PartnerConfig } from '../../model/types.js';
import type { Db } from '../db/db.js';
import type { LotRef, Prov, TestResultInput } from '../types.js';
import { FieldProblem, FieldReader, learnsUnknownScheme, readTestResult, testResultWords, type ApplyResult } from './apply-fields.js';
import { factsArea } from './facts.js';
import { masterdataArea, resolveIn, type LearnedIdentifier } from './masterdata.js';
import { clean, dedupeIds, ResolutionWrites } from './resolution.js';
import { BatchReads } from './resolution-reads.js';

/** A record read and resolved, waiting for its fact. */
interface Resolved {
  index: number;
  rec: MappedRecord;
  lotId: number;
  result: TestResultInput;
  prov: Prov;
}

/** A record's fields read (or the field that is wrong). */
type Read = { rec: MappedRecord; prov: Prov; ref: LotRef; result: TestResultInput } | { rec: MappedRecord; prov: Prov; error: ApplyResult };

function readRecord(rec: MappedRecord, prov: Prov): Read {
  const p: Prov = { ...prov, line: prov.line ?? rec.line };
  const f = new FieldReader(rec.fields ?? {}, p.line ?? rec.line);
  try {
    const result = readTestResult(f);
    return { rec, prov: p, result, ref: f.lotRef(rec.ids ?? []) };
  } catch (e) {
    if (e instanceof FieldProblem) return { rec, prov: p, error: { error: e.error } };
    throw e;
  }
}

/**
 * Applies test-result records (every one `kind: 'test_result'`) inside the caller's transaction,
 * in order, and returns the results of the first k of them (k ≥ 0): records[k], when k < n, must
 * be applied with its own savepoint before the rest is run again.
 */
export async function applyTestResultRun(db: Db, partner: PartnerConfig, records: readonly MappedRecord[], provOf: (rec: MappedRecord) => Prov): Promise<ApplyResult[]> {
  const read = records.map((rec) => readRecord(rec, provOf(rec)));
  const reads = new BatchReads(db);
  const refs = read.flatMap((r) => ('ref' in r ? [r.ref] : []));
  const ids = refs.flatMap((ref) => dedupeIds(ref.ids).filter((i) => i.scheme !== 'erp_lot'));
  const numbers = refs.flatMap((ref) => [clean(ref.lotNumber), ...ref.ids.filter((i) => i.scheme === 'erp_lot').map((i) => clean(i.value))]).filter((n): n is string => n !== undefined);
  await reads.prefetch(partner.id, ids, numbers);

  const out: ApplyResult[] = [];
  const resolved: Resolved[] = [];
  const learned: LearnedIdentifier[] = [];
  for (let i = 0; i < read.length; i++) {
    const r = read[i];
    if ('error' in r) {
      out.push(r.error);
      continue;
    }
    let res;
    try {
      res = await resolveIn(db, reads, partner, r.ref, r.prov, { readOnly: true });
    } catch (e) {
      if (e instanceof ResolutionWrites) break;
      throw e;
    }
    if ('error' in res) {
      out.push(res);
      continue;
    }
    if (learnsUnknownScheme(res.learned)) break;
    reads.learned(res.lotId, res.learned, partner.id);
    for (const id of res.learned) learned.push({ lotId: res.lotId, ref: id, prov: r.prov });
    resolved.push({ index: out.length, rec: r.rec, lotId: res.lotId, result: r.result, prov: r.prov });
    out.push({ lotIds: [res.lotId] });
  }

  if (resolved.length) {
    const applied = await factsArea(db).applyTestResults(resolved.map((r) => ({ lotId: r.lotId, result: r.result, prov: r.prov })));
    resolved.forEach((r, k) => {
      const w = applied.rows[k];
      const sub = r.prov.submissionId;
      // As factWrite (apply.ts): the row overwrote a fact an earlier row of this submission wrote.
      if (sub !== null && w.prior !== undefined && w.prior.submissionId === sub) {
        out[r.index] = {
          lotIds: [r.lotId],
          fact: { key: testResultWords(r.result, r.rec), priorLine: w.prior.line, heldByLine: w.credit.submissionId === sub ? w.credit.line : null },
        };
      }
    });
  }
  await masterdataArea(db).learnIdentifierRows(learned, partner.id);
  return out;
}
