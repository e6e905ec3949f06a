// The pulls area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface PullsArea {}

export function pullsArea(db: Db): PullsArea {
  void db;
  return {};
}
