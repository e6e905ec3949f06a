// A second thread for a large recompute (the readiness sweep with many lots due, or `all`): it
// judges every other batch on its own read-only connection (judge-thread.ts) and answers which
// lots a recompute would write; the main thread recomputes those under the write lock. Only
// worth it for many lots on a machine with a free core (the thread costs ≈ 0.3–0.5 s of CPU for
// its start-up and warm-up); opt-in (readiness-sweep option parallelMinLots). When the thread is
// unavailable (no compiled build, it crashed) the caller judges its batches itself.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { LotgateConfig } from '../config/config.js';
import { ThreadPool } from '../queue/thread-pool.js';
import { databaseKind, sqlitePath } from '../store/url.js';
import type { JudgeTask, JudgeThreadData } from './judge-thread.js';

export type JudgePool = ThreadPool<JudgeTask, number[]>;

/** The compiled thread entry (threads run the JavaScript in dist/, also under the test runner). */
function judgeThreadEntry(): URL | null {
  const here = new URL(import.meta.url);
  const entry = here.pathname.endsWith('.ts') ? new URL('../../dist/pipeline/readiness/judge-thread.js', here) : new URL('./judge-thread.js', here);
  return existsSync(fileURLToPath(entry)) ? entry : null;
}

/** One judge thread reading the store `storeUrl` names (config.store.url), or null when it cannot be started. */
export function startJudgePool(storeUrl: string, readiness: LotgateConfig['readiness'], log: Logger): JudgePool | null {
  const entry = judgeThreadEntry();
  // An in-memory SQLite database cannot be opened a second time.
  if (!entry || (databaseKind(storeUrl) === 'sqlite' && ['', ':memory:'].includes(sqlitePath(storeUrl)))) return null;
  try {
    return new ThreadPool<JudgeTask, number[]>({ name: 'readiness-judge', size: 1, entry, workerData: { storeUrl, readiness } satisfies JudgeThreadData, log });
  } catch (err) {
    log.warn({ err }, 'readiness judge thread not started; judging on the main thread');
    return null;
  }
}
