// The state of one SFTP session, and nothing else: open handles, staged uploads waiting for
// their rename, what was delivered in this session, requests still running, and whether the
// session is ending. Handlers reach it through these few methods only (the way BullMQ's
// lock-manager is pulled out of its worker behind a narrow interface); no I/O happens here.

import type { HandleState } from './session-types.js';
import type { UploadResult } from './upload.js';

/** An upload closed under a staging name (`x.csv.filepart`), held back until renamed. */
export interface StagedUpload {
  name: string;
  result: UploadResult;
  tempPath: string;
  openedAt: number;
  closedAt: number;
}

const REMEMBER_DELIVERED = 1000;

export class SessionState {
  private readonly handles = new Map<number, HandleState>();
  private readonly stagedByName = new Map<string, StagedUpload>();
  private readonly deliveredByName = new Map<string, { size: number; mtimeMs: number }>();
  private readonly pending = new Set<Promise<unknown>>();
  private nextHandle = 1;
  private ended: Promise<void> | null = null;
  private endingNow = false;

  constructor(private readonly maxHandles: number) {}

  /** True from the moment end() is called: no new handles, no new requests. */
  get ending(): boolean {
    return this.endingNow;
  }

  // --- handles ---------------------------------------------------------------------------

  get full(): boolean {
    return this.handles.size >= this.maxHandles;
  }

  /** A new 4-byte handle for `state`, or null when the session is ending or out of handles. */
  open(state: HandleState): Buffer | null {
    if (this.endingNow || this.full) return null;
    const id = this.nextHandle++;
    this.handles.set(id, state);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id, 0);
    return b;
  }

  get(handle: Buffer): HandleState | undefined {
    return this.handles.get(idOf(handle));
  }

  /** Forget a handle (CLOSE) and return what it was. */
  release(handle: Buffer): HandleState | undefined {
    const id = idOf(handle);
    const st = this.handles.get(id);
    this.handles.delete(id);
    return st;
  }

  private releaseAll(): HandleState[] {
    const all = [...this.handles.values()];
    this.handles.clear();
    return all;
  }

  // --- staged uploads ----------------------------------------------------------------------

  staged(name: string): StagedUpload | undefined {
    return this.stagedByName.get(name);
  }

  isStaged(name: string): boolean {
    return this.stagedByName.has(name);
  }

  stage(s: StagedUpload): void {
    this.stagedByName.set(s.name, s);
  }

  unstage(name: string): void {
    this.stagedByName.delete(name);
  }

  stagedUploads(): StagedUpload[] {
    return [...this.stagedByName.values()];
  }

  private takeAllStaged(): StagedUpload[] {
    const all = this.stagedUploads();
    this.stagedByName.clear();
    return all;
  }

  // --- delivered in this session --------------------------------------------------------------

  /** Delivered files stay visible to stat for the session, even after intake took them. */
  remember(name: string, size: number, mtimeMs: number): void {
    this.deliveredByName.set(name, { size, mtimeMs });
    if (this.deliveredByName.size > REMEMBER_DELIVERED) this.deliveredByName.delete(this.deliveredByName.keys().next().value as string);
  }

  delivered(name: string): { size: number; mtimeMs: number } | undefined {
    return this.deliveredByName.get(name);
  }

  // --- running requests and the end ---------------------------------------------------------

  /** Keep `pr` in view until it settles, so end() lets it finish first. */
  track<T>(pr: Promise<T>): Promise<T> {
    this.pending.add(pr);
    pr.finally(() => this.pending.delete(pr)).catch(() => undefined);
    return pr;
  }

  /**
   * End the session once: let running requests settle (a CLOSE being finalized is delivered,
   * not quarantined), then hand every handle and staged upload still here to `settle`.
   */
  end(settle: (handles: HandleState[], staged: StagedUpload[]) => Promise<void>): Promise<void> {
    if (this.ended) return this.ended;
    this.endingNow = true;
    this.ended = (async () => {
      while (this.pending.size) await Promise.allSettled([...this.pending]);
      await settle(this.releaseAll(), this.takeAllStaged());
    })();
    return this.ended;
  }
}

function idOf(h: Buffer): number {
  return h.length === 4 ? h.readUInt32BE(0) : -1;
}
