// The jobs area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface JobsArea {}

export function jobsArea(db: Db): JobsArea {
  void db;
  return {};
}
