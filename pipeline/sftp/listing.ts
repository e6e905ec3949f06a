// What a partner sees in a directory listing or a stat: SFTP attributes and the `ls -l` style
// `longname` that OpenSSH's `sftp ls -l` and FileZilla print verbatim. Pure.

import type { Attributes } from 'ssh2';

export interface EntryInfo {
  name: string;
  isDir: boolean;
  size: number;
  mtimeMs: number;
  atimeMs?: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
// Partners get a uniform, honest-enough view: folders 755, files 644. Real owners and modes on
// the server are none of their business.
const DIR_MODE = S_IFDIR | 0o755;
const FILE_MODE = S_IFREG | 0o644;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HALF_YEAR_MS = (365 * 24 * 3600 * 1000) / 2;

export function toAttrs(e: EntryInfo): Attributes {
  return {
    mode: e.isDir ? DIR_MODE : FILE_MODE,
    // uid/gid are part of the SFTP v3 attribute block; 0 says nothing about the server.
    uid: 0,
    gid: 0,
    size: e.size,
    atime: Math.floor((e.atimeMs ?? e.mtimeMs) / 1000),
    mtime: Math.floor(e.mtimeMs / 1000),
  };
}

function modeString(isDir: boolean): string {
  return isDir ? 'drwxr-xr-x' : '-rw-r--r--';
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `%b %e %H:%M` for recent files, `%b %e  %Y` otherwise — what `ls -l` and OpenSSH print. */
export function lsDate(mtimeMs: number, nowMs: number): string {
  const d = new Date(mtimeMs);
  const mon = MONTHS[d.getMonth()];
  const day = String(d.getDate()).padStart(2, ' ');
  const recent = nowMs - HALF_YEAR_MS < mtimeMs && mtimeMs <= nowMs;
  return recent ? `${mon} ${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}` : `${mon} ${day}  ${d.getFullYear()}`;
}

function col(s: string, width: number): string {
  // `%-8.8s`: left-aligned, truncated to 8, as OpenSSH's ls_file does.
  return s.slice(0, width).padEnd(width, ' ');
}

/** One `ls -l` line in OpenSSH sftp-server's exact layout. */
export function longname(e: EntryInfo, owner: string, nowMs: number): string {
  const nlink = String(e.isDir ? 2 : 1).padStart(3, ' ');
  const size = String(e.size).padStart(8, ' ');
  return `${modeString(e.isDir)}  ${nlink} ${col(owner, 8)} ${col(owner, 8)} ${size} ${lsDate(e.mtimeMs, nowMs)} ${e.name}`;
}
