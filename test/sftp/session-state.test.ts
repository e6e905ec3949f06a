// The session state on its own, without a channel: handles, staged uploads, and the end.

import { describe, it, expect } from 'vitest';
import { SessionState, type StagedUpload } from '../../pipeline/sftp/session-state.js';
import type { HandleState } from '../../pipeline/sftp/session-types.js';

const dir = (): HandleState => ({ kind: 'dir', entries: [], pos: 0 });
const staged = (name: string): StagedUpload => ({
  name,
  tempPath: `/tmp/.${name}.x.part`,
  openedAt: 1,
  closedAt: 2,
  result: { size: 3, sha256: 'ab', hashMode: 'streaming', stats: { writes: 1, outOfOrder: 0, maxWindowBytes: 0, fallbackReason: null }, gap: null },
});

describe('SessionState', () => {
  it('hands out 4-byte handles up to the limit and takes them back', () => {
    const s = new SessionState(2);
    const a = s.open(dir())!;
    const b = s.open(dir())!;
    expect(a.length).toBe(4);
    expect(a.equals(b)).toBe(false);
    expect(s.full).toBe(true);
    expect(s.open(dir())).toBeNull();
    expect(s.release(a)?.kind).toBe('dir');
    expect(s.get(a)).toBeUndefined();
    expect(s.get(Buffer.from([1, 2]))).toBeUndefined();
    expect(s.open(dir())).not.toBeNull();
  });

  it('staged uploads by name, and what was delivered stays visible', () => {
    const s = new SessionState(4);
    s.stage(staged('a.csv.filepart'));
    expect(s.isStaged('a.csv.filepart')).toBe(true);
    s.unstage('a.csv.filepart');
    expect(s.stagedUploads()).toEqual([]);
    s.remember('a.csv', 3, 5);
    expect(s.delivered('a.csv')).toEqual({ size: 3, mtimeMs: 5 });
  });

  it('end() waits for running requests, then settles what is left, once', async () => {
    const s = new SessionState(4);
    s.open(dir());
    s.stage(staged('b.csv.part'));
    let release!: () => void;
    const running = s.track(new Promise<void>((r) => (release = r)));
    const seen: { handles: number; staged: string[]; afterRunning: boolean }[] = [];
    let runningDone = false;
    void running.then(() => (runningDone = true));
    const first = s.end(async (handles, st) => {
      seen.push({ handles: handles.length, staged: st.map((x) => x.name), afterRunning: runningDone });
    });
    expect(s.ending).toBe(true);
    expect(s.open(dir())).toBeNull();
    const second = s.end(async () => {
      seen.push({ handles: -1, staged: [], afterRunning: false });
    });
    expect(second).toBe(first);
    release();
    await first;
    expect(seen).toEqual([{ handles: 1, staged: ['b.csv.part'], afterRunning: true }]);
    expect(s.stagedUploads()).toEqual([]);
  });
});
