// PostgreSQL-only parts of the facts area (triggers, indexes) appended to the tables of base.ts.
//
// None are needed: the one index the facts area leans on beyond the tables' UNIQUE constraints is
// test_results_key (lot_id, test_code, coalesce(sample_id, ''), coalesce(tested_at, ''),
// coalesce(replicate, '')), already in base.ts as in the SQLite schema; the bulk merge of
// areas/facts-bulk.ts names exactly these expressions in its ON CONFLICT.

export const SQL = ``;
