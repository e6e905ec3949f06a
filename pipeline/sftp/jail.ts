// The partner's view of the drop zone, as pure functions of the path a client sends.
//
// A partner sees exactly this tree, rooted at `/`:
//   /            (root, list only)
//   /inbound     (upload here; may be listed, files may not be read back)
//   /outbound    (acknowledgments; read only)
// and plain files directly inside the two folders. Nothing else exists for a partner.
// Every path is decided here before any file system call is made, so `..`, symlinks,
// another partner's folder or our own hidden temp files can never be named by a client.

import { join } from 'node:path';

export type Area = 'inbound' | 'outbound';
export const AREAS: readonly Area[] = ['inbound', 'outbound'];

export type JailTarget =
  | { kind: 'root' }
  | { kind: 'area'; area: Area }
  | { kind: 'file'; area: Area; name: string };

export type JailErrorCode =
  | 'E_PATH_INVALID' // bytes no file name may contain (NUL, control, backslash, bidi overrides), too long
  | 'E_PATH_DENIED' // syntactically a path, but one we refuse (`..`, `//`, hidden names)
  | 'E_PATH_NOT_FOUND'; // outside the partner's tree: simply does not exist for them

export interface JailError {
  code: JailErrorCode;
  message: string;
  path: string;
}

export type JailResult = { ok: true; target: JailTarget; virtual: string } | { ok: false; error: JailError };

/** POSIX NAME_MAX on every file system we care about. */
export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 1024;

// C0/C1 controls, DEL, bidi embedding/override/isolate marks (they make `evil‮vsc.exe` look like
// `evilexe.csv` in a listing), and U+FFFD, which is what invalid UTF-8 from the wire decodes to:
// a name we cannot represent faithfully is refused rather than silently altered.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200e\u200f\ufffd\\]/u;

function fail(code: JailErrorCode, message: string, path: string): JailResult {
  return { ok: false, error: { code, message, path } };
}

function isArea(s: string): s is Area {
  return s === 'inbound' || s === 'outbound';
}

/** Is `name` acceptable as a plain file name inside /inbound or /outbound? null when it is. */
export function checkFileName(name: string): JailError | null {
  if (name.length === 0) return { code: 'E_PATH_INVALID', message: 'empty file name', path: name };
  if (FORBIDDEN_CHARS.test(name)) {
    return { code: 'E_PATH_INVALID', message: 'file name contains control, bidi or undecodable characters or a backslash', path: name };
  }
  if (name.includes('/')) return { code: 'E_PATH_INVALID', message: 'file name contains "/"', path: name };
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    return { code: 'E_PATH_INVALID', message: `file name longer than ${MAX_NAME_BYTES} bytes`, path: name };
  }
  // Leading dots are reserved: they are our temp files, and `.`/`..` are never names.
  if (name.startsWith('.')) return { code: 'E_PATH_DENIED', message: 'names starting with "." are reserved', path: name };
  return null;
}

function checkRaw(input: string): JailError | null {
  if (Buffer.byteLength(input, 'utf8') > MAX_PATH_BYTES) {
    return { code: 'E_PATH_INVALID', message: `path longer than ${MAX_PATH_BYTES} bytes`, path: input };
  }
  if (FORBIDDEN_CHARS.test(input)) {
    return { code: 'E_PATH_INVALID', message: 'path contains control, bidi or undecodable characters or a backslash', path: input };
  }
  return null;
}

function fromSegments(segs: string[], input: string, trailingSlash: boolean): JailResult {
  if (segs.length === 0) return { ok: true, target: { kind: 'root' }, virtual: '/' };
  const [first, second] = segs;
  if (!isArea(first)) return fail('E_PATH_NOT_FOUND', 'no such file or directory', input);
  if (segs.length === 1) return { ok: true, target: { kind: 'area', area: first }, virtual: `/${first}` };
  if (segs.length > 2) return fail('E_PATH_NOT_FOUND', 'no such file or directory (there are no sub-folders)', input);
  const bad = checkFileName(second);
  if (bad) return { ok: false, error: { ...bad, path: input } };
  if (trailingSlash) return fail('E_PATH_NOT_FOUND', 'not a directory', input);
  return { ok: true, target: { kind: 'file', area: first, name: second }, virtual: `/${first}/${second}` };
}

/**
 * Strict resolution, used for every request that touches a file or folder.
 * Relative paths are taken from `/` (the session's only working directory). `.`/`..`
 * segments and empty segments (`//`) are refused outright rather than interpreted.
 */
export function resolvePath(input: string): JailResult {
  const bad = checkRaw(input);
  if (bad) return { ok: false, error: bad };
  if (input === '' || input === '.' || input === '/') return { ok: true, target: { kind: 'root' }, virtual: '/' };
  let p = input.startsWith('/') ? input.slice(1) : input;
  const trailingSlash = p.endsWith('/');
  if (trailingSlash) p = p.slice(0, -1);
  const segs = p.split('/');
  for (const s of segs) {
    if (s === '') return fail('E_PATH_DENIED', 'empty path segment ("//")', input);
    if (s === '.' || s === '..') return fail('E_PATH_DENIED', 'relative segments ("." and "..") are not allowed', input);
  }
  return fromSegments(segs, input, trailingSlash);
}

/**
 * Lexical canonicalization for REALPATH only: `.` and empty segments vanish, `..` pops and
 * stops at `/` (as in a chroot), so `cd ..` from /inbound lands on `/`. Canonicalizing grants
 * nothing: the result is an ordinary virtual path that every other request still resolves
 * strictly, and a path that leaves the partner's tree comes back E_PATH_NOT_FOUND.
 */
export function canonicalize(input: string): JailResult {
  const bad = checkRaw(input);
  if (bad) return { ok: false, error: bad };
  const out: string[] = [];
  for (const s of input.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return fromSegments(out, input, false);
}

/** The real location of a target, given the partner's folder `<dropDir>/<partner>`. */
export function realPathOf(partnerRoot: string, target: JailTarget): string {
  switch (target.kind) {
    case 'root':
      return partnerRoot;
    case 'area':
      return join(partnerRoot, target.area);
    case 'file':
      return join(partnerRoot, target.area, target.name);
  }
}

/** Partner ids double as SFTP user names and as folder names under dropDir. */
const PARTNER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function isValidPartnerId(id: string): boolean {
  return PARTNER_ID.test(id) && !id.includes('..');
}
