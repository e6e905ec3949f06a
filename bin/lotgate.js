#!/usr/bin/env node
// The `lotgate` command. TypeScript is compiled to dist/ by `npm ci` (prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/pipeline/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('lotgate: dist/ is missing. Run `npm ci` (or `npm run build`) in the lotgate folder first.');
  process.exit(1);
}
await import(main.href);
