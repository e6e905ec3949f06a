// Where things are, from the compiled file's location (dist/bench/lib/paths.js).

import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(fileURLToPath(new URL('../../../', import.meta.url)));
/** The lotgate command the bench runs; LOTGATE_BENCH_BIN points it at another build. */
export const LOTGATE_BIN = process.env.LOTGATE_BENCH_BIN ? path.resolve(process.env.LOTGATE_BENCH_BIN) : path.join(REPO_ROOT, 'bin', 'lotgate.js');
export const BENCH_DIST = path.resolve(fileURLToPath(new URL('../', import.meta.url)));
export const BENCH_SRC = path.join(REPO_ROOT, 'bench');
