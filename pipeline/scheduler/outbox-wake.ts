// Waking the push job when the outbox gets a message (PostgreSQL): the scheduler LISTENs on the
// outbox channel (store/dialect/postgres/outbox-listen.ts) and pokes a coalescing trigger, which
// runs the job soon after — once for a burst of notifications, never twice at the same time.
// The job keeps its cron schedule: notifications sent while nobody listened are lost.
//
// Both parts take their effects as functions (the run, the listen), so they are tested without a
// scheduler (test/scheduler/outbox-wake.test.ts); the wiring is in scheduler.ts.

import type { Logger } from 'pino';

export interface CoalescingTrigger {
  /** Asks for a run soon: pokes while one is waiting or running add up to one more run. */
  poke(): void;
  /** No more runs; resolves when the one running (if any) has ended. */
  stop(): Promise<void>;
}

export interface TriggerOptions {
  /** Wait this long after the first poke before running, so a burst becomes one run (default 200 ms). */
  delayMs?: number;
  /** A run that threw (the run itself should report its own failures). */
  onError?: (err: unknown) => void;
}

/**
 * Runs `run` after a poke: at most one run at a time, and the pokes that arrive while a run is
 * waiting or going add up to exactly one follow-up run (a message enqueued during a run may have
 * missed that run's claim).
 */
export function coalescingTrigger(run: () => Promise<unknown>, opts: TriggerOptions = {}): CoalescingTrigger {
  const delayMs = opts.delayMs ?? 200;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const schedule = () => {
    timer = setTimeout(() => {
      timer = null;
      running = (async () => {
        try {
          await run();
        } catch (err) {
          opts.onError?.(err);
        }
      })().finally(() => {
        running = null;
        if (again && !stopped) {
          again = false;
          schedule();
        }
      });
    }, delayMs);
    timer.unref();
  };

  return {
    poke() {
      if (stopped) return;
      if (running) again = true;
      else if (!timer) schedule();
      // a run is already waiting: this poke is part of its burst
    },
    async stop() {
      stopped = true;
      again = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

export interface Closable {
  close(): Promise<void>;
}

export interface KeepListeningOptions {
  log: Logger;
  /** First wait before listening again after an error (default 1 s), doubled up to maxBackoffMs (default 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Keeps a listener up: listens, and after an error (the connection broke, or listening failed)
 * waits with a backoff and listens again. After a reconnect `onReconnect` is called once, since the
 * notifications of the gap were lost. close() stops it and closes the listener.
 */
export function keepListening(
  listen: (onError: (err: Error) => void) => Promise<Closable>,
  onReconnect: () => void,
  opts: KeepListeningOptions,
): Closable {
  const first = opts.backoffMs ?? 1000;
  const max = opts.maxBackoffMs ?? 60_000;
  let wait = first;
  let current: Closable | null = null;
  let pending: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let failures = 0;

  const retry = (err: unknown) => {
    if (closed || timer) return;
    failures++;
    opts.log.warn({ err, retryInMs: wait }, 'outbox listener failed; listening again after a pause (the schedule still runs)');
    timer = setTimeout(() => {
      timer = null;
      pending = connect();
    }, wait);
    timer.unref();
    wait = Math.min(wait * 2, max);
  };

  const connect = async (): Promise<void> => {
    let mine: Closable | null = null;
    let broken = false;
    const onError = (err: Error) => {
      if (broken) return;
      broken = true;
      if (mine && current === mine) current = null;
      void mine?.close().catch(() => undefined);
      retry(err);
    };
    try {
      mine = await listen(onError);
    } catch (err) {
      retry(err);
      return;
    }
    if (closed || broken) {
      await mine.close().catch(() => undefined);
      return;
    }
    current = mine;
    wait = first;
    if (failures > 0) {
      opts.log.info('outbox listener back');
      onReconnect();
    }
  };

  pending = connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await pending;
      await current?.close().catch(() => undefined);
      current = null;
    },
  };
}
