// The audit area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface AuditArea {}

export function auditArea(db: Db): AuditArea {
  void db;
  return {};
}
