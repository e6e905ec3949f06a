// Entry of a lotgate worker thread: builds its own Lotgate (own SQLite connection, own mapping
// catalog) from the parent's configuration and runs one task at a time for the pool.

import { parentPort, threadId, workerData } from 'node:worker_threads';
import { redriveAcks } from '../ingest/acknowledge.js';
import { processSubmission, quarantine } from '../ingest/process-submission.js';
import { registerFile } from '../intake/register-file.js';
import { retryBusy } from '../intake/retry-busy.js';
import { createLogger, createLotgate, type Lotgate } from '../lotgate.js';
import type { LotgateTask, TaskResult, TaskThreadData } from './tasks.js';
import { serializeError, type FromThread, type ToThread } from './thread-pool.js';

if (!parentPort) throw new Error('task-thread.js runs only as a worker thread');
const port = parentPort;
const data = workerData as TaskThreadData;
const log = createLogger(data.logLevel).child({ pool: data.pool, thread: threadId });
const lg: Lotgate = await createLotgate(data.config, { log, poolMax: 2 });

async function run(task: LotgateTask): Promise<TaskResult> {
  switch (task.kind) {
    case 'process': {
      const r = await processSubmission(lg, task.submissionId);
      return { state: r.state };
    }
    // Ledger writes of the server's writer thread: short, and retried while a worker thread's
    // file transaction holds the write lock, so no upload or audit event is lost to SQLITE_BUSY.
    case 'quarantine': {
      const r = await retryBusy(() => quarantine(lg, task.submissionId, task.code, task.message));
      return { state: r.state };
    }
    case 'register':
      return { submissionId: await retryBusy(() => registerFile(lg, task.file)) };
    case 'acks':
      return retryBusy(() => redriveAcks(lg, { minAgeMs: task.minAgeMs }));
    case 'audit':
      await retryBusy(() => lg.store.audit.appendAudit(task.event));
      return { ok: true };
    case 'ban':
      await retryBusy(() => lg.store.pulls.recordBan(task.ban));
      return { ok: true };
  }
}

port.on('message', (msg: ToThread<LotgateTask>) => {
  if (msg.type !== 'task') return;
  run(msg.task).then(
    (value) => port.postMessage({ type: 'result', id: msg.id, ok: true, value } satisfies FromThread<TaskResult>),
    (err) => port.postMessage({ type: 'result', id: msg.id, ok: false, error: serializeError(err) } satisfies FromThread<TaskResult>),
  );
});

// Close the database cleanly when the pool terminates the thread between tasks.
// An 'exit' handler cannot wait: the close starts here (SQLite closes its connection at once).
process.on('exit', () => {
  void lg.close().catch((err: unknown) => log.warn({ err }, 'the thread\'s store did not close cleanly'));
});
port.postMessage({ type: 'ready' } satisfies FromThread<TaskResult>);
