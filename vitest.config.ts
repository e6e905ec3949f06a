import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // LOTGATE_TEST_STORE=postgres (npm run test:postgres): every store a test opens is a PostgreSQL database.
    setupFiles: process.env.LOTGATE_TEST_STORE === 'postgres' ? ['test/setup/postgres-store.ts'] : [],
  },
});
