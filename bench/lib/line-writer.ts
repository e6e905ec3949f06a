// Buffered line output for the generators: files of hundreds of MB are written in ~1 MB chunks
// with back-pressure, so generating them needs neither much memory nor much time.

import { createWriteStream, type WriteStream } from 'node:fs';

export class LineWriter {
  private readonly out: WriteStream;
  private buf: string[] = [];
  private size = 0;
  bytes = 0;

  constructor(file: string) {
    this.out = createWriteStream(file, { highWaterMark: 1 << 20 });
  }

  /** Adds a line (without its newline); await the result when it is a promise. */
  line(s: string): Promise<void> | undefined {
    this.buf.push(s);
    this.size += s.length + 1;
    if (this.size >= 1 << 20) return this.flush();
    return undefined;
  }

  private flush(): Promise<void> | undefined {
    if (this.buf.length === 0) return undefined;
    const chunk = Buffer.from(this.buf.join('\n') + '\n', 'utf8');
    this.bytes += chunk.length;
    this.buf = [];
    this.size = 0;
    if (this.out.write(chunk)) return undefined;
    return new Promise((resolve) => this.out.once('drain', () => resolve()));
  }

  async close(): Promise<number> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return this.bytes;
  }
}

/** Writes raw text (a BOM, a preamble) before the lines. */
export async function writeLines(file: string, lines: Iterable<string>, prefix = ''): Promise<number> {
  const w = new LineWriter(file);
  let first = true;
  for (const l of lines) {
    const p = w.line(first ? prefix + l : l);
    first = false;
    if (p) await p;
  }
  return w.close();
}
