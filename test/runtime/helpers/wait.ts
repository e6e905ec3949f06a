/** Polls `cond` until it holds; fails with `what` (and the last observed value) when it never does. */
export async function until<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 45_000, stepMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await cond();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}${last !== undefined ? ` (last: ${JSON.stringify(last)})` : ''}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
