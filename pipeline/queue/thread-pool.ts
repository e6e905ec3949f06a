// A small pool of worker_threads with one fair FIFO of tasks. Parsing and SQLite writes are
// synchronous and CPU-bound; running them here keeps the main thread free, so BullMQ's lock
// renewal, the SFTP server and the watcher never stall (a stalled lock means a job runs twice).
// One pool serves every partner queue: 200 partners do not mean 200 threads.
//
// BullMQ's own sandboxed processors (useWorkerThreads) were not used: they keep a child pool per
// Worker, i.e. at least one thread per partner queue, and each child would open its own SQLite
// connection and load every mapping.
//
// A thread that dies (uncaught error, out of memory, process.exit) fails the task it was running
// and is replaced; the caller decides whether to retry.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Messages between the pool and a thread. */
export type ToThread<T> = { type: 'task'; id: number; task: T };
export type FromThread<R> =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; value: R }
  | { type: 'result'; id: number; ok: false; error: SerializedError };

export class ThreadCrashedError extends Error {
  constructor(message: string, readonly exitCode?: number) {
    super(message);
    this.name = 'ThreadCrashedError';
  }
}

/** The task was running when the pool was told to abort (shutdown grace ran out). */
export class TaskAbortedError extends Error {
  constructor(message = 'task aborted: the worker pool is shutting down') {
    super(message);
    this.name = 'TaskAbortedError';
  }
}

export class PoolClosedError extends Error {
  constructor() {
    super('the worker pool is closed');
    this.name = 'PoolClosedError';
  }
}

/** A task error as thrown inside the thread, rebuilt on this side with its name and code. */
export class TaskError extends Error {
  readonly code?: string;
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
    this.code = e.code;
    if (e.stack) this.stack = e.stack;
  }
}

export function serializeError(err: unknown): SerializedError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    stack: typeof e?.stack === 'string' ? e.stack : undefined,
  };
}

/**
 * The compiled entry of a thread. Tests run TypeScript through vitest, but worker threads start
 * plain Node, so threads always run the JavaScript in dist/ (built by `npm run build`, and by
 * `pretest` before `npm test`).
 */
export function resolveThreadEntry(name: string, from: string = import.meta.url): URL {
  const here = new URL(from);
  const entry = here.pathname.endsWith('.ts') ? new URL(`../../dist/pipeline/queue/${name}.js`, here) : new URL(`./${name}.js`, here);
  if (!existsSync(fileURLToPath(entry))) {
    throw new Error(`lotgate's worker threads run compiled JavaScript, and ${fileURLToPath(entry)} is missing: run \`npm run build\` in the lotgate folder first.`);
  }
  return entry;
}

export interface ThreadPoolOptions {
  name: string;
  size: number;
  entry: URL;
  workerData: unknown;
  log: Logger;
  resourceLimits?: ResourceLimits;
}

interface Pending<T, R> {
  id: number;
  task: T;
  resolve: (v: R) => void;
  reject: (e: Error) => void;
}

interface Slot<T, R> {
  n: number;
  worker: Worker;
  ready: boolean;
  current: Pending<T, R> | null;
  /** Set when we terminate the thread on purpose, so its exit is not a crash. */
  abortWith?: Error;
}

export interface PoolStats {
  threads: number;
  ready: number;
  busy: number;
  queued: number;
  crashes: number;
}

export class ThreadPool<T, R> {
  private readonly fifo: Pending<T, R>[] = [];
  private readonly slots = new Set<Slot<T, R>>();
  private nextId = 1;
  private nextSlot = 1;
  private closed = false;
  private crashes = 0;
  /** Consecutive deaths before 'ready': a thread that cannot even start (broken build, bad config). */
  private startFailures = 0;
  private respawnTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ThreadPoolOptions) {
    for (let i = 0; i < Math.max(1, opts.size); i++) this.spawn();
  }

  run(task: T): Promise<R> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    return new Promise<R>((resolve, reject) => {
      this.fifo.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  get stats(): PoolStats {
    let ready = 0;
    let busy = 0;
    for (const s of this.slots) {
      if (s.ready) ready++;
      if (s.current) busy++;
    }
    return { threads: this.slots.size, ready, busy, queued: this.fifo.length, crashes: this.crashes };
  }

  private spawn(): void {
    if (this.closed) return;
    const n = this.nextSlot++;
    const worker = new Worker(this.opts.entry, { workerData: this.opts.workerData, resourceLimits: this.opts.resourceLimits, name: `${this.opts.name}-${n}` });
    const slot: Slot<T, R> = { n, worker, ready: false, current: null };
    this.slots.add(slot);
    worker.on('message', (msg: FromThread<R>) => this.onMessage(slot, msg));
    worker.on('error', (err) => {
      // Followed by 'exit'; remember why for the task's error.
      slot.abortWith ??= new ThreadCrashedError(`worker thread ${this.opts.name}-${n} crashed: ${err?.message ?? err}`);
      this.opts.log.error({ err, thread: `${this.opts.name}-${n}` }, 'worker thread crashed');
    });
    worker.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot<T, R>, msg: FromThread<R>): void {
    if (msg.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      this.dispatch();
      return;
    }
    const p = slot.current;
    if (!p || p.id !== msg.id) return;
    slot.current = null;
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new TaskError(msg.error));
    this.dispatch();
    this.notifyIdle();
  }

  private onExit(slot: Slot<T, R>, code: number): void {
    this.slots.delete(slot);
    const wasReady = slot.ready;
    const p = slot.current;
    const aborted = slot.abortWith instanceof TaskAbortedError;
    if (p) {
      slot.current = null;
      p.reject(slot.abortWith ?? new ThreadCrashedError(`worker thread ${this.opts.name}-${slot.n} exited with code ${code} while running a task`, code));
    }
    if (!aborted && !this.closed) {
      this.crashes++;
      if (!wasReady) this.startFailures++;
      if (!p) this.opts.log.error({ thread: `${this.opts.name}-${slot.n}`, code, ready: wasReady }, 'worker thread exited');
    }
    this.notifyIdle();
    if (this.closed) return;
    // A thread that cannot start is retried with back-off instead of in a tight loop.
    const delay = this.startFailures === 0 ? 0 : Math.min(30_000, 250 * 2 ** Math.min(this.startFailures, 7));
    if (this.startFailures >= 3) {
      const err = new ThreadCrashedError(`worker threads of ${this.opts.name} fail to start (${this.startFailures} times in a row); see the log above`);
      for (const q of this.fifo.splice(0)) q.reject(err);
    }
    if (delay === 0) this.spawn();
    else if (!this.respawnTimer) {
      this.respawnTimer = setTimeout(() => {
        this.respawnTimer = null;
        while (this.slots.size < this.opts.size) this.spawn();
      }, delay);
      this.respawnTimer.unref();
    }
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!this.fifo.length) return;
      if (!slot.ready || slot.current || slot.abortWith) continue;
      const p = this.fifo.shift()!;
      slot.current = p;
      const msg: ToThread<T> = { type: 'task', id: p.id, task: p.task };
      slot.worker.postMessage(msg);
    }
  }

  private notifyIdle(): void {
    if (this.stats.busy > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when no task is running. */
  private whenIdle(): Promise<void> {
    if (this.stats.busy === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Fails every task that waits for a thread (PoolClosedError); running tasks go on. */
  releaseQueued(): number {
    const queued = this.fifo.splice(0);
    for (const q of queued) q.reject(new PoolClosedError());
    return queued.length;
  }

  /**
   * Terminates the threads running a task, failing those tasks with TaskAbortedError (callers
   * release their jobs for a later run). SQLite rolls back their open transactions.
   */
  async abortRunning(): Promise<number> {
    const busy = [...this.slots].filter((s) => s.current);
    for (const s of busy) s.abortWith = new TaskAbortedError();
    await Promise.all(busy.map((s) => s.worker.terminate()));
    return busy.length;
  }

  /**
   * Stops taking tasks: queued tasks fail with PoolClosedError, running ones get `graceMs` to
   * finish, then they are aborted; finally every thread is terminated.
   */
  async close(graceMs = 0): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.respawnTimer) clearTimeout(this.respawnTimer);
    for (const q of this.fifo.splice(0)) q.reject(new PoolClosedError());
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const outcome = await Promise.race([this.whenIdle().then(() => 'idle' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.abortRunning();
    await Promise.all([...this.slots].map((s) => s.worker.terminate()));
    this.slots.clear();
  }
}
