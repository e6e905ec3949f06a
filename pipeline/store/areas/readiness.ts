// The readiness area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface ReadinessArea {}

export function readinessArea(db: Db): ReadinessArea {
  void db;
  return {};
}
