// Watches the prolog (everything before the root element) for a DOCTYPE, so a file with a DTD
// is refused at the `<!DOCTYPE` itself, with its line and column, before any of the DTD is
// buffered or parsed. A DOCTYPE can only legally appear there; saxes' doctype event remains
// as a backstop for anything this scanner gives up on.

import { FileError } from '../model/types.js';

export const DTD_MESSAGE =
  'XML with a DTD (<!DOCTYPE>) is not accepted: DTDs can expand or fetch entities. Export the file without a DOCTYPE.';

const DOCTYPE = '<!DOCTYPE';

/** Past this much prolog text (a giant comment) the scanner stops and the backstop applies. */
const MAX_PROLOG = 1 << 20;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

export function dtdError(line: number, column: number): FileError {
  return new FileError('E_XML_DTD', DTD_MESSAGE, line, column);
}

export class PrologScanner {
  private buf = '';
  private pos = 0;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /** Feeds the next text; throws E_XML_DTD at a DOCTYPE. Cheap no-op once the root element is reached. */
  scan(text: string): void {
    if (this.finished) return;
    this.buf += text;
    const b = this.buf;
    let p = this.pos;
    while (true) {
      while (p < b.length && isWs(b.charCodeAt(p))) p++;
      if (p >= b.length) break;
      if (b.charCodeAt(p) !== 0x3c) return this.finish(); // not markup: saxes reports it
      const rest = b.length - p;
      if (b.startsWith('<?', p)) {
        const end = b.indexOf('?>', p + 2);
        if (end === -1) break;
        p = end + 2;
      } else if (b.startsWith('<!--', p)) {
        const end = b.indexOf('-->', p + 4);
        if (end === -1) break;
        p = end + 3;
      } else if ((rest < DOCTYPE.length && DOCTYPE.startsWith(b.slice(p))) || (rest < 4 && '<!--'.startsWith(b.slice(p)))) {
        break; // could still become a comment or a DOCTYPE: wait for more text
      } else if (b.startsWith(DOCTYPE, p)) {
        const before = b.slice(0, p);
        const nl = before.lastIndexOf('\n');
        let line = 1;
        for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
        throw dtdError(line, p - nl);
      } else {
        return this.finish(); // the root element (or malformed markup saxes will report)
      }
    }
    this.pos = p;
    if (this.buf.length > MAX_PROLOG) this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.buf = '';
  }
}
