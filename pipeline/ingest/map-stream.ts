// The spool file a mapping thread writes while the writer reads it: one line per item (the
// header's warnings, a batch of mapped rows, and last how mapping ended), appended as they are
// mapped. Four shared counters (SharedArrayBuffer) tell the writer how far the thread is; the
// writer blocks on them (Atomics.wait) when it has caught up, so its transaction stays one
// synchronous loop — nothing else runs on its connection meanwhile.
//
// The file is the back-pressure: the mapping thread never waits for the writer, and neither
// side holds more than one batch in memory; the disk holds what the writer has not read yet.

import { closeSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { FileError, type RowError } from '../model/types.js';
import type { ErrorCode } from '../codes.js';
import type { MapEnd, MapSink, SpooledUnit } from './map-to-spool.js';
import { decodeSpoolLine, encodeSpoolLine } from './spool.js';

/** Indexes into the shared counters. */
export const LINES = 0;
export const ROWS = 1;
/** KiB of the original read so far. */
export const KIB_READ = 2;
/** 1 once the last line (how mapping ended) is written. */
export const DONE = 3;
/** Set with DONE: 1 when the whole file was mapped, 2 when it ended otherwise, 3 when its last line could not be written. */
export const OUTCOME = 4;
/** With OUTCOME 3: the system error number (os.constants.errno) that stopped the writing. */
export const ERRNO = 5;
export const COUNTERS = 6;

/** How long the writer waits without the mapping thread moving before it gives up on it. */
export const STALL_MS = 30_000;

/** How mapping ended, as one line (FileError and Map made plain). */
export type EndLine =
  | { kind: 'mapped'; rows: number; filtered: number; notRows?: [string, number][]; headerWarnings?: RowError[]; threadCpuMs?: number }
  | { kind: 'file_error'; error: { code: ErrorCode; message: string; line?: number; column?: number; field?: string }; rows: number; filtered: number }
  | Extract<MapEnd, { kind: 'over_limit' }>
  /** An exception on the mapping thread; `errno` for system errors (disk full, …). */
  | { kind: 'failed'; message: string; errno?: string };

type Line = { h: RowError[] } | { b: SpooledUnit[] } | { e: EndLine };

/** CPU milliseconds of the calling thread so far (Linux /proc; undefined elsewhere). */
export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (11 and 12 after the command name), in clock ticks.
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

export function endLineOf(end: MapEnd): EndLine {
  switch (end.kind) {
    case 'mapped':
      return { kind: 'mapped', rows: end.rows, filtered: end.filtered, notRows: end.notRows ? [...end.notRows] : undefined, headerWarnings: end.headerWarnings, threadCpuMs: threadCpuMs() };
    case 'file_error': {
      const e = end.error;
      return { kind: 'file_error', error: { code: e.code, message: e.message, line: e.line, column: e.column, field: e.field }, rows: end.rows, filtered: end.filtered };
    }
    case 'over_limit':
      return end;
  }
}

/** The mapping thread's side: appends lines and moves the counters. */
export class MapStreamWriter implements MapSink {
  private readonly fd: number;
  private rows = 0;

  constructor(
    file: string,
    private readonly counters: Int32Array,
  ) {
    this.fd = openSync(file, 'a', 0o600);
  }

  header(warnings: RowError[]): void {
    this.write({ h: warnings });
  }

  batch(units: SpooledUnit[]): void {
    this.rows += units.length;
    Atomics.store(this.counters, ROWS, this.rows);
    this.write({ b: units });
  }

  progress(bytesRead: number): void {
    Atomics.store(this.counters, KIB_READ, Math.floor(bytesRead / 1024));
  }

  end(line: EndLine): void {
    let outcome = line.kind === 'mapped' ? 1 : 2;
    try {
      this.write({ e: line });
    } catch (err) {
      // Most likely the disk is full: say so through the counters, the only channel left.
      outcome = 3;
      const code = (err as NodeJS.ErrnoException)?.code;
      Atomics.store(this.counters, ERRNO, (code !== undefined ? (os.constants.errno as Record<string, number>)[code] : undefined) ?? -1);
    } finally {
      closeSync(this.fd);
      Atomics.store(this.counters, OUTCOME, outcome);
      Atomics.store(this.counters, DONE, 1);
      Atomics.notify(this.counters, LINES);
    }
  }

  private write(line: Line): void {
    const buf = Buffer.from(encodeSpoolLine(line), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    Atomics.add(this.counters, LINES, 1);
    Atomics.notify(this.counters, LINES);
  }
}

const CHUNK = 1 << 20;

/** The mapping thread could not write its stream file (a system error, e.g. a full disk): retried like any failed run. */
function spoolWriteFailed(errno: number): Error {
  const name = Object.entries(os.constants.errno).find(([, v]) => v === errno)?.[0] ?? 'EIO';
  return Object.assign(new Error(`${name}: the mapping thread could not write its spool file in <dataDir>/tmp; nothing was applied, the run is retried.`), { code: name });
}

/** The writer's side: reads the lines in order, blocking while the mapping thread is behind. */
export class MapStreamReader {
  private readonly fd: number;
  private readonly decoder = new StringDecoder('utf8');
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private text = '';
  private start = 0;
  private pos = 0;
  private peeked: Line | undefined;
  private ended: EndLine | undefined;
  /** Milliseconds spent waiting for the mapping thread. */
  waitedMs = 0;

  constructor(
    private readonly file: string,
    private readonly counters: Int32Array,
    private readonly stallMs = STALL_MS,
  ) {
    this.fd = openSync(file, 'r');
  }

  /** The header's warnings when the stream starts with them (CSV), else undefined. */
  headerWarnings(): RowError[] | undefined {
    const first = this.peek();
    if ('h' in first) {
      this.peeked = undefined;
      return first.h;
    }
    return undefined;
  }

  /** The mapped rows in line order, up to the end line. */
  *units(): Generator<SpooledUnit> {
    for (;;) {
      const line = this.peek();
      this.peeked = undefined;
      if ('b' in line) yield* line.b;
      else if ('e' in line) {
        this.ended = line.e;
        this.peeked = line;
        return;
      }
      // A later header (not expected: files of several sections are not streamed) carries nothing new.
    }
  }

  /** How mapping ended (reads on to the end line: the rest of the rows are skipped). */
  end(): EndLine {
    while (this.ended === undefined) {
      const line = this.peek();
      this.peeked = undefined;
      if ('e' in line) {
        this.ended = line.e;
        this.peeked = line;
      }
    }
    return this.ended;
  }

  dispose(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* closed */
    }
    rmSync(this.file, { force: true });
  }

  private peek(): Line {
    if (this.peeked === undefined) this.peeked = this.readLine();
    return this.peeked;
  }

  private readLine(): Line {
    let lastSeen = -1;
    let lastMove = Date.now();
    for (;;) {
      const nl = this.text.indexOf('\n', this.start);
      if (nl !== -1) {
        const line = decodeSpoolLine(this.text, this.start, nl) as Line;
        this.start = nl + 1;
        return line;
      }
      const n = readSync(this.fd, this.chunk, 0, CHUNK, this.pos);
      if (n > 0) {
        this.pos += n;
        this.text = this.text.slice(this.start) + this.decoder.write(this.chunk.subarray(0, n));
        this.start = 0;
        continue;
      }
      // Caught up with the mapping thread: wait for its next line.
      const lines = Atomics.load(this.counters, LINES);
      if (Atomics.load(this.counters, DONE) === 1) {
        if (this.fileFullyRead()) {
          if (Atomics.load(this.counters, OUTCOME) === 3) throw spoolWriteFailed(Atomics.load(this.counters, ERRNO));
          throw new FileError('E_PARSE_THREAD_FAILED', 'The file could not be read and mapped: the mapping thread ended without its last line. Nothing was applied.');
        }
        continue;
      }
      const moved = lines + Atomics.load(this.counters, KIB_READ);
      const now = Date.now();
      if (moved !== lastSeen) {
        lastSeen = moved;
        lastMove = now;
      } else if (now - lastMove > this.stallMs) {
        throw new FileError('E_PARSE_THREAD_FAILED', `The file could not be read and mapped: its mapping thread stopped moving for ${Math.round(this.stallMs / 1000)} s (it may have run out of memory or crashed). Nothing was applied.`);
      }
      const t = performance.now();
      Atomics.wait(this.counters, LINES, lines, 200);
      this.waitedMs += performance.now() - t;
    }
  }

  private fileFullyRead(): boolean {
    // Everything written before DONE was set is in the file: one more read decides.
    const n = readSync(this.fd, this.chunk, 0, CHUNK, this.pos);
    if (n === 0) return true;
    this.pos += n;
    this.text = this.text.slice(this.start) + this.decoder.write(this.chunk.subarray(0, n));
    this.start = 0;
    return false;
  }
}
