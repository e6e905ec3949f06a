// Which database `npm test` runs the stores on: SQLite, or PostgreSQL under `npm run test:postgres`
// (LOTGATE_TEST_STORE=postgres, see postgres-store.ts).
import { it } from 'vitest';

export const onPostgres = process.env.LOTGATE_TEST_STORE === 'postgres';

/**
 * A test about SQLite itself — its file, its write lock, its migrations from older lotgate
 * versions — that has no PostgreSQL counterpart: skipped under test:postgres (PostgreSQL's own
 * migrations, locks and races are tested in test/store/conformance/).
 */
export const itSqlite = it.skipIf(onPostgres);
