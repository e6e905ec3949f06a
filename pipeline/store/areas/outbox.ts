// The outbox area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface OutboxArea {}

export function outboxArea(db: Db): OutboxArea {
  void db;
  return {};
}
