// Entry of the readiness judge thread: its own read-only connection to the store, the readiness
// configuration of the parent; for each task (a batch of lot ids and the instant to judge them
// at) it answers which lots a recompute would write (recompute.ts staleLots). It never writes.

import { parentPort, workerData } from 'node:worker_threads';
import type { LotgateConfig } from '../config/config.js';
import { serializeError, type FromThread, type ToThread } from '../queue/thread-pool.js';
import { Store } from '../store/store.js';
import { staleLots } from './recompute.js';

export interface JudgeThreadData {
  dbPath: string;
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
const store = Store.open(data.dbPath, { readonly: true });

port.on('message', (msg: ToThread<JudgeTask>) => {
  if (msg.type !== 'task') return;
  try {
    const value = staleLots(store, data.readiness, msg.task.lotIds, new Date(msg.task.at));
    port.postMessage({ type: 'result', id: msg.id, ok: true, value } satisfies FromThread<number[]>);
  } catch (err) {
    port.postMessage({ type: 'result', id: msg.id, ok: false, error: serializeError(err) } satisfies FromThread<number[]>);
  }
});

process.on('exit', () => store.close());
port.postMessage({ type: 'ready' } satisfies FromThread<number[]>);
