// What users see of a store, read through the async store: the board's lots, every lot page, the
// open board, the submissions, the audit trail and the outbox. Two stores holding the same data
// must give equal views, whichever database they are on.

import { asyncStore } from '../../../pipeline/store/areas/index.js';
import { openDb } from '../../../pipeline/store/open-db.js';

export async function readViews(url: string) {
  const db = await openDb(url, { migrate: false });
  try {
    const s = asyncStore(db);
    const lots = await s.reads.listLotsScoped('all', {}, { limit: 1000 });
    return {
      lots,
      details: await Promise.all(lots.map((l) => s.reads.getLotDetailById(l.lotId))),
      board: await s.board.listOpenBoard(),
      submissions: await s.reads.listSubmissionsScoped('all', {}, { limit: 1000 }),
      rejected: await Promise.all((await s.ledger.listSubmissions({})).map((sub) => s.ledger.listRejectedRows(sub.id))),
      audit: await s.audit.listAudit({ limit: 10_000 }),
      outbox: await s.outbox.listOutbox({}),
    };
  } finally {
    await db.close();
  }
}
