// The partner's view of the drop zone, as pure functions of the path a client sends.
//
// A partner sees exactly this tree, rooted at `/`:
//   /            (root, list only)
//   /inbound     (upload here; may be listed, files may not be read back)
//   /outbound    (acknowledgments; read only)
// and plain files directly inside the two folders. Nothing else exists for a partner. The home
// (REALPATH of `.`) is `/`; a plain name directly under `/` stands for that name in /inbound, so
// `put file.csv` from the home uploads into /inbound while `cd inbound`, `ls outbound` and
// `get outbound/x.ack.json` work as they always did.
// Every path is decided here before any file system call is made, so `..` above `/`, symlinks,
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
  | 'E_PATH_DENIED' // syntactically a path, but one we refuse (`..` above `/`, `//`, hidden names)
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

function fromSegments(segs: string[], input: string): JailResult {
  if (segs.length === 0) return { ok: true, target: { kind: 'root' }, virtual: '/' };
  const [first, second] = segs;
  if (segs.length === 1 && isArea(first)) return { ok: true, target: { kind: 'area', area: first }, virtual: `/${first}` };
  // A plain name at the top (`put file.csv` from the home folder) is that name in /inbound.
  const [area, name] = segs.length === 1 ? (['inbound', first] as const) : [first, second];
  if (!isArea(area)) return fail('E_PATH_NOT_FOUND', 'no such file or directory', input);
  const bad = checkFileName(name);
  if (bad) return { ok: false, error: { ...bad, path: input } };
  return { ok: true, target: { kind: 'file', area, name }, virtual: `/${area}/${name}` };
}

function walk(input: string, mode: 'request' | 'realpath'): JailResult {
  const bad = checkRaw(input);
  if (bad) return { ok: false, error: bad };
  const parts = input.split('/');
  // A leading `/` and one trailing `/` are fine; an empty segment anywhere else is `//`.
  const last = parts.length - 1;
  if (mode === 'request' && parts.some((s, i) => s === '' && i > 0 && i < last)) return fail('E_PATH_DENIED', 'empty path segment ("//")', input);
  const segs: string[] = [];
  let afterFile = false;
  for (const s of parts) {
    if (afterFile) return fail('E_PATH_NOT_FOUND', 'not a directory (there are no sub-folders)', input);
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segs.length === 0 && mode === 'request') return fail('E_PATH_DENIED', 'the path goes above "/", outside your folders', input);
      segs.pop();
      continue;
    }
    segs.push(s);
    afterFile = segs.length === 2 || !isArea(segs[0]);
  }
  return fromSegments(segs, input);
}

/**
 * Resolution for every request that touches a file or folder, as a POSIX server would resolve
 * it (OpenSSH's sftp-server), without touching the disk: relative paths start at `/` (the home),
 * `.` segments vanish and `..` goes up one level (lftp's `cd inbound` stats `/inbound/.`).
 * Only root and the two folders are directories, so anything after a file name (`x.csv/`,
 * `x.csv/..`) is "not a directory". A `..` above `/` tries to leave the tree and is refused, as
 * are empty segments (`//`).
 */
export function resolvePath(input: string): JailResult {
  return walk(input, 'request');
}

/**
 * REALPATH: the same resolution, except that `..` stops at `/` as in a chroot (so `cd ..` at the
 * top stays at `/`) and empty segments vanish. Canonicalizing grants nothing: the result is an ordinary virtual path that
 * every other request still resolves with resolvePath.
 */
export function canonicalize(input: string): JailResult {
  return walk(input, 'realpath');
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
