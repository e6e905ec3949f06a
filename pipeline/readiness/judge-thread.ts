// Entry of the readiness judge thread: its own connection to the store (config.store.url: SQLite
// or PostgreSQL), the readiness configuration of the parent; for each task (a batch of lot ids and
// the instant to judge them at) it answers which lots a recompute would write (recompute.ts
// staleLots). It only reads.

import { parentPort, workerData } from 'node:worker_threads';
import type { LotgateConfig } from '../config/config.js';
import { serializeError, type FromThread, type ToThread } from '../queue/thread-pool.js';
import { openStore } from '../store/store.js';
import { staleLots } from './recompute.js';

export interface JudgeThreadData {
  /** The store's URL (config.store.url). */
  storeUrl: string;
  readiness: LotgateConfig['readiness'];
}

export interface JudgeTask {
  lotIds: number[];
  /** ISO instant every lot is judged at. */
  at: string;
}

if (!parentPort) throw new Error('judge-thread.js runs only as a worker thread');
const port = parentPort;
const data = workerData as JudgeThreadData;
// A reader: one connection is enough, and a PostgreSQL schema is left as it is (the parent migrated it).
const store = await openStore(data.storeUrl, { max: 1, migrate: false, applicationName: 'lotgate:readiness-judge' });

async function judge(msg: ToThread<JudgeTask>): Promise<void> {
  try {
    const value = await staleLots(store, data.readiness, msg.task.lotIds, new Date(msg.task.at));
    port.postMessage({ type: 'result', id: msg.id, ok: true, value } satisfies FromThread<number[]>);
  } catch (err) {
    port.postMessage({ type: 'result', id: msg.id, ok: false, error: serializeError(err) } satisfies FromThread<number[]>);
  }
}

// The pool sends one task at a time and waits for its result; judge() never rejects.
port.on('message', (msg: ToThread<JudgeTask>) => {
  if (msg.type === 'task') void judge(msg);
});

// An 'exit' handler cannot wait: the close only starts here (the thread's end closes the rest).
process.on('exit', () => {
  void store.close().catch(() => undefined);
});
port.postMessage({ type: 'ready' } satisfies FromThread<number[]>);
