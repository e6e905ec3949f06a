// Streaming XML reader: yields one XmlRecord per element at the mapping's record path, holding
// only that element's subtree in memory. Hostile input is refused, never processed: any DTD
// (so no entity is ever expanded or fetched), undefined entities, excessive depth, oversized
// text or records.

import type { Readable } from 'node:stream';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import type { XmlOptions } from '../mapping/spec.js';
import { FileError } from '../model/types.js';
import { decodeText, peekBytes, releaseInput, type ByteSource } from './decode.js';
import { describeBinary, sniffFormat } from './sniff.js';
import { detectXmlEncoding } from './xml-encoding.js';
import { compileRecordPath, localName, prefixOf, stepMatches, type Namespaces, type Step } from './xml-path.js';
import { DTD_MESSAGE, PrologScanner, dtdError } from './xml-prolog.js';
import { XmlRecordView, type PathCache, type XmlNode, type XmlRecord } from './xml-record.js';

export type { XmlRecord } from './xml-record.js';

export interface XmlLimits {
  /** Deepest element nesting accepted (default 256). */
  maxDepth?: number;
  /** Largest single text node, attribute value, comment or name, in characters (default 8 MiB). */
  maxTextBytes?: number;
  /** Largest record (text, attributes and names of its subtree), in characters (default 16 MiB). */
  maxRecordBytes?: number;
}

export const DEFAULT_XML_LIMITS: Required<XmlLimits> = {
  maxDepth: 256,
  maxTextBytes: 8 * 1024 * 1024,
  maxRecordBytes: 16 * 1024 * 1024,
};

/** Text is handed to saxes in pieces this small so a size check runs at least this often. */
const PIECE = 64 * 1024;

/** Parser fields where saxes accumulates unbounded text before emitting an event (saxes 6). */
interface SaxesBuffers {
  text: string;
  name: string;
  entity: string;
  piTarget: string;
  attribList: unknown[];
}

const FIX_HINT = 'Correct the encoding in the XML declaration or re-export the file as UTF-8.';

function tooLarge(what: string, limit: number, line: number, column?: number): FileError {
  return new FileError('E_XML_TOO_LARGE', `${what} is larger than the limit of ${limit} characters; the file was not read further.`, line, column);
}

/** saxes reports "line:column: message"; turn it into a coded FileError at the parser's position. */
function saxesError(err: Error, parser: SaxesParser): FileError {
  const reason = err.message.replace(/^\d+:\d+: /, '');
  const line = parser.line;
  const column = parser.column;
  if (/doctype/i.test(reason)) return dtdError(line, column);
  if (/undefined entity|entity name/i.test(reason)) {
    return new FileError(
      'E_XML_ENTITY',
      `XML uses an entity that is not defined (line ${line}, column ${column}): only &amp; &lt; &gt; &quot; &apos; and character references are accepted.`,
      line,
      column,
    );
  }
  return new FileError('E_XML_MALFORMED', `The XML is not well-formed at line ${line}, column ${column}: ${reason}`, line, column);
}

interface Walker {
  /** Records known to be complete and well-formed. */
  out: XmlRecord[];
  /** Moves a just-closed record to `out` once parsing went on past its end tag without error. */
  commit(): void;
  /** What the document looks like along the record path, to say why a path matched nothing. */
  shape: PathShape;
}

/** Bounded: at most MAX_NAMES distinct names are counted per level. */
interface PathShape {
  /** Local name of the root element ('' before it is seen). */
  root: string;
  /** Children of the root element by local name. */
  top: Map<string, number>;
  /** Deepest d such that some element at depth d matched the first d steps. */
  matched: number;
  /** under[d] = children (by local name) of elements that matched the first d steps. */
  under: Map<string, number>[];
}

const MAX_NAMES = 20;

function countName(m: Map<string, number>, name: string): void {
  const n = m.get(name);
  if (n !== undefined) m.set(name, n + 1);
  else if (m.size < MAX_NAMES) m.set(name, 1);
}

function showNames(m: Map<string, number> | undefined): string {
  if (m === undefined || m.size === 0) return '(none)';
  return [...m].map(([n, c]) => (c > 1 ? `<${n}> ×${c}` : `<${n}>`)).join(', ');
}

/**
 * The record path matched no element: why, in terms of the document (the path stops matching
 * at one step; the elements that are there instead). Null when the path's container is there
 * but holds no elements at all: the file simply has no records.
 */
function pathMismatch(record: string, steps: Step[], shape: PathShape): FileError | null {
  const names = record.trim().replace(/^\/+/, '').split('/');
  const d = shape.matched;
  if (d === steps.length - 1 && (shape.under[d]?.size ?? 0) === 0 && d > 0) return null;
  // The local name is there but the namespace (or the prefix as written) is not the one the path asks for.
  const want = localName(names[d] ?? '');
  const otherNs = (d === 0 ? shape.root === want : shape.under[d]?.has(want) === true) ? ` (<${want}> is there, but not in the namespace or with the prefix "${names[d]}" asks for: check xml.namespaces, or write "*:${want}")` : '';
  const where =
    d === 0
      ? `the root element is <${shape.root}>, not <${names[0]}>${otherNs}`
      : `"${names.slice(0, d).join('/')}" is there, but it holds no <${names[d]}>${otherNs}; it holds ${showNames(shape.under[d])}`;
  return new FileError(
    'E_RECORD_PATH_NO_MATCH',
    `The mapping's record path (xml.record) "${record}" matches no element in this file: ${where}. ` +
      `The document's top elements are <${shape.root}> with ${showNames(shape.top)}. The mapping does not fit this file: correct xml.record (try it with lotgate mapping test).`,
  );
}

/** Wires saxes events to record building; returns the records found so far in `out`. */
function attachRecordBuilder(parser: SaxesParser, steps: Step[], limits: Required<XmlLimits>, ns?: Namespaces): Walker {
  const out: XmlRecord[] = [];
  // saxes calls the close-tag handler before it checks the end tag's name, so a record closed
  // by a mismatched tag would look complete. It waits here until the next event proves it.
  let justClosed: XmlRecord | undefined;
  const commit = (): void => {
    if (justClosed !== undefined) {
      out.push(justClosed);
      justClosed = undefined;
    }
  };
  const cache: PathCache = new Map();
  const depthOfRecord = steps.length;
  // prefixOk[d] = the open elements at depths 1..d match the first d steps of the record path.
  const prefixOk: boolean[] = [true];
  let depth = 0;
  let tagLine = 1;
  let stack: XmlNode[] = []; // open elements of the current record, record element first
  let recordLine = 0;
  let recordSize = 0;
  const shape: PathShape = { root: '', top: new Map(), matched: 0, under: [] };
  // Namespace URIs are only worked out when the mapping binds prefixes to URIs (xml.namespaces).
  const resolveUris = ns !== undefined && Object.keys(ns).length > 0;
  // scopes[d] = the xmlns declarations of the open element at depth d (null: none).
  const scopes: (Record<string, string> | null)[] = [];
  const uriOf = (prefix: string): string => {
    for (let d = depth; d >= 1; d--) {
      const s = scopes[d];
      if (s != null && Object.prototype.hasOwnProperty.call(s, prefix)) return s[prefix];
    }
    return prefix === 'xml' ? 'http://www.w3.org/XML/1998/namespace' : '';
  };

  // Text outside records is dropped, but the handler stays on so saxes keeps collecting every
  // text node where checkBuffers can see its size: a huge text node is refused wherever it is.
  const onText = (t: string): void => {
    commit();
    if (stack.length === 0) return;
    const node = stack[stack.length - 1];
    node.text += t;
    recordSize += t.length;
    if (node.text.length > limits.maxTextBytes) throw tooLarge(`The text of <${node.name}>`, limits.maxTextBytes, parser.line);
    if (recordSize > limits.maxRecordBytes) throw tooLarge(`The record starting at line ${recordLine}`, limits.maxRecordBytes, recordLine);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('opentagstart', () => {
    commit();
    tagLine = parser.line;
    if (depth + 1 > limits.maxDepth) {
      throw new FileError(
        'E_XML_TOO_DEEP',
        `XML elements are nested more than ${limits.maxDepth} levels deep at line ${parser.line}; the file was not read further.`,
        parser.line,
        parser.column,
      );
    }
  });

  parser.on('opentag', (tag: SaxesTagPlain) => {
    depth++;
    const name = localName(tag.name);
    const prefix = prefixOf(tag.name);
    let uri = '';
    if (resolveUris) {
      let decl: Record<string, string> | null = null;
      for (const q in tag.attributes) {
        if (q === 'xmlns') (decl ??= Object.create(null) as Record<string, string>)[''] = tag.attributes[q];
        else if (q.startsWith('xmlns:')) (decl ??= Object.create(null) as Record<string, string>)[q.slice(6)] = tag.attributes[q];
      }
      scopes[depth] = decl;
      uri = uriOf(prefix);
    }
    if (stack.length === 0) {
      if (depth === 1) shape.root = name;
      else if (depth === 2) countName(shape.top, name);
      if (prefixOk[depth - 1] === true && depth <= depthOfRecord) countName((shape.under[depth - 1] ??= new Map()), name);
      prefixOk[depth] = depth <= depthOfRecord && prefixOk[depth - 1] === true && stepMatches(steps[depth - 1], name, prefix, uri);
      if (prefixOk[depth] && depth > shape.matched) shape.matched = depth;
      if (depth !== depthOfRecord || !prefixOk[depth]) return;
      recordLine = tagLine;
      recordSize = 0;
    }
    let attrs: Record<string, string> | null = null;
    for (const q in tag.attributes) {
      if (q === 'xmlns' || q.startsWith('xmlns:')) continue;
      const v = tag.attributes[q];
      const local = localName(q);
      attrs ??= Object.create(null) as Record<string, string>;
      if (!(local in attrs)) attrs[local] = v;
      recordSize += local.length + v.length;
    }
    recordSize += name.length;
    if (recordSize > limits.maxRecordBytes) throw tooLarge(`The record starting at line ${recordLine}`, limits.maxRecordBytes, recordLine);
    const node: XmlNode = { name, prefix, uri, line: tagLine, attrs, text: '', children: [] };
    if (stack.length !== 0) stack[stack.length - 1].children.push(node);
    stack.push(node);
  });

  parser.on('closetag', () => {
    commit();
    if (resolveUris) scopes[depth] = null;
    depth--;
    if (stack.length === 0) return;
    const node = stack.pop() as XmlNode;
    if (stack.length === 0) {
      justClosed = new XmlRecordView(recordLine, node, cache, ns);
      stack = [];
    }
  });

  // Backstop: the prolog scanner throws first for any DOCTYPE before the root element.
  parser.on('doctype', () => {
    throw dtdError(parser.line, parser.column);
  });

  return { out, commit, shape };
}

function checkBuffers(parser: SaxesParser, limits: Required<XmlLimits>): void {
  const b = parser as unknown as SaxesBuffers;
  const max = limits.maxTextBytes;
  if (b.text.length > max) throw tooLarge('A text node, attribute value, comment or CDATA section', max, parser.line, parser.column);
  if (b.name.length > max || b.entity.length > max || b.piTarget.length > max) throw tooLarge('A name', max, parser.line, parser.column);
  if (b.attribList.length > 100_000) {
    throw new FileError('E_XML_TOO_LARGE', `An element at line ${parser.line} has more than 100000 attributes.`, parser.line, parser.column);
  }
}

function feed(parser: SaxesParser, walker: Walker, text: string | null, limits: Required<XmlLimits>): void {
  try {
    parser.write(text);
    walker.commit();
    if (text !== null) checkBuffers(parser, limits);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw saxesError(e as Error, parser);
  }
}

/**
 * Reads an XML file and yields the elements at `opts.record` (steps by local name from the root,
 * `*` any element, `a|b` alternatives) as records with relative-path accessors.
 * Throws FileError: E_XML_DTD (any DOCTYPE), E_XML_ENTITY, E_XML_MALFORMED, E_XML_TOO_DEEP,
 * E_XML_TOO_LARGE, E_XML_PATH (bad record path), E_EMPTY_FILE, E_BINARY, E_ENCODING.
 */
export async function* readXml(
  input: Readable | ByteSource,
  opts: XmlOptions,
  limits: XmlLimits = {},
  /** Called at the end of a document with the elements beside the records that the record path does not match (name → count). */
  onUnmatched?: (elements: Map<string, number>) => void,
): AsyncGenerator<XmlRecord> {
  const lim: Required<XmlLimits> = { ...DEFAULT_XML_LIMITS, ...stripUndefined(limits) };
  let steps: Step[];
  try {
    steps = compileRecordPath(opts.record, opts.namespaces);
  } catch (e) {
    await releaseInput(input as ByteSource);
    throw e;
  }
  const { head, source, close } = await peekBytes(input as ByteSource, 1024);
  try {
    const kind = sniffFormat(head);
    if (kind === 'pdf' || kind === 'binary') {
      const what = describeBinary(head);
      throw new FileError(
        'E_BINARY',
        `This does not look like a text file${what ? `: it is ${what}` : ''}. Send the data as an XML export.`,
      );
    }
    if (kind === 'text') {
      throw new FileError('E_XML_MALFORMED', 'This is not an XML file: it does not start with "<" (an XML declaration or the root element).', 1, 1);
    }
    const { encoding, declaredBy } = detectXmlEncoding(head);
    const parser = new SaxesParser({ position: true });
    const walker = attachRecordBuilder(parser, steps, lim, opts.namespaces);
    const prolog = new PrologScanner();
    let yielded = 0;

    try {
      for await (const text of decodeText(source, encoding, { declaredBy, fixHint: FIX_HINT })) {
        prolog.scan(text);
        for (let off = 0; off < text.length; off += PIECE) {
          feed(parser, walker, off === 0 && text.length <= PIECE ? text : text.slice(off, off + PIECE), lim);
        }
        if (walker.out.length !== 0) {
          yielded += walker.out.length;
          for (let k = 0; k < walker.out.length; k++) yield walker.out[k];
          walker.out.length = 0;
        }
      }
      feed(parser, walker, null, lim);
    } catch (e) {
      // Records completed before the error are still delivered, whatever the chunking was.
      const done = walker.out.splice(0);
      for (const r of done) yield r;
      throw e;
    }
    yielded += walker.out.length;
    for (let k = 0; k < walker.out.length; k++) yield walker.out[k];
    if (onUnmatched !== undefined) {
      const beside = new Map<string, number>();
      for (const [name, n] of walker.shape.under[steps.length - 1] ?? []) if (!stepMatches(steps[steps.length - 1], name)) beside.set(name, n);
      onUnmatched(beside);
    }
    if (yielded === 0 && walker.shape.root !== '') {
      const mismatch = pathMismatch(opts.record, steps, walker.shape);
      if (mismatch !== null) throw mismatch;
    }
  } finally {
    await close();
  }
}

function stripUndefined(l: XmlLimits): XmlLimits {
  const r: XmlLimits = {};
  if (l.maxDepth !== undefined) r.maxDepth = l.maxDepth;
  if (l.maxTextBytes !== undefined) r.maxTextBytes = l.maxTextBytes;
  if (l.maxRecordBytes !== undefined) r.maxRecordBytes = l.maxRecordBytes;
  return r;
}

export { DTD_MESSAGE };
