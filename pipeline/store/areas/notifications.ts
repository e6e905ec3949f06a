// The notifications area of the async store: one implementation for both dialects (db/db.ts).

import type { Db } from '../db/db.js';

export interface NotificationsArea {}

export function notificationsArea(db: Db): NotificationsArea {
  void db;
  return {};
}
