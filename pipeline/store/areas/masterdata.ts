// The masterdata area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface MasterDataArea {}

export function masterdataArea(db: Db): MasterDataArea {
  void db;
  return {};
}
