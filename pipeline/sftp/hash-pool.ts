// Where upload bytes get hashed. The main thread decrypts SSH packets and serves every
// session; sha256 is the largest single piece of its per-byte work (~0.2 s per 256 MiB here).
// With cores to spare, uploads copy their in-order bytes into 1 MiB batches whose memory is
// transferred (not copied again) to one worker thread that keeps a hash per upload. Measured
// on a 2-core box the copy and messaging cost more than they save (the OpenSSH client needs
// the other core), so there the hash runs in-process; see `workerByDefault`.
// If the worker is unavailable or dies, sinks fall back to hashing in-process, and a digest
// the worker can no longer deliver rejects, so the upload re-reads its file instead.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';

export interface HashSink {
  update(data: Buffer): void;
  /** Hex digest of everything passed to update(); rejects if it cannot be computed. */
  digest(): Promise<string>;
  /** The upload gave up streaming; free whatever is held. */
  abort(): void;
}

export interface HashPool {
  sink(): HashSink;
  close(): Promise<void>;
}

const BATCH = 1024 * 1024;
/** Bytes posted to the worker and not yet hashed, across all uploads, before sinks give up. */
const MAX_QUEUED = 256 * 1024 * 1024;

export function localSha256(): HashSink {
  let h: ReturnType<typeof createHash> | null = createHash('sha256');
  return {
    update(data) {
      h?.update(data);
    },
    digest() {
      if (!h) return Promise.reject(new Error('hash aborted'));
      const d = h.digest('hex');
      h = null;
      return Promise.resolve(d);
    },
    abort() {
      h = null;
    },
  };
}

// Plain CommonJS, evaluated in the worker: no file to locate at run time, works the same from
// compiled JS and from the TypeScript test runner.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'u') {
    let h = hashes.get(m.id);
    if (!h) { h = createHash('sha256'); hashes.set(m.id, h); }
    h.update(new Uint8Array(m.buf, 0, m.len));
    parentPort.postMessage({ op: 'a', n: m.len });
  } else if (m.op === 'd') {
    const h = hashes.get(m.id) || createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'd', id: m.id, hex: h.digest('hex') });
  } else if (m.op === 'x') {
    hashes.delete(m.id);
  }
});
`;

/** A hashing worker pays off only when a core is free for it besides the event loop's. */
export function workerByDefault(): boolean {
  return availableParallelism() >= 4;
}

export function createHashPool(opts: { useWorker?: boolean } = {}): HashPool {
  let worker: Worker | null = null;
  let broken = !(opts.useWorker ?? workerByDefault());
  let nextId = 1;
  let queued = 0;
  const waiting = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();

  function fail(err: Error): void {
    broken = true;
    worker = null;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    queued = 0;
  }

  function ensure(): Worker | null {
    if (broken) return null;
    if (worker) return worker;
    try {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref(); // hashing never keeps the process alive on its own
      w.on('message', (m: { op: string; id?: number; hex?: string; n?: number }) => {
        if (m.op === 'a') queued -= m.n ?? 0;
        else if (m.op === 'd' && m.id !== undefined) {
          const p = waiting.get(m.id);
          waiting.delete(m.id);
          p?.resolve(m.hex ?? '');
        }
      });
      w.on('error', (err) => fail(err));
      w.on('exit', (code) => {
        if (worker === w) fail(new Error(`hash worker exited (${code})`));
      });
      worker = w;
      return w;
    } catch {
      broken = true;
      return null;
    }
  }

  function workerSink(w: Worker): HashSink {
    const id = nextId++;
    let batch = Buffer.allocUnsafeSlow(BATCH);
    let used = 0;
    let dead = false;
    let fallbackReason: Error | null = null;

    function post(): void {
      if (used === 0) return;
      const len = used;
      const buf = batch.buffer;
      batch = Buffer.allocUnsafeSlow(BATCH);
      used = 0;
      queued += len;
      w.postMessage({ op: 'u', id, buf, len }, [buf]);
    }

    return {
      update(data) {
        if (dead) return;
        if (broken || worker !== w) {
          dead = true;
          fallbackReason = new Error('hash worker unavailable');
          return;
        }
        if (queued > MAX_QUEUED) {
          // The worker is starved of CPU; stop feeding it rather than buffer without bound.
          dead = true;
          fallbackReason = new Error('hash worker backlog');
          w.postMessage({ op: 'x', id });
          return;
        }
        let off = 0;
        while (off < data.length) {
          const n = Math.min(BATCH - used, data.length - off);
          data.copy(batch, used, off, off + n);
          used += n;
          off += n;
          if (used === BATCH) post();
        }
      },
      digest() {
        if (dead) return Promise.reject(fallbackReason ?? new Error('hash aborted'));
        if (broken || worker !== w) return Promise.reject(new Error('hash worker unavailable'));
        dead = true;
        post();
        return new Promise<string>((resolve, reject) => {
          waiting.set(id, { resolve, reject });
          w.postMessage({ op: 'd', id });
        });
      },
      abort() {
        if (dead) return;
        dead = true;
        if (worker === w) w.postMessage({ op: 'x', id });
      },
    };
  }

  return {
    sink() {
      const w = ensure();
      return w ? workerSink(w) : localSha256();
    },
    async close() {
      const w = worker;
      worker = null;
      broken = true;
      for (const p of waiting.values()) p.reject(new Error('hash pool closed'));
      waiting.clear();
      if (w) await w.terminate();
    },
  };
}
