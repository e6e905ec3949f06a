// SQLite allows one writer at a time. A worker thread applying a large file holds the write lock
// for its whole transaction (by design: one transaction per file), so a short write from an
// intake process can find the database busy. Those writes are retried here with an async
// back-off instead of failing the file or blocking the event loop for long.

export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

export interface RetryBusyOptions {
  /** Give up after this long in total (default 10 minutes: a very large file may hold the lock that long). */
  maxWaitMs?: number;
  onRetry?: (attempt: number, err: unknown) => void;
}

export async function retryBusy<T>(fn: () => Promise<T> | T, opts: RetryBusyOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.maxWaitMs ?? 10 * 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isSqliteBusy(err) || Date.now() >= deadline) throw err;
      opts.onRetry?.(attempt, err);
      const delay = Math.min(2000, 25 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
