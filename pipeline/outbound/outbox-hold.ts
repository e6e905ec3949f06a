// An operator's hold on an outbox message and its release, shared by `lotgate outbox hold|release`
// and POST /api/v1/outbox/:id/hold|release: the push job does not send a held message (nor, to
// keep the order per key, the newer messages of its key) until it is released. Audited.

import type { Store } from '../store/store.js';
import type { OutboxState } from '../store/types.js';

export interface HoldResult {
  id: string;
  /** Whether this call changed the hold (false: already in the asked state, or sent). */
  changed: boolean;
  held: boolean;
  state: OutboxState;
}

export interface HoldActor {
  /** Audit actor, e.g. `principal:3` or `operator:alice`. */
  actor: string;
  /** Who, as a person reads it. */
  by: string;
}

export async function holdOutboxMessage(store: Store, id: string, who: HoldActor, reason: string, at: Date): Promise<HoldResult> {
  const changed = await store.transaction(async (tx) => {
    const ok = await tx.outbox.holdOutbox(id, { reason, by: who.by, at: at.toISOString() });
    if (ok) await tx.audit.appendAudit({ actor: who.actor, action: 'outbox.hold', subject: `outbox:${id}`, details: { by: who.by, reason }, at: at.toISOString() });
    return ok;
  });
  const row = (await store.outbox.getOutbox(id))!;
  return { id, changed, held: row.hold !== null, state: row.state };
}

export async function releaseOutboxMessage(store: Store, id: string, who: HoldActor, reason: string, at: Date): Promise<HoldResult> {
  const changed = await store.transaction(async (tx) => {
    const before = (await tx.outbox.getOutbox(id))?.hold;
    const ok = await tx.outbox.releaseOutboxHold(id);
    if (ok) await tx.audit.appendAudit({ actor: who.actor, action: 'outbox.release', subject: `outbox:${id}`, details: { by: who.by, reason, heldBy: before?.by, heldAt: before?.at }, at: at.toISOString() });
    return ok;
  });
  const row = (await store.outbox.getOutbox(id))!;
  return { id, changed, held: row.hold !== null, state: row.state };
}
