// Loaded with `node --import` into every process a test spawns in `npm run test:postgres`
// (postgres-store.ts puts it in NODE_OPTIONS): swaps the compiled store's openDb for one that
// opens the PostgreSQL database standing in for the SQLite file, as the setup file does in the
// test's own process.
import { register } from 'node:module';

register('./pg-child-hooks.mjs', import.meta.url);
