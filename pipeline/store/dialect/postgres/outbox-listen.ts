// Wakes a pusher when the outbox has something to deliver (PostgreSQL only): LISTEN on the
// `lotgate_outbox` channel the triggers of schema/outbox.ts notify with the message id. A
// notification arrives after the inserting transaction commits, so the message is visible to the
// claim it prompts. It is a hint, not a queue: notifications sent while nobody listened are lost,
// so the push job keeps its schedule and LISTEN only shortens the wait.
//
// LISTEN belongs to a session: the listener holds one connection of its own (from the pool it is
// given, or a client of its own for a URL) until close().

import pg from 'pg';

export const OUTBOX_CHANNEL = 'lotgate_outbox';

export interface OutboxListener {
  close(): Promise<void>;
}

export interface ListenOptions {
  /** The connection broke (server restart): listen again, and claim once, since hints were lost. */
  onError?: (err: Error) => void;
}

/** Calls onMessage(outboxId) for every message that became deliverable, once LISTEN is in place. */
export async function listenOutbox(source: pg.Pool | string, onMessage: (outboxId: string) => void, opts: ListenOptions = {}): Promise<OutboxListener> {
  const fromPool = typeof source !== 'string';
  const client: pg.Client | pg.PoolClient = fromPool ? await source.connect() : new pg.Client({ connectionString: source });
  if (!fromPool) await (client as pg.Client).connect();
  const onNotification = (n: pg.Notification) => {
    if (n.channel === OUTBOX_CHANNEL && n.payload) onMessage(n.payload);
  };
  const onError = (e: Error) => opts.onError?.(e);
  client.on('notification', onNotification);
  client.on('error', onError);
  try {
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
  } catch (e) {
    await release(client, fromPool, true);
    throw e;
  }
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      client.off('notification', onNotification);
      // UNLISTEN before a pooled connection goes back, or its next user would hear our channel.
      const broken = await client.query(`UNLISTEN ${OUTBOX_CHANNEL}`).then(
        () => false,
        () => true,
      );
      client.off('error', onError);
      await release(client, fromPool, broken);
    },
  };
}

async function release(client: pg.Client | pg.PoolClient, fromPool: boolean, broken: boolean): Promise<void> {
  if (fromPool) (client as pg.PoolClient).release(broken);
  else await (client as pg.Client).end().catch(() => {});
}
