// The auth area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface AuthArea {}

export function authArea(db: Db): AuthArea {
  void db;
  return {};
}
