// What a partner sees at a path during a session: the files on disk, plus the uploads this
// session staged (not yet on disk under their name) and delivered (perhaps already taken by
// intake). Symlinks and odd files are nothing.

import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { resolvePath, type Area, type JailTarget } from './jail.js';
import type { EntryInfo } from './listing.js';
import type { SessionState, StagedUpload } from './session-state.js';

export function stagedEntry(s: StagedUpload): EntryInfo {
  return { name: s.name, isDir: false, size: s.result.size, mtimeMs: s.closedAt };
}

export class PartnerView {
  readonly dirs: Record<Area, string>;

  constructor(
    readonly partnerRoot: string,
    private readonly state: SessionState,
  ) {
    this.dirs = { inbound: join(partnerRoot, 'inbound'), outbound: join(partnerRoot, 'outbound') };
  }

  /** What a partner sees at a target, or null if nothing. */
  async lookup(t: JailTarget): Promise<EntryInfo | null> {
    if (t.kind === 'root') return { name: '/', isDir: true, size: 4096, mtimeMs: (await fsp.lstat(this.partnerRoot)).mtimeMs };
    if (t.kind === 'area') {
      const st = await fsp.lstat(this.dirs[t.area]);
      return st.isDirectory() ? { name: t.area, isDir: true, size: 4096, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs } : null;
    }
    if (t.area === 'inbound') {
      const s = this.state.staged(t.name);
      if (s) return stagedEntry(s);
    }
    try {
      const st = await fsp.lstat(join(this.dirs[t.area], t.name));
      if (!st.isFile()) return null;
      return { name: t.name, isDir: false, size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Delivered files may already have been picked up by intake; the partner still sees
      // what it uploaded in this session so "stat after put" checks pass.
      const d = t.area === 'inbound' ? this.state.delivered(t.name) : undefined;
      return d ? { name: t.name, isDir: false, size: d.size, mtimeMs: d.mtimeMs } : null;
    }
  }

  exists(area: Area, name: string): Promise<boolean> {
    return this.lookup({ kind: 'file', area, name }).then((e) => e !== null);
  }

  async list(t: JailTarget): Promise<EntryInfo[]> {
    if (t.kind === 'root') {
      const out: EntryInfo[] = [];
      for (const area of ['inbound', 'outbound'] as const) {
        const e = await this.lookup({ kind: 'area', area });
        if (e) out.push(e);
      }
      return out;
    }
    if (t.kind !== 'area') throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    const dir = this.dirs[t.area];
    const out: EntryInfo[] = [];
    for (const d of await fsp.readdir(dir, { withFileTypes: true })) {
      // Only plain files with names a partner could address; never temp files or symlinks.
      if (!d.isFile() || resolvePath(`/${t.area}/${d.name}`).ok === false) continue;
      try {
        const st = await fsp.lstat(join(dir, d.name));
        if (st.isFile()) out.push({ name: d.name, isDir: false, size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs });
      } catch {
        // Picked up by intake between readdir and lstat: it is simply gone.
      }
    }
    if (t.area === 'inbound') for (const s of this.state.stagedUploads()) out.push(stagedEntry(s));
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }
}
