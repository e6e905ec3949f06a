// The facts area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface FactsArea {}

export function factsArea(db: Db): FactsArea {
  void db;
  return {};
}
