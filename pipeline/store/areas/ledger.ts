// The ledger area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface LedgerArea {}

export function ledgerArea(db: Db): LedgerArea {
  void db;
  return {};
}
